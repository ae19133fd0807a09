#!/usr/bin/env python3
"""Wall and CPU time per batch of the in-process bus bench, per variant.

For each variant, a run of the bench binary with BATCHES batches of 2,000
events minus a run of 0 batches (the same setup: the events built, one
warm-up batch), divided by the batches; ROUNDS rounds, the variants and
binaries alternated in each, and the medians printed with every sample.
The ratio is the envelope baseline's time over the variant's, from the
same binary. Medians of alternated short runs hold up better on a shared
machine than one long criterion run, whose samples mix the load of the
whole run.

    bench/bus-profile/wall.py <consumers> <batches> <rounds> <bench-binary>...

Build the binary as for run.sh (beside this file).
"""
import os
import resource
import statistics
import subprocess
import sys
import time

VARIANTS = ["baseline_mpsc_envelope", "bus_no_store", "bus_in_memory_store"]


def run(binary, variant, consumers, batches):
    env = dict(os.environ, BUS_PROFILE=f"{variant}:{consumers}:{batches}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([binary], env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    consumers, batches, rounds = (int(a) for a in sys.argv[1:4])
    binaries = sys.argv[4:]
    samples = {}
    for _ in range(rounds):
        for variant in VARIANTS:
            for binary in binaries:
                wall0, cpu0 = run(binary, variant, consumers, 0)
                wall, cpu = run(binary, variant, consumers, batches)
                samples.setdefault((binary, variant), []).append(
                    ((wall - wall0) / batches, (cpu - cpu0) / batches)
                )
    deliveries = 2000 * consumers
    for binary in binaries:
        base = samples[(binary, VARIANTS[0])]
        base_wall = statistics.median(w for w, _ in base)
        base_cpu = statistics.median(c for _, c in base)
        for variant in VARIANTS:
            walls = sorted(w for w, _ in samples[(binary, variant)])
            wall = statistics.median(walls)
            cpu = statistics.median(c for _, c in samples[(binary, variant)])
            print(
                f"{os.path.basename(binary)} consumers={consumers} {variant}: "
                f"{wall * 1e3:.2f} ms a batch ({deliveries / wall / 1e3:.0f} k/s), "
                f"ratio {base_wall / wall:.2f}; cpu {cpu * 1e3:.2f} ms, "
                f"ratio {base_cpu / cpu if cpu > 0 else float('nan'):.2f}; samples "
                + " ".join(f"{w * 1e3:.1f}" for w in walls)
            )


if __name__ == "__main__":
    main()
