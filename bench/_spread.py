"""The spread of a benchmark figure over runs: min, median and max, never one number."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence


def spread(values: Sequence[float], fmt: Callable[[float], str] = "{:.2f}".format) -> str:
    """Format ``min / median / max`` of several runs' figures.

    Args:
        values: One figure per run.
        fmt: How to format one figure.

    Returns:
        For example ``1.01 / 1.03 / 1.08``.
    """
    return " / ".join(fmt(v) for v in (min(values), statistics.median(values), max(values)))
