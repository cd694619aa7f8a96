"""argparse types of the CLI: counts, message ids and positions, numbers of days."""

from __future__ import annotations

import argparse
import math

from runtime._terminal import plain

MAX_ID = 2**63 - 1
MAX_DAYS = 100_000  # about 270 years: the cut-off date stays a valid date


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        msg = f"'{plain(text)}' is not a whole number"
        raise argparse.ArgumentTypeError(msg) from None


def count(text: str) -> int:
    """A whole number from 0 up (``--keep-values``, ``--sample``)."""
    value = _integer(text)
    if value < 0:
        msg = f"{value} is negative; give 0 or more"
        raise argparse.ArgumentTypeError(msg)
    return value


def whole(text: str) -> int:
    """A whole number that fits a message id or position."""
    value = _integer(text)
    if not -MAX_ID <= value <= MAX_ID:
        msg = f"{text} is too large; message ids and positions go up to {MAX_ID}"
        raise argparse.ArgumentTypeError(msg)
    return value


def message_id(text: str) -> int:
    """A message id: a whole number from 0 up."""
    value = whole(text)
    if value < 0:
        msg = f"{value} is negative; message ids start at 0"
        raise argparse.ArgumentTypeError(msg)
    return value


def days(text: str) -> float:
    """A number of days for ``runs prune --older-than``: finite, from 0 up."""
    try:
        value = float(text)
    except ValueError:
        msg = f"'{plain(text)}' is not a number of days"
        raise argparse.ArgumentTypeError(msg) from None
    if not math.isfinite(value) or not 0 <= value <= MAX_DAYS:
        msg = f"{text} days is out of range; give a number of days from 0 to {MAX_DAYS:,}"
        raise argparse.ArgumentTypeError(msg)
    return value
