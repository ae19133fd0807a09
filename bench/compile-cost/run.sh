#!/usr/bin/env bash
# Compile cost of a generated catalog against plain serde types of the same
# shapes (issue 14).
#
# For each size N (default 100, 400 and 1000 events) this writes, into a
# work directory outside the workspace:
#
#   generated-N  the synthetic catalog of event-codegen/benches/synth.rs
#                (N event schemas), as `event-codegen generate` writes it:
#                per event a `#[derive(Event)]` struct, an `OpenEnum` and an
#                `EventData` struct, plus the catalog and service enums;
#   plain-N      the same 3 N types as plain `#[derive(Serialize,
#                Deserialize)]`, with the serde attributes that give the same
#                wire format (camelCase names, RFC 3339 date-time, optional
#                members defaulted and skipped when `None`, the enum's unknown
#                values kept as a string) and no contract code.
#
# All crates depend on the same packages (event-runtime by path, serde, time)
# and share one target directory; the dependencies are checked and built
# first, so each figure is the crate alone. Then `cargo check` and
# `cargo build` (dev profile) of each crate are run RUNS times after touching
# its source, alternating generated and plain, under `/usr/bin/time -v`.
# CARGO_INCREMENTAL=0: a catalog is compiled as a dependency of a service,
# which cargo never builds incrementally, and a touched file with an
# incremental cache would measure the cache.
#
# The robust figures on a shared machine are CPU time (user + sys of cargo
# and rustc) and peak RSS (rustc's); wall time is printed for scale only.
#
#   bench/compile-cost/run.sh                  # 100 400 1000, 1 run each
#   RUNS=3 bench/compile-cost/run.sh 100 400
#   WORK=/tmp/cc bench/compile-cost/run.sh 100 # keep the crates
set -euo pipefail

SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(100 400 1000)
RUNS=${RUNS:-1}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [[ -z ${WORK:-} ]]; then
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/event-compile-cost.XXXXXX")
    trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK"
unset RUSTFLAGS
export CARGO_INCREMENTAL=0

# The generator, built in the workspace's own target directory.
TOOLS="${CARGO_TARGET_DIR:-$ROOT/target}/release"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" \
    -p event-codegen --bin event-codegen --example synth_catalog
export CARGO_TARGET_DIR="$WORK/target"

manifest() { # name
    cat <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
event-runtime = { path = "$ROOT/event-runtime" }
serde = { version = "1", features = ["derive"] }
time = { version = "0.3", features = ["serde", "formatting", "parsing"] }

[workspace]
TOML
}

# The plain serde types of event i, named as the generator names them.
plain_event() { # i
    local n
    n=$(printf 'Bench%04dItemCreatedV1' "$1")
    cat <<RS
/// Synthetic event $1: an item was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct $n {
    /// The item.
    pub item_id: Uuid,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// How many.
    pub quantity: u16,
    /// Unit price.
    pub price: f64,
    /// Lifecycle state.
    pub status: ${n}Status,
    /// Optional details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<${n}Details>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// A free note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
/// Lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ${n}Status {
    Active,
    Paused,
    Closed,
    /// A value this version does not know, kept as written.
    #[serde(untagged)]
    Other(String),
}
/// Optional details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ${n}Details {
    /// A label.
    pub label: String,
    /// Grams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u64>,
}
RS
}

new_crate() { # dir name
    mkdir -p "$1/src"
    manifest "$2" > "$1/Cargo.toml"
    cp "$ROOT/Cargo.lock" "$1/Cargo.lock"
}

# The dependencies, checked and built once for all crates (same packages,
# same features, one target directory).
new_crate "$WORK/deps" compile_cost_deps
: > "$WORK/deps/src/lib.rs"
cargo check --quiet --manifest-path "$WORK/deps/Cargo.toml"
cargo build --quiet --manifest-path "$WORK/deps/Cargo.toml"

for n in "${SIZES[@]}"; do
    rm -rf "$WORK/schemas-$n"
    "$TOOLS/examples/synth_catalog" "$WORK/schemas-$n" "$n" > /dev/null
    new_crate "$WORK/generated-$n" "generated_$n"
    "$TOOLS/event-codegen" generate "$WORK/schemas-$n" --out "$WORK/generated-$n/src" \
        --file-name events.rs --color never > /dev/null
    printf '#![deny(warnings)]\ninclude!("events.rs");\n' > "$WORK/generated-$n/src/lib.rs"
    new_crate "$WORK/plain-$n" "plain_$n"
    {
        printf '#![deny(warnings)]\n'
        printf 'use event_runtime::{OffsetDateTime, Uuid};\n'
        printf 'use serde::{Deserialize, Serialize};\n'
        for ((i = 0; i < n; i++)); do plain_event "$i"; done
    } > "$WORK/plain-$n/src/lib.rs"
