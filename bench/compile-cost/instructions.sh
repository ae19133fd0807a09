#!/usr/bin/env bash
# rustc's instruction count for `cargo check` of crates that
# bench/compile-cost/run.sh wrote (issue 14): a figure that does not move
# with the machine's load, unlike CPU time.
#
#   WORK=/tmp/cc bench/compile-cost/run.sh 10      # writes the crates
#   bench/compile-cost/instructions.sh /tmp/cc generated-10 plain-10
#
# For each crate (a directory under WORK), the rustc command line that
# `cargo check -v` runs for the crate alone is run again under
# `valgrind --tool=cachegrind --cache-sim=no`, and its `I refs` printed.
# The dependencies are checked first by that same `cargo check`.
# RUSTC_BOOTSTRAP=1 lets a crate made by stub-parts.py (an expanded crate
# with `#![feature]`s) compile on a stable toolchain.
set -euo pipefail

WORK=$1
shift
export CARGO_TARGET_DIR="$WORK/target" CARGO_INCREMENTAL=0 RUSTC_BOOTSTRAP=1
for name in "$@"; do
    dir="$WORK/$name"
    touch "$dir/src/lib.rs"
    cmd=$(cargo check -v --manifest-path "$dir/Cargo.toml" 2>&1 |
        grep -E 'Running `.*rustc --crate-name' | tail -1 |
        sed -e 's/^ *Running `//' -e 's/`$//')
    if [[ -z $cmd ]]; then
        echo "cargo check of $dir ran no rustc (or failed)" >&2
        exit 1
    fi
    refs=$(cd "$dir" && eval "valgrind --tool=cachegrind --cache-sim=no \
        --cachegrind-out-file=/dev/null $cmd" 2>&1 |
        awk '/I *refs/ { gsub(",", "", $NF); print $NF }')
    printf '%-24s %15s instructions\n' "$name" "$refs"
done
