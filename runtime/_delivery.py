"""How the local engine waits on its tasks, and delivers on feedback edges without blocking.

A feedback edge feeds a ``latest`` input and closes a loop (a supervisor sending the new
champion back to its scorer). Every other edge gives back pressure: its producer waits
while the consumer's inbox is full. Around a loop that could wait forever: the scorer
waits for the monitor, the monitor for the supervisor, the supervisor for the scorer.
So a feedback edge never makes its producer wait: what does not fit in the inbox waits
in a queue of its own, in order, and is put as room appears. Feedback edges carry few
messages (a model per promotion), so that queue stays small.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any


class FeedbackEdge:
    """Puts items on one feedback edge, in order, without ever making the sender wait."""

    def __init__(self, inbox: asyncio.Queue[Any]) -> None:
        self.inbox = inbox
        self.waiting: collections.deque[Any] = collections.deque()
        self.task: asyncio.Task[None] | None = None

    def send(self, item: Any) -> None:
        """Deliver ``item`` after everything sent before it."""
        if self.task is None and not self.inbox.full():
            self.inbox.put_nowait(item)
            return
        self.waiting.append(item)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._forward(),
                                                               name="feedback edge")

    async def _forward(self) -> None:
        try:
            while self.waiting:
                await self.inbox.put(self.waiting[0])
                self.waiting.popleft()
        finally:
            self.task = None

    def cancel(self) -> None:
        """The run ended: drop what still waits."""
        if self.task is not None:
            self.task.cancel()


async def until_done(running: list[asyncio.Task[None]]) -> asyncio.Task[None] | None:
    """Wait until every task ended (None) or one raised (that task), in time linear in tasks.

    Each task reports its own end through a callback, so nothing waits over all tasks at
    every step.
    """
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[asyncio.Task[None] | None] = loop.create_future()
    remaining = len(running)

    def ended(task: asyncio.Task[None]) -> None:
        nonlocal remaining
        remaining -= 1
        if outcome.done():
            return
        if not task.cancelled() and task.exception() is not None:
            outcome.set_result(task)
        elif remaining == 0:
            outcome.set_result(None)

    if not running:
        return None
    for task in running:
        task.add_done_callback(ended)
    return await outcome
