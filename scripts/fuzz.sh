#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ for a bounded time each (libFuzzer, AddressSanitizer).
#
#   scripts/fuzz.sh                   every target for 30 s
#   scripts/fuzz.sh 20                every target for 20 s (what .ci/run does)
#   scripts/fuzz.sh 3600 api_key      one target for an hour
#   scripts/fuzz.sh --list            the targets
#
# Targets: api_key (ApiKey::parse), api_secret (ApiSecret::parse), key_material (InstanceId::parse,
# MasterKey/InstanceKey/SecretHash::from_hex), register_body (the POST /credentials body decoding),
# list_query (the GET /credentials query decoding). Each starts from the seeds in fuzz/seeds/
# (built from the SPEC §2 test vector) plus what earlier runs kept in fuzz/corpus/ (not committed).
#
# A crash stops that target, leaves its input in fuzz/artifacts/<target>/ and makes the script
# exit non-zero; reproduce it with `cargo fuzz run <target> <file>` in fuzz/, then turn it into a
# regression test in the crate at fault (et-core's or ledgerd-server's tests).
#
# Needs cargo-fuzz (installed if missing) and nightly compiler flags: the default (stable)
# toolchain is used with RUSTC_BOOTSTRAP=1, or FUZZ_TOOLCHAIN=nightly. FUZZ_SANITIZER=none skips
# ASan. FUZZ_PROFILE=dev builds without optimisation (with overflow checks): about a third of the
# build time of the default optimised build, for short runs such as CI's; long runs want the default.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

targets=(api_key api_secret key_material register_body list_query)
seconds=30
if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "${targets[@]}"
    exit 0
fi
if [ $# -gt 0 ]; then
    seconds="$1"
    shift
fi
[ $# -gt 0 ] && targets=("$@")
sanitizer="${FUZZ_SANITIZER:-address}"

if ! command -v cargo-fuzz >/dev/null; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi
toolchain=()
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    toolchain=("+$FUZZ_TOOLCHAIN")
else
    export RUSTC_BOOTSTRAP=1
fi
build=(--sanitizer "$sanitizer")
[ "${FUZZ_PROFILE:-release}" = dev ] && build+=(--dev)

echo "== building ${#targets[@]} fuzz targets (sanitizer $sanitizer, ${FUZZ_PROFILE:-release} build, toolchain ${toolchain[*]:-default with RUSTC_BOOTSTRAP=1})"
start=$SECONDS
for target in "${targets[@]}"; do
    if ! cargo "${toolchain[@]}" fuzz build "${build[@]}" "$target" >"${TMPDIR:-/tmp}/fuzz-build.log" 2>&1; then
        grep -vE '^\s*(Compiling|Downloaded|Downloading)' "${TMPDIR:-/tmp}/fuzz-build.log" >&2
        echo "error: building the fuzz target $target failed" >&2
        exit 1
    fi
done
echo "== built in $((SECONDS - start)) s"

status=0
summary=()
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    log="$(mktemp)"
    echo "== $target: ${seconds} s"
    if cargo "${toolchain[@]}" fuzz run "${build[@]}" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
        >"$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
        grep -E 'panicked|ERROR|SUMMARY|Test unit written|artifact_prefix' "$log" | head -20 || true
    fi
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
    cov="$(grep -oE '#[0-9]+.*cov: [0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || true)"
    corpus="$(find "corpus/$target" -type f | wc -l)"
    summary+=("$(printf '%-14s %-5s %10s runs  coverage %5s  corpus %5s' "$target" "$result" "${runs:-?}" "${cov:-?}" "$corpus")")
    rm -f "$log"
done

echo "== summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
if [ "$status" -ne 0 ]; then
    echo "error: a fuzz target crashed; the input is in fuzz/artifacts/<target>/ (reproduce: cd fuzz && cargo fuzz run <target> <file>)" >&2
fi
exit "$status"
