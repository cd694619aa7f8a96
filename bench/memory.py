"""Benchmark 2: peak RSS of the chain benchmark with taps on, each case in a fresh process."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench._report import heading, table, verdict

COUNTS = (200_000, 2_000_000)
QUICK_COUNTS = (10_000, 50_000)
TARGET_MIB = 300
KIB_PER_MIB = 1024


def _peak_rss_mib() -> float:
    """This process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB


def child(count: int) -> dict[str, Any]:
    """Measure one case in this process: build the chain's plan, then run it if ``count``.

    Args:
        count: Messages to push through the chain with taps on; 0 only imports
            ``runtime`` and ``components`` and builds the plan (the baseline).

    Returns:
        The peak RSS in MiB, the seconds the run took, and the snapshots received.
    """
    import components  # noqa: F401 - part of what the baseline holds in memory
    from bench.chain import chain_plan, run_chain

    checked = chain_plan(count)
    started = time.perf_counter()
    snapshots = run_chain(checked, count, taps=True) if count else 0
    return {"peak_mib": _peak_rss_mib(), "seconds": time.perf_counter() - started,
            "snapshots": snapshots}


def measure(count: int) -> dict[str, Any]:
    """Run one case in a fresh Python process, so that its peak RSS is its own.

    Args:
        count: As for :func:`child`.

    Returns:
        What the child measured.

    Raises:
        RuntimeError: The child process failed.
    """
    done = subprocess.run([sys.executable, "-m", "bench.memory", "--child", str(count)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        msg = f"memory case {count:,} failed ({done.returncode}):\n{done.stderr}"
        raise RuntimeError(msg)
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with ``--child N``, one case) and print the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small message counts, to check that it runs")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child)))
        return 0
    counts = QUICK_COUNTS if args.quick else COUNTS
    heading("Memory: peak RSS of the chain benchmark with taps on", [
        "Each case runs in a fresh Python process and reports its own ru_maxrss.",
        "baseline = import runtime and components, build the chain's plan, run nothing.",
        "Chain = stream.range -> 10 x stream.identity -> stream.count, with a subscriber.",
    ])
    base = measure(0)
    rows = [("baseline (imports + plan)", "-", f"{base['peak_mib']:.1f}", "-", "-", "-")]
    worst = 0.0
    for count in counts:
        found = measure(count)
        peak = float(found["peak_mib"])
        worst = max(worst, peak)
        rows.append((f"{count:,} messages", f"{found['seconds']:.2f}", f"{peak:.1f}",
                     f"{peak - base['peak_mib']:+.1f}", f"{peak / base['peak_mib']:.2f}",
                     verdict(peak < TARGET_MIB)))
    print(table(["case", "run s", "peak RSS MiB", "over baseline MiB", "x baseline",
                 f"< {TARGET_MIB} MiB"], rows))
    print()
    print("For comparison (notes/performance.md): Node-RED, 10-node chain, 200,000 queued "
          "messages: 718-768 MiB.")
    print(f"target: peak RSS < {TARGET_MIB} MiB at every count: "
          f"{verdict(worst < TARGET_MIB)} (worst {worst:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
