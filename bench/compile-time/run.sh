#!/usr/bin/env bash
# Compile time of #[derive(Event)] against plain serde derives.
#
# Generates two crates of N events (default 200) of the same shape into a
# temporary directory outside the workspace: `derived` with
# `#[derive(Event)]`, `plain` with `#[derive(Serialize, Deserialize)]` and
# the serde attributes that give the same wire format. Both depend on
# event-runtime by path and share one target directory, so the
# dependencies are built once; then each crate's own `cargo build` (debug)
# is timed RUNS times after touching its source, alternating the two, and
# the medians are reported.
#
#   bench/compile-time/run.sh            # 200 events, 3 runs
#   N=50 RUNS=5 bench/compile-time/run.sh
set -euo pipefail

N=${N:-200}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/event-compile-time.XXXXXX")}
export CARGO_TARGET_DIR="$WORK/target"
unset RUSTFLAGS
# As in bench/compile-cost/run.sh: a derive's users build it as a
# dependency, never incrementally, and a touched file with an incremental
# cache would measure the cache.
export CARGO_INCREMENTAL=0

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

generate() { # kind
    local kind=$1 i
    echo "#![allow(dead_code)]"
    echo "use event_runtime::{OffsetDateTime, Uuid};"
    for ((i = 0; i < N; i++)); do
        if [[ $kind == derived ]]; then
            cat <<RS
/// Event number $i.
#[derive(Debug, Clone, PartialEq, event_runtime::Event)]
#[event(type = "entity$i.completed", version = "1.1", producer = "service-$i", ordering = "per-entity")]
pub struct Completed$i {
    #[event(key, partition)]
    pub entity_id: Uuid,
    pub user_id: Uuid,
    pub course_id: Uuid,
    pub course_title: String,
    pub completed_at: OffsetDateTime,
    pub score: u8,
    #[event(since = "1.1")]
    pub total_duration: Option<u32>,
}
RS
        else
            cat <<RS
/// Event number $i.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Completed$i {
    pub entity_id: Uuid,
    pub user_id: Uuid,
    pub course_id: Uuid,
    pub course_title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub completed_at: OffsetDateTime,
    pub score: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_duration: Option<u32>,
}
RS
        fi
    done
}

for kind in derived plain; do
    mkdir -p "$WORK/$kind/src"
    manifest "compile_time_$kind" > "$WORK/$kind/Cargo.toml"
    cp "$ROOT/Cargo.lock" "$WORK/$kind/Cargo.lock"
    generate "$kind" > "$WORK/$kind/src/lib.rs"
    # Dependencies, not measured.
    (cd "$WORK/$kind" && cargo build --quiet)
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Alternate the two so that load from other processes hits both alike.
# Wall time is what a user waits; CPU time (user + sys, rustc's work) is
# reported too, as it holds up better on a shared machine.
declare -A wall cpu
TIMEFORMAT="%R %U %S"
for ((r = 0; r < RUNS; r++)); do
    for kind in derived plain; do
        touch "$WORK/$kind/src/lib.rs"
        read -r real user sys < <({ time (cd "$WORK/$kind" && cargo build --quiet) ; } 2>&1)
        wall[$kind]+="$real "
        cpu[$kind]+="$(echo "$user + $sys" | bc) "
    done
done
declare -A wall_median cpu_median
for kind in derived plain; do
    wall_median[$kind]=$(printf '%s\n' ${wall[$kind]} | median)
    cpu_median[$kind]=$(printf '%s\n' ${cpu[$kind]} | median)
    echo "$kind: wall ${wall[$kind]}s (median ${wall_median[$kind]} s); cpu ${cpu[$kind]}s (median ${cpu_median[$kind]} s)"
done
echo "events: $N, runs: $RUNS, work dir: $WORK"
echo "ratio derived/plain, wall: $(echo "scale=3; ${wall_median[derived]} / ${wall_median[plain]}" | bc)"
echo "ratio derived/plain, cpu:  $(echo "scale=3; ${cpu_median[derived]} / ${cpu_median[plain]}" | bc)"
