"""Early reports: a chain's worker thread tells the event loop what it did, while it goes on.

A threaded chain (``runtime._chain``) runs its work in worker threads: a run of inbox
items, or a slice of a source it reads (``runtime._feeding``). What the work did is
reported on the event loop, where the hooks are called and the batches for other chains
are put on their inboxes, when the worker call returns. A long call (a fit on a source's
one frame, a slow stage) would show nothing until then, so before a stage starts its
(possibly long) work, what the chain did so far is reported at once: the first time that
stage works, and then at most every ``EARLY_REPORT_SECONDS``. The edge into the stage then
counts its batch and the stage shows as running while it works, as an unfused node would.
Only if a hook listens or the chain sends to other chains: otherwise a report would wake
the loop for nothing anyone sees, and the worker call's end reports it all as well.

A worker that reads a source keeps every message's steps until they are reported; its log
is reported whenever it holds ``LOG_ENTRIES`` entries, and the worker waits while the loop
has ``UNREAD`` of its reports still to make (the loop calls the hooks for each batch: with
the editor's or the CLI's live statistics on, it can fall behind a worker that makes small
messages quickly). What waits to be reported then stays young: held longer, it reached the
collector's oldest generation and brought on full collections, 18 of them (1 s) in a run
of 100,000 one-number messages with the statistics on, none now.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from runtime._cascade import Step
from runtime._feeding import ChainTask, Entry
from runtime._hooks import Hooks

EARLY_REPORT_SECONDS = 0.1  # a chain in a worker reports what it did at least this often
LOG_ENTRIES = 64  # a worker's log of this many entries is reported, due or not
UNREAD = 2  # reports sent to the loop and not yet made, at most: then the worker waits
WAIT_SECONDS = 1.0  # the longest a worker waits for the loop to make room


class Shown(Protocol):
    """What early reports need of a chain's stage."""

    @property
    def started(self) -> bool:
        """Whether the stage shows as started."""

    @property
    def link(self) -> tuple[str, str] | None:
        """The edge to the next stage of the chain; None for the last."""


class EarlyReports:
    """Reports, from one chain's worker threads, what the chain did so far (see above)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, stages: Sequence[Shown],
                 hooks: Hooks, sends: Callable[[], bool],
                 report: Callable[[list[Entry], int | None], None]) -> None:
        """Set up the reports of one chain.

        Args:
            loop: The event loop that the reports go to.
            stages: The chain's stages.
            hooks: The run's hooks.
            sends: Whether the chain sends to other chains (asked as it runs: wired by then).
            report: Called on the loop with the entries, and the stage that shows as started.
        """
        self._loop = loop
        self._stages = stages
        self._hooks = hooks
        self._sends = sends
        self._report = report
        self._reported_at = 0.0  # when the chain last reported from its worker thread
        self._sent = threading.Condition()
        self._unread = 0  # reports sent to the loop that it has not made yet

    def hand_on(self, chain: ChainTask, steps: list[Step], log: list[Entry] | None,
                index: int) -> None:
        """Before stage ``index`` fires: report ``log`` and ``chain``'s steps so far, if due."""
        # steps that deliver to other chains wait for the loop's puts
        if self._due(index) and all(self._stages[i].link is not None for i, _o, _p in steps):
            entries: list[Entry] = [*(log or ()), (chain, steps[:])]
            steps.clear()
            if log:
                log.clear()
            self._send(entries, index)

    def report(self, log: list[Entry], index: int, then: Callable[[], None] | None) -> None:
        """Report ``log`` now, if due; ``then`` runs on the loop after it, and forces it."""
        if not (then is not None or len(log) >= LOG_ENTRIES or self._due(index)):
            return
        entries = log[:]
        log.clear()
        self._send(entries, index)
        if then is not None:
            self._loop.call_soon_threadsafe(then)

    def _send(self, entries: list[Entry], index: int) -> None:
        """From the worker: have the loop report ``entries``, once it has room for them."""
        with self._sent:
            # the loop makes the reports as fast as they come, or the worker waits for it
            self._sent.wait_for(lambda: self._unread < UNREAD, timeout=WAIT_SECONDS)
            self._unread += 1
        self._loop.call_soon_threadsafe(self._made, entries, index)

    def _made(self, entries: list[Entry], index: int | None) -> None:
        """On the loop: make one report; a worker waiting for room goes on."""
        try:
            self._report(entries, index)
        finally:
            with self._sent:
                self._unread -= 1
                self._sent.notify()

    def _due(self, index: int) -> bool:
        # Read from the worker thread: at worst one report more or later than due.
        if not (self._hooks.watching or self._sends()):
            return False  # a report would wake the loop for nothing anyone sees
        now = time.perf_counter()
        if self._stages[index].started and now - self._reported_at < EARLY_REPORT_SECONDS:
            return False
        self._reported_at = now
        return True
