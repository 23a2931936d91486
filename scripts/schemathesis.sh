#!/usr/bin/env bash
# Fuzzes the HTTP API of a live ledgerd against its own OpenAPI document (GET /openapi.json) with
# schemathesis (https://schemathesis.io): every operation, positive and negative inputs, with and
# without the operator credential. Fails on any 5xx, any response whose status, content type,
# headers or body the document does not allow, any schema-invalid request the server accepts, and
# any panic in ledgerd's log.
#
#   scripts/schemathesis.sh                   bounded run (CI): 100 examples per operation
#   scripts/schemathesis.sh --long            1000 examples per operation, stateful phase included
#   scripts/schemathesis.sh --max-examples N  N examples per operation
#   scripts/schemathesis.sh --max-time S      a time budget: keep generating (fuzzing repeats) for S seconds
#   scripts/schemathesis.sh --release         test a release build (default: debug)
#   scripts/schemathesis.sh --seed N          reproduce a run
#   scripts/schemathesis.sh -- ARGS...        pass ARGS on to `st run` (e.g. -- --checks all)
#
# Needs `schemathesis` on PATH (pip install schemathesis). The ledger runs on a free loopback
# port with a database in a temp dir, as instance acme-prod-eu1 under the SPEC §2 test vector's
# master key, so the document's examples (the test vector pair) are a registrable credential.
# Reports (JUnit, and the failures as a pytest file) go to target/schemathesis/.
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples=100
max_time=""
profile=debug
seed=""
extra=()
phases="examples,coverage,fuzzing"
while [ $# -gt 0 ]; do
    case "$1" in
        --long) max_examples=1000; phases="examples,coverage,fuzzing,stateful" ;;
        --max-examples) max_examples="$2"; shift ;;
        --max-time) max_time="$2"; shift ;;
        --release) profile=release ;;
        --seed) seed="$2"; shift ;;
        --) shift; extra=("$@"); break ;;
        -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# `st` when it is on PATH, else the module (a fresh pip install may not have put `st` there yet).
if command -v st >/dev/null; then
    st=(st)
elif python3 -c 'import schemathesis' 2>/dev/null; then
    st=(python3 -m schemathesis.cli)
else
    echo "error: schemathesis is not installed; run: pip install schemathesis" >&2
    exit 2
fi

build=()
[ "$profile" = release ] && build=(--release)
cargo build --quiet "${build[@]}" --bin ledgerd --bin etctl
target="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$target/$profile"
reports="$target/schemathesis"
mkdir -p "$reports"

work="$(mktemp -d)"
ledgerd_pid=""
cleanup() {
    if [ -n "$ledgerd_pid" ]; then
        kill "$ledgerd_pid" 2>/dev/null || true
        wait "$ledgerd_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# etctl with a throwaway home, no keyring, and the test vector's master key.
export HOME="$work" XDG_CONFIG_HOME="$work/.config" ETCTL_KEYRING=off
unset ETCTL_URL ETCTL_API_KEY ETCTL_API_SECRET ETCTL_PROFILE ETCTL_DB
export ETCTL_VENDOR_KEY_FILE="$work/vendor.key"
(umask 077 && echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f >"$ETCTL_VENDOR_KEY_FILE")
instance=acme-prod-eu1

# Rate limits off: the run makes thousands of failed authentications from one address on purpose.
env -u LEDGERD_INSTANCE_KEY_FILE \
    LEDGERD_LISTEN=127.0.0.1:0 LEDGERD_DB="$work/ledger.db" LEDGERD_INSTANCE_ID="$instance" \
    LEDGERD_INSTANCE_KEY="$("$bin/etctl" vendor instance-key "$instance")" \
    LEDGERD_AUTH_FAILURE_LIMIT=off LEDGERD_REGISTRATION_LIMIT=off RUST_LOG=info LEDGERD_LOG_FORMAT=text \
    "$bin/ledgerd" 2>"$work/ledgerd.log" &
ledgerd_pid=$!
url=""
for _ in $(seq 200); do
    url="$(grep -o 'listening on http://[0-9.:]*' "$work/ledgerd.log" | head -1 | sed 's/listening on //' || true)"
    [ -n "$url" ] && break
    kill -0 "$ledgerd_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "error: ledgerd did not start; its log:" >&2
    cat "$work/ledgerd.log" >&2
    exit 1
fi

# The operator credential schemathesis authenticates with: minted, then registered through etctl.
eval "$("$bin/etctl" generate --instance "$instance" --format env)"
printf %s "$ETCTL_API_SECRET" | ETCTL_URL="$url" "$bin/etctl" register "$ETCTL_API_KEY" --label schemathesis
operator_key="$ETCTL_API_KEY"
operator_secret="$ETCTL_API_SECRET"
unset ETCTL_API_KEY ETCTL_API_SECRET

args=(
    run "$url/openapi.json"
    --header "X-Api-Key: $operator_key"
    --header "X-Api-Secret: $operator_secret"
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection
    --phases "$phases"
    --max-examples "$max_examples"
    --workers 2
    --request-timeout 10
    --no-color
    --report junit,pytest
    --report-dir "$reports"
    --generation-database none
)
[ -n "$max_time" ] && args+=(--max-time "$max_time")
[ -n "$seed" ] && args+=(--seed "$seed")
args+=("${extra[@]}")

echo "== schemathesis against ledgerd at $url ($profile build; phases $phases; $max_examples examples per operation${max_time:+; a ${max_time} s budget})"
start=$SECONDS
status=0
# From the temp dir: schemathesis keeps a cache of failures in ./.schemathesis/.
(cd "$work" && "${st[@]}" "${args[@]}") || status=$?
echo "== schemathesis finished in $((SECONDS - start))s with status $status"

# Whatever schemathesis saw, ledgerd must not have panicked or logged a 5xx.
if grep -E 'panicked|status=5[0-9][0-9]|"status":5[0-9][0-9]' "$work/ledgerd.log" >"$work/bad.log"; then
    echo "error: ledgerd logged a panic or a 5xx during the run:" >&2
    head -20 "$work/bad.log" >&2
    status=1
fi
if ! kill -0 "$ledgerd_pid" 2>/dev/null; then
    echo "error: ledgerd exited during the run" >&2
    status=1
fi
exit "$status"
