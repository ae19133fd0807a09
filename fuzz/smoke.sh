#!/usr/bin/env bash
# Builds every fuzz target and runs each for a short while on a copy of its
# seed corpus. A crash fails the run and leaves the input in fuzz/artifacts/.
#
#   fuzz/smoke.sh            # 20 s a target
#   fuzz/smoke.sh 900        # 15 minutes a target
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-20}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# cargo-fuzz passes unstable flags to rustc; RUSTC_BOOTSTRAP lets the stable
# toolchain accept them. The code under test has no `unsafe`, so the targets
# build without a sanitizer, which runs them about twice as fast.
export RUSTC_BOOTSTRAP=1
cargo fuzz build --sanitizer none

mkdir -p artifacts
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for target in $(cargo fuzz list); do
  mkdir -p "$work/$target"
  cp corpus/"$target"/seed-* "$work/$target"/
  echo "== fuzz $target (${seconds} s)"
  cargo fuzz run --sanitizer none "$target" "$work/$target" -- \
    -max_total_time="$seconds" -artifact_prefix="artifacts/$target-" 2>&1 \
    | grep -E '^(Done|==[0-9]+== ERROR|SUMMARY)|panicked' || true
  if ls artifacts/"$target"-* >/dev/null 2>&1; then
    echo "fuzz target $target crashed; the input is in fuzz/$(ls artifacts/"$target"-* | head -1)" >&2
    exit 1
  fi
done
