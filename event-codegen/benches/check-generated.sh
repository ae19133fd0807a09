#!/usr/bin/env bash
# Times `cargo check` of the code generated from the synthetic catalog of
# 1,000 event schemas (benches/synth.rs), in a throwaway crate outside the
# workspace that depends on event-runtime by path. Dependencies are checked
# first, so the figure is the generated crate alone.
#
#   bash event-codegen/benches/check-generated.sh [count]
set -euo pipefail
count="${1:-1000}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p event-codegen --bin event-codegen --example synth_catalog
"$target/release/examples/synth_catalog" "$work/schemas" "$count" >/dev/null
"$target/release/event-codegen" generate "$work/schemas" --out "$work/crate/src" --file-name events.rs --color never | tail -2
cat > "$work/crate/Cargo.toml" <<TOML
[package]
name = "generated-catalog"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
event-runtime = { path = "$root/event-runtime" }

[workspace]
TOML
printf '#![deny(warnings)]\ninclude!("events.rs");\n' > "$work/crate/src/lib.rs"
cp "$root/Cargo.lock" "$work/crate/Cargo.lock"
export CARGO_TARGET_DIR="$work/target"
# Dependencies first: an empty crate with the same dependencies.
mv "$work/crate/src/lib.rs" "$work/lib.rs"
printf '' > "$work/crate/src/lib.rs"
cargo check --quiet --manifest-path "$work/crate/Cargo.toml"
mv "$work/lib.rs" "$work/crate/src/lib.rs"
# mv keeps the old mtime, which cargo would take for "unchanged".
touch "$work/crate/src/lib.rs"
start=$(date +%s.%N)
cargo check --manifest-path "$work/crate/Cargo.toml" 2>&1 | grep -E "Checking generated-catalog|^error|^warning" || true
end=$(date +%s.%N)
echo "cargo check of $count generated events: $(echo "$end - $start" | bc) s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
