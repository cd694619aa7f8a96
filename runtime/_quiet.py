"""Noticing that a run has gone quiet, so that no node waits forever for a scheduled value.

A replay's scheduled nodes (``runtime._schedule``) hold stream messages back until the
value the record names arrives, often on a feedback edge from a live loop. If the replay
goes otherwise than the record, that value never comes, and the loop that should make it
waits on the held node: nothing moves. The run is then quiet: every task that has not
ended waits on an empty inbox, and no feedback edge has anything left to put. Nothing can
happen after that (a task that works, pulls a source or waits for room in a queue is not
waiting on its inbox), so :class:`Quiet` puts ``GIVE_UP`` in the inbox of each node still
waiting for a scheduled value, which ends that wait with an error record.

Only a run with a schedule has a ``Quiet``; other runs take their inbox items directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from runtime._delivery import FeedbackEdge
from runtime._firing import FiringRule
from runtime._schedule import GIVE_UP, GIVE_UP_PORT


class _Task(Protocol):
    inbox: asyncio.Queue[Any]
    head: FiringRule


class Quiet:
    """Counts the tasks waiting on their inbox; when all are, ends the scheduled waits."""

    def __init__(self, tasks: Sequence[_Task], feedback: dict[str, FeedbackEdge]) -> None:
        self.tasks = tasks
        self.feedback = feedback
        self.live = len(tasks)
        self.idle = 0
        self._checking = False

    async def get(self, inbox: asyncio.Queue[Any]) -> Any:
        """The next item of ``inbox``; while it is empty, this task counts as waiting."""
        if not inbox.empty():
            return inbox.get_nowait()
        self.idle += 1
        if self.idle == self.live:
            self._check_soon()
        try:
            return await inbox.get()
        finally:
            self.idle -= 1

    def ended(self, _task: object = None) -> None:
        """A task ended (a done callback of its asyncio task)."""
        self.live -= 1
        if self.live and self.idle == self.live:
            self._check_soon()

    def _check_soon(self) -> None:
        """Check once the callbacks already due have run (a put wakes its getter later)."""
        if not self._checking:
            self._checking = True
            asyncio.get_running_loop().call_soon(self._check)

    def _check(self) -> None:
        self._checking = False
        if self.idle != self.live or any(not t.inbox.empty() for t in self.tasks):
            return
        if any(edge.waiting or edge.task is not None for edge in self.feedback.values()):
            return
        for task in self.tasks:
            if not task.head.finished and task.head.held_open:
                task.inbox.put_nowait((GIVE_UP_PORT, GIVE_UP))
