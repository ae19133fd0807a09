#!/usr/bin/env bash
# Instructions per delivery of the in-process bus bench, and the ratio
# baseline / variant, by callgrind: for each variant and consumer count, a
# run of BATCHES batches minus a run of 0 batches (same setup), divided by
# the deliveries (2,000 events x consumers).
#
#   bench/bus-profile/run.sh <bench-binary> [consumers...]
#
# Build the binary with
#   CARGO_INCREMENTAL=0 CARGO_PROFILE_BENCH_DEBUG=line-tables-only \
#     cargo bench -p event-delivery --bench bus --no-run
# Variants: VARIANTS (default: baseline_mpsc_envelope bus_no_store
# bus_in_memory_store); the first is the one the ratios are against.
# OUT (default /tmp/bus-profile) keeps the callgrind files for
# callgrind_annotate.
set -euo pipefail
bin=${1:?usage: run.sh <bench-binary> [consumers...]}
shift
consumers=${*:-1 5 20}
variants=${VARIANTS:-baseline_mpsc_envelope bus_no_store bus_in_memory_store}
batches=${BATCHES:-2}
out=${OUT:-/tmp/bus-profile}
mkdir -p "$out"
total() { # variant consumers batches -> Ir
  local f="$out/$1-$2-$3.cg"
  BUS_PROFILE="$1:$2:$3" valgrind --tool=callgrind --callgrind-out-file="$f" "$bin" \
    >/dev/null 2>"$f.log"
  awk '/^summary:/ {print $2}' "$f"
}
for n in $consumers; do
  base=""
  for v in $variants; do
    with=$(total "$v" "$n" "$batches")
    without=$(total "$v" "$n" 0)
    per=$(( (with - without) / (batches * 2000 * n) ))
    [ -z "$base" ] && base=$per
    ratio=$(awk -v b="$base" -v p="$per" 'BEGIN { printf "%.3f", b / p }')
    echo "consumers=$n variant=$v instructions_per_delivery=$per ratio=$ratio"
  done
done
