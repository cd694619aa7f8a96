"""Run every benchmark, each in its own Python process: ``python -m bench [--quick] [NAME...]``."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence

BENCHMARKS = ("chain", "memory", "streaming", "threaded", "recording", "scale", "serve",
              "supervision", "editor", "ray")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks one after another; return the first non-zero exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repetitions, to check that they run")
    args = parser.parse_args(argv)
    names: list[str] = args.names or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; "
                     f"choose from {', '.join(BENCHMARKS)}")
    flags = ["--quick"] if args.quick else []
    status = 0
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    for index, name in enumerate(names):
        if index:
            print(flush=True)
        done = subprocess.run([sys.executable, "-m", f"bench.{name}", *flags], check=False)
        if done.returncode and not status:
            status = done.returncode
            print(f"bench.{name} failed with exit code {done.returncode}", file=sys.stderr)
    print(f"\n{len(names)} benchmark(s) in {time.perf_counter() - started:.1f} s on "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; 1-minute load average "
          f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after (other work on the "
          "machine makes wall-clock figures noisy)")
    return status


if __name__ == "__main__":
    sys.exit(main())
