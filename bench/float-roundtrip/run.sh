#!/usr/bin/env bash
# The cost of serde_json's `float_roundtrip` feature: instructions to parse
# and re-encode a document of 200 floats, 1,000 times, with and without the
# feature, counted by callgrind (repeatable whatever else runs).
#
#   bench/float-roundtrip/run.sh
set -euo pipefail
cd "$(dirname "$0")"
n=1000
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
cargo build --release -q --target-dir target/plain
cargo build --release -q --target-dir target/roundtrip --features roundtrip
plain_bin=target/plain/release/float-roundtrip-bench
round_bin=target/roundtrip/release/float-roundtrip-bench
echo "without float_roundtrip: $($plain_bin $n)"
echo "with float_roundtrip:    $($round_bin $n)"
base0=$(count $plain_bin 0); base=$(count $plain_bin $n)
with0=$(count $round_bin 0); with=$(count $round_bin $n)
plain=$((base - base0)); round=$((with - with0))
echo "instructions per round trip: without $((plain / n)), with $((round / n))"
awk -v a="$round" -v b="$plain" 'BEGIN { printf "ratio with / without: %.3f\n", a / b }'
