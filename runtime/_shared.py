"""What every task of one run shares: the run context, hooks, options and edge counts."""

from __future__ import annotations

import asyncio

from runtime._collector import RunContext
from runtime._delivery import FeedbackEdge
from runtime._engine import RunOptions
from runtime._hooks import Hooks
from runtime._quiet import Quiet


class Shared:
    """What every task of one run shares: the run context, hooks, options and edge counts."""

    def __init__(self, hooks: Hooks, options: RunOptions,
                 drain: asyncio.Event | None = None) -> None:
        self.context = RunContext(fail_fast=options.fail_fast, run_id=options.run_id)
        self.hooks = hooks
        self.options = options
        self.edge_counts: dict[str, int] = {}
        self.feedback: dict[str, FeedbackEdge] = {}  # edge id -> its sender (loops only)
        self.drain = drain  # set: sources end at their next slice, the rest flows on
        # set once the run is stopped or aborted: worker threads read it, and a slice of a
        # lent source ends after the message in work (runtime._feeding)
        self.stopping = False
        self.quiet: Quiet | None = None  # a replay's schedule: notices when all is still
