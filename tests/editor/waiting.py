"""Waiting for the page without guessing a delay.

A click in the editor goes to the server and back, then through a transition, so on a busy
CI machine any fixed wait can be too short. These helpers retry until the page agrees."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def eventually(page: Any, check: Callable[[], T], timeout: float = 10.0) -> T:
    """Run `check` until it stops raising AssertionError; the last failure is raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(100)


def settled(page: Any, read: Callable[[], T], timeout: float = 10.0, gap: int = 250) -> T:
    """What `read` returns once two reads `gap` ms apart agree (movement has stopped)."""
    deadline = time.monotonic() + timeout
    last = read()
    while True:
        page.wait_for_timeout(gap)
        now = read()
        if now == last or time.monotonic() > deadline:
            return now
        last = now
