"""How the local engine delivers to its tasks' inboxes, and waits on the tasks.

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
from typing import Any, Protocol

from runtime._messages import Batch


class Target(Protocol):
    """A task that messages are delivered to."""

    inbox: asyncio.Queue[Any]
    stranded: int  # messages sent to it that a stop kept from its inbox


# (the target task, its input port, the batch, the edge id)
Delivery = tuple[Target, str, Batch, str]


async def deliver(deliveries: list[Delivery], feedback: dict[str, FeedbackEdge],
                  after: asyncio.Future[None] | None = None) -> None:
    """Put each batch on its target's inbox, in order, after the deliveries ``after``.

    An edge that closes a loop (in ``feedback``) never makes this wait. If a stop cancels
    the delivery, what was not put yet is counted as ``stranded`` at its target: it was
    counted on its edge, and the target counts it as undone.
    """
    done = 0
    try:
        if after is not None:
            await after
        for target, port, batch, edge_id in deliveries:
            if edge_id in feedback:
                feedback[edge_id].send((port, batch))
            else:
                await target.inbox.put((port, batch))
            done += 1
    except asyncio.CancelledError:
        for target, _port, batch, _edge in deliveries[done:]:
            target.stranded += len(batch.values)
        raise


class FeedbackEdge:
    """Puts items on one feedback edge, in order, without ever making the sender wait."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.waiting: collections.deque[Any] = collections.deque()
        self.task: asyncio.Task[None] | None = None

    def send(self, item: Any) -> None:
        """Deliver ``item`` after everything sent before it."""
        inbox = self.target.inbox
        if self.task is None and not inbox.full():
            inbox.put_nowait(item)
            return
        self.waiting.append(item)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._forward(),
                                                               name="feedback edge")

    async def _forward(self) -> None:
        try:
            while self.waiting:
                await self.target.inbox.put(self.waiting[0])
                self.waiting.popleft()
        finally:
            self.task = None

    def cancel(self) -> None:
        """The run ended: drop what still waits, counted as undone at the target (stranded).

        Each batch was counted on the edge when it was sent; the target never had it.
        """
        if self.task is not None:
            self.task.cancel()
        self.target.stranded += sum(len(item[1].values) for item in self.waiting
                                    if isinstance(item[1], Batch))
        self.waiting.clear()


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
