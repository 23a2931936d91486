#!/bin/sh
# Installs etctl and ledgerd as a package would: the two binaries, their man pages, etctl's shell
# completions where bash-completion, zsh and fish look for them, and a hardened systemd unit for
# ledgerd with an example configuration. Nothing in /etc is written, and no service is started.
#
#   cargo build --release --bin etctl --bin ledgerd
#   sudo scripts/install.sh                       # into /usr/local
#   PREFIX=/usr DESTDIR=/tmp/pkg scripts/install.sh   # staged, for a distribution package
#
# Variables: PREFIX (/usr/local), DESTDIR (empty), BUILD_DIR (the built binaries:
# ${CARGO_TARGET_DIR:-target}/release), and BINDIR, MANDIR, BASH_COMPLETION_DIR,
# ZSH_COMPLETION_DIR, FISH_COMPLETION_DIR, SYSTEMD_UNIT_DIR, DOCDIR to place each part elsewhere.
set -eu
cd "$(dirname "$0")/.."

PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
BUILD_DIR=${BUILD_DIR:-${CARGO_TARGET_DIR:-target}/release}
BINDIR=${BINDIR:-$PREFIX/bin}
MANDIR=${MANDIR:-$PREFIX/share/man}
BASH_COMPLETION_DIR=${BASH_COMPLETION_DIR:-$PREFIX/share/bash-completion/completions}
# zsh's default fpath has /usr/local/share/zsh/site-functions; Debian's zsh adds
# /usr/share/zsh/vendor-completions for packaged files.
if [ "$PREFIX" = /usr ]; then
    ZSH_COMPLETION_DIR=${ZSH_COMPLETION_DIR:-/usr/share/zsh/vendor-completions}
else
    ZSH_COMPLETION_DIR=${ZSH_COMPLETION_DIR:-$PREFIX/share/zsh/site-functions}
fi
FISH_COMPLETION_DIR=${FISH_COMPLETION_DIR:-$PREFIX/share/fish/vendor_completions.d}
# systemd reads units from /usr/local/lib/systemd/system and /usr/lib/systemd/system.
SYSTEMD_UNIT_DIR=${SYSTEMD_UNIT_DIR:-$PREFIX/lib/systemd/system}
DOCDIR=${DOCDIR:-$PREFIX/share/doc/etctl-ledgerd}

for bin in etctl ledgerd; do
    if [ ! -x "$BUILD_DIR/$bin" ]; then
        echo "error: $BUILD_DIR/$bin is missing; build it first with \`cargo build --release --bin etctl --bin ledgerd\` (or set BUILD_DIR)" >&2
        exit 1
    fi
done

put() { # put MODE SOURCE DEST
    install -D -m "$1" "$2" "$DESTDIR$3"
    echo "installed $DESTDIR$3"
}

put 755 "$BUILD_DIR/etctl" "$BINDIR/etctl"
put 755 "$BUILD_DIR/ledgerd" "$BINDIR/ledgerd"
for page in man/*.1; do
    put 644 "$page" "$MANDIR/man1/$(basename "$page")"
done
put 644 completions/etctl.bash "$BASH_COMPLETION_DIR/etctl"
put 644 completions/etctl.zsh "$ZSH_COMPLETION_DIR/_etctl"
put 644 completions/etctl.fish "$FISH_COMPLETION_DIR/etctl.fish"
unit=$(mktemp)
trap 'rm -f "$unit"' EXIT
sed "s|@BINDIR@|$BINDIR|g" packaging/ledgerd.service > "$unit"
put 644 "$unit" "$SYSTEMD_UNIT_DIR/ledgerd.service"
put 644 packaging/ledgerd.env.example "$DOCDIR/ledgerd.env.example"
put 644 packaging/nginx-ledgerd.conf "$DOCDIR/nginx-ledgerd.conf"
put 644 README.md "$DOCDIR/README.md"
put 644 crates/etctl-cli/EXIT_CODES.md "$DOCDIR/EXIT_CODES.md"

cat <<DONE

Next, for the ledger service:
  mkdir -p /etc/ledgerd && cp $DOCDIR/ledgerd.env.example /etc/ledgerd/ledgerd.env   # then edit it
  etctl vendor instance-key INSTANCE --output /etc/ledgerd/instance.key               # on the vendor's side
  systemctl daemon-reload && systemctl enable --now ledgerd
DONE
