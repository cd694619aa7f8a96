"""The Ray engine: the 10-stage chain against the local engine, replicas, recovery, start-up."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence

from bench._ray_cases import (
    RecoveryTimes,
    StartTimes,
    measure_chain,
    measure_recovery,
    measure_start,
)
from bench._ray_heavy import HeavyTimes, measure_heavy
from bench._report import heading, parse_args, table, verdict
from bench._spread import spread
from runtime.engines import RayEngine

RAY_MISSING = "the Ray engine needs Ray, which is not installed: pip install 'edgewise[ray]'"

COUNT = 200_000
QUICK_COUNT = 20_000
REPEAT = 7
HEAVY_CHUNKS = 40
QUICK_HEAVY_CHUNKS = 6
TREES = 300
QUICK_TREES = 10
HEAVY_REPEAT = 3
RECOVERY_COUNT = 2_000_000
QUICK_RECOVERY_COUNT = 100_000
RECOVERY_REPEAT = 3
TARGET_CHAIN = 100_000
TARGET_SPEED_UP = 1.6
TARGET_RECOVERY = 5.0

per_second = "{:,.0f}".format
seconds = "{:.2f}".format


def print_start(found: StartTimes) -> None:
    """The start-up table: ray.init, the first run (the pool's hosts start), later runs."""
    inits = (spread(found.inits, seconds) if found.inits else "-")
    print(table(["start-up (one start a process)", "seconds min / median / max"], [
        (f"ray.init (engine.connect), {len(found.inits)} start(s)"
         + ("" if found.inits else ": Ray already up in this process"), inits),
        (f"first run: the pool of {found.hosts} host(s) starts", spread(found.firsts, seconds)),
        ("a run after", spread(found.warm, "{:.3f}".format)),
    ]))


def print_chain(found: dict[str, list[float]], count: int) -> float:
    """The chain table; returns Ray's median rate after start-up (fused)."""
    local = statistics.median(found["local"])
    rows = [(name, spread(found[key], per_second),
             f"{statistics.median(found[key]) / local:.2f}x")
            for name, key in (("local engine (fused)", "local"), ("Ray, fused", "ray"),
                              ("Ray, unfused", "ray_unfused"))]
    print(table([f"chain, {count:,} messages: msg/s after start-up", "min / median / max",
                 "vs local"], rows))
    return statistics.median(found["ray"])


def print_heavy(found: HeavyTimes, chunks: int) -> tuple[float, float]:
    """The replicas table; returns the median speed-ups of 2 replicas over 1 (ordered, not)."""
    rows = []
    for name, times in found.seconds.items():
        hosts = [statistics.median(cpu[i] for cpu in found.hosts_cpu[name])
                 for i in range(len(found.hosts_cpu[name][0]))]
        rows.append((name, spread(times, seconds),
                     per_second(chunks * 1_000 / statistics.median(times)),
                     " + ".join(seconds(h) for h in hosts),
                     seconds(statistics.median(found.driver_cpu[name]))))
    print(table([f"RandomForest predict, {chunks} x 1,000 rows", "seconds min / median / max",
                 "rows/s (median)", "CPU-s in each host", "CPU-s driver"], rows))
    one = found.seconds["Ray, replicas 1"]
    ups = [[a / b for a, b in zip(one, found.seconds[name], strict=True)]
           for name in ("Ray, replicas 2", "Ray, replicas 2, ordered false")]
    print(f"speed-up of 2 replicas over 1, pairs run back to back: ordered {spread(ups[0])}, "
          f"ordered false {spread(ups[1])}")
    print(f"predictions identical in all {found.runs} runs to the forest's own predict, "
          f"row ids kept: {'yes' if found.same else 'NO'}")
    return statistics.median(ups[0]), statistics.median(ups[1])


def print_recovery(found: RecoveryTimes, count: int) -> float:
    """The recovery table; returns the worst time from the kill to the next batch."""
    print(table(["recovery after kill -9 of the chain's host", "seconds min / median / max"], [
        ("kill -> the chain's next delivered batch", spread(found.gaps, seconds)),
        ("the run's wall time", spread(found.walls, seconds)),
    ]))
    print(f"messages counted in each of {len(found.gaps)} killed runs of {count:,}: "
          f"{', '.join(f'{c:,}' for c in found.counted)} (lost or doubled: "
          f"{'none' if all(c == count for c in found.counted) else 'SOME'})")
    return max(found.gaps)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables; return the exit code."""
    args = parse_args(__doc__ or "", argv)
    quick = args.quick
    count = QUICK_COUNT if quick else COUNT
    repeat = args.repeat or (2 if quick else REPEAT)
    chunks = QUICK_HEAVY_CHUNKS if quick else HEAVY_CHUNKS
    killed = QUICK_RECOVERY_COUNT if quick else RECOVERY_COUNT
    heading("Ray engine: the chain, a heavy stage in replicas, recovery, start-up", [
        "Each case runs on the local engine and on Ray in the same process, back to back, "
        "in alternating order; the machine is shared, so compare the ratios.",
        "after start-up = messages per second from the first batch leaving the source to "
        "the end of the run (taps on: a subscriber storing one number a snapshot).",
        f"heavy stage = in-memory chunks -> ml.predict (a RandomForestClassifier of "
        f"{QUICK_TREES if quick else TREES} trees, replicas 1 or 2) -> stream.count; "
        "seconds around Run.run().",
        "recovery = kill -9 the process of the host running the chain step1 ... count, "
        "after its 3rd batch; the time from the kill to its next batch.",
    ])
    try:
        import ray
    except ImportError:
        print(f"bench.ray: {RAY_MISSING}", file=sys.stderr)
        return 1
    engine = RayEngine()
    print_start(measure_start(engine, ray))
    print()
    rate = print_chain(measure_chain(engine, count, repeat), count)
    print()
    trees = QUICK_TREES if quick else TREES
    heavy = measure_heavy(engine, ray, chunks, trees,
                          args.repeat or (1 if quick else HEAVY_REPEAT))
    speed_up, unordered = print_heavy(heavy, chunks)
    print()
    recovery = print_recovery(measure_recovery(
        engine, ray, killed, args.repeat or (1 if quick else RECOVERY_REPEAT)), killed)
    print()
    print(table(["target", "measured", "verdict"], [
        (f"chain on Ray > {TARGET_CHAIN:,} msg/s after start-up (median, fused)",
         f"{rate:,.0f} msg/s", verdict(rate > TARGET_CHAIN)),
        (f"2 replicas >= {TARGET_SPEED_UP}x faster than 1 (median pair)",
         f"{speed_up:.2f}x", verdict(speed_up >= TARGET_SPEED_UP)),
        ("the same, ordered false", f"{unordered:.2f}x",
         verdict(unordered >= TARGET_SPEED_UP)),
        (f"recovery within {TARGET_RECOVERY:.0f} s (worst run)", f"{recovery:.2f} s",
         verdict(recovery <= TARGET_RECOVERY)),
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