done

# measure CMD DIR: one run under /usr/bin/time; prints "cpu_s rss_kb wall_s".
measure() {
    local out="$WORK/time.txt"
    touch "$2/src/lib.rs"
    if ! /usr/bin/time -v -o "$out" cargo "$1" --quiet --manifest-path "$2/Cargo.toml"; then
        echo "cargo $1 failed in $2" >&2
        exit 1
    fi
    awk -F': ' '
        /User time/ { u = $2 } /System time/ { s = $2 }
        /Maximum resident/ { r = $2 }
        /Elapsed/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
        END { printf "%.2f %d %.2f\n", u + s, r, w }' "$out"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

declare -A cpu rss wall
for cmd in check build; do
    read -r c r w < <(measure "$cmd" "$WORK/deps")
    cpu[$cmd,empty]=$c
    for n in "${SIZES[@]}"; do
        for ((run = 0; run < RUNS; run++)); do
            for kind in generated plain; do
                read -r c r w < <(measure "$cmd" "$WORK/$kind-$n")
                # As it goes, so that a run cut short still says something.
                echo "cargo $cmd, $n events, $kind: $c s CPU, $((r / 1024)) MB, $w s wall" >&2
                cpu[$cmd,$kind,$n]+="$c "
                rss[$cmd,$kind,$n]+="$r "
                wall[$cmd,$kind,$n]+="$w "
            done
        done
    done
done

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); runs: $RUNS; work dir: $WORK"
echo "empty crate: check ${cpu[check,empty]} s CPU, build ${cpu[build,empty]} s CPU"
printf '%-6s %5s %-10s %9s %9s %9s %11s %9s\n' \
    cmd events kind "cpu s" "rss MB" "wall s" "cpu/event" "net/event"
declare -A med
for cmd in check build; do
    for n in "${SIZES[@]}"; do
        for kind in generated plain; do
            c=$(printf '%s\n' ${cpu[$cmd,$kind,$n]} | median)
            r=$(printf '%s\n' ${rss[$cmd,$kind,$n]} | median)
            w=$(printf '%s\n' ${wall[$cmd,$kind,$n]} | median)
            med[$cmd,$kind,$n,cpu]=$c
            med[$cmd,$kind,$n,rss]=$r
            # Per event: ms of CPU; net of the empty crate's fixed cost.
            per=$(echo "scale=1; 1000 * $c / $n" | bc)
            net=$(echo "scale=1; 1000 * ($c - ${cpu[$cmd,empty]}) / $n" | bc)
            med[$cmd,$kind,$n,per]=$per
            printf '%-6s %5d %-10s %9.2f %9.0f %9.2f %8s ms %6s ms\n' \
                "$cmd" "$n" "$kind" "$c" "$(echo "$r / 1024" | bc)" "$w" "$per" "$net"
        done
    done
done
echo
echo "ratios generated / plain (goals at 1000 events: CPU <= 1.25, RSS <= 1.3):"
for cmd in check build; do
    for n in "${SIZES[@]}"; do
        printf '%-6s %5d events: CPU %s, RSS %s\n' "$cmd" "$n" \
            "$(echo "scale=3; ${med[$cmd,generated,$n,cpu]} / ${med[$cmd,plain,$n,cpu]}" | bc)" \
            "$(echo "scale=3; ${med[$cmd,generated,$n,rss]} / ${med[$cmd,plain,$n,rss]}" | bc)"
    done
done
first=${SIZES[0]}
last=${SIZES[${#SIZES[@]}-1]}
if [[ $first != "$last" ]]; then
    echo
    echo "growth: CPU per event at $last / at $first (goal for generated: <= 1.15):"
    for cmd in check build; do
        for kind in generated plain; do
            printf '%-6s %-10s %s\n' "$cmd" "$kind" \
                "$(echo "scale=3; ${med[$cmd,$kind,$last,per]} / ${med[$cmd,$kind,$first,per]}" | bc)"
        done
    done
fi
