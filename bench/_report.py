"""Shared helpers of the benchmarks: command-line flags, timing, and plain-text tables."""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def parse_args(description: str, argv: Sequence[str] | None,
               more: Callable[[argparse.ArgumentParser], None] | None = None,
               ) -> argparse.Namespace:
    """Parse the flags every benchmark takes.

    Args:
        description: What the benchmark measures, shown by ``--help``.
        argv: The arguments, or None for ``sys.argv[1:]``.
        more: Adds a benchmark's own flags to the parser.

    Returns:
        The parsed flags: ``quick`` (small sizes, for smoke tests), ``repeat``, and those
        that ``more`` added.
    """
    parser = argparse.ArgumentParser(description=description)
    if more is not None:
        more(parser)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repetitions, to check that it runs")
    parser.add_argument("--repeat", type=int, default=None,
                        help="how many times to run each case")
    return parser.parse_args(argv)


@dataclass(frozen=True)
class Timing:
    """The wall-clock and CPU seconds (of this whole process) one measured call took."""

    wall: float
    cpu: float


def timed(func: Callable[[], T]) -> tuple[Timing, T]:
    """Call ``func`` after a garbage collection and time it.

    Args:
        func: What to measure.

    Returns:
        The timing and what ``func`` returned.
    """
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    value = func()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return Timing(wall, cpu), value


def best(timings: Sequence[Timing]) -> Timing:
    """The fastest wall-clock time and the smallest CPU time of several repetitions."""
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings))


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of ``numerators[i] / denominators[i]`` over runs made back to back.

    Two runs made one after the other see about the same load from the rest of the machine,
    so the median of their ratios is steadier than the ratio of two best runs.
    """
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Format rows as a plain-text table, the first column left-aligned, the rest right.

    Args:
        headers: The column titles.
        rows: The cells, already formatted as text.

    Returns:
        The table, one line per row, without a trailing newline.
    """
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows,
                                                                        strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def rate(count: float, seconds: float) -> str:
    """Format a rate per second with thousands separators, e.g. ``812,345``."""
    return f"{count / seconds:,.0f}" if seconds > 0 else "inf"


def verdict(ok: bool) -> str:
    """Say whether a target was met, in a form that stands out in a table."""
    return "met" if ok else "MISSED"


def heading(title: str, notes: Sequence[str] = ()) -> None:
    """Print a benchmark's title and the notes that say what it measures."""
    print(title)
    print("=" * len(title))
    for note in notes:
        print(note)
    if notes:
        print()
