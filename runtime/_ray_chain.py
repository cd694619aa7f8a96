"""The Ray engine's tasks in the driver: a chain whose work runs in a Ray host, or its copies.

A ``RemoteChain`` is the local engine's ``ChainTask`` with its work sent to a host through a
``Slot``; its inbox, hooks and deliveries stay in the driver. A ``ReplicatedChain`` runs a
stateless node as several copies. A ``GatedInbox`` keeps stream batches out of a heavy node
until its first latest values came, as the local engine's lent sources do.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from typing import Any

from runtime._cascade import Step
from runtime._chain import FEEDBACK_END, ChainTask, InboxItem, Stage
from runtime._firing import FailFast
from runtime._messages import END, Batch
from runtime._ray_slot import RuleView, Slot
from runtime._ray_stage import Reply
from runtime._shared import Shared

HELD_PER_COPY = 4  # answers a replicated node keeps for publishing in order, per copy


class GatedInbox(asyncio.Queue[InboxItem]):
    """An inbox that lets no stream batch in before its node has its first latest values.

    The local engine reads a heavy source from its consumer's thread, one message ahead;
    here the source is pumped in the driver, and messages waiting in the host for a value
    (a model, a start signal) would pile up there, then go all at once. So until the values
    came, its producers wait on this inbox; latest values and ends still come in.
    """

    def __init__(self, maxsize: int, streams: set[str]) -> None:
        super().__init__(maxsize)
        self.streams = streams
        self.open = asyncio.Event()
        self.open.set()

    async def put(self, item: InboxItem) -> None:
        """Put an item, a stream batch only while the node is not waiting for a value."""
        if item[0] in self.streams and isinstance(item[1], Batch):
            await self.open.wait()
        await super().put(item)


class RemoteChain(ChainTask):
    """A chain whose work runs in a Ray host; its inbox, hooks and wiring stay here."""

    def __init__(self, stages: list[Stage], shared: Shared, slot: Slot,
                 gated: bool = False) -> None:
        super().__init__(stages, shared)
        self.valued: set[str] = set()  # the latest inputs that have had a value
        if gated:  # closed until every latest input it waits for has had a value
            self.inbox = GatedInbox(self.inbox.maxsize, set(self.head.stream_ports))
            self.inbox.open.clear()
        self.threaded = False  # the host is the other thread: this side only waits
        self.early = None
        # a heavy node gets a batch a call: a paced stream must not hold eight chunks back to
        # send them at once (the local engine reads a lent source several messages at a time
        # only while a read's work is quick: runtime._feeding)
        self.gather = 1 if self.head.spec.threaded else 64
        self.slots = [slot]
        # the chain's work that ChainTask hands to work(), by its bound method: what runs
        # in the host instead (a ChainActor method of that name)
        self.remote: dict[Callable[..., Any], str] = {
            self._start: "start", self._process: "process", self._finish: "finish",
            self._close: "close"}

    async def work(self, func: Callable[..., Any], *args: Any,
                   late: Callable[[Any], None] | None = None) -> Any:
        """Run the chain's start, process, finish or close in its host; anything else here.

        A host's reply that a stop cut short is not waited for (``late`` is not called):
        the host is killed with the run.
        """
        method = self.remote.get(func)
        if method is None:
            return await super().work(func, *args, late=late)
        if method == "process":
            self._note_taken(args[0])  # one copy takes them in this order
        replies = await asyncio.gather(*(slot.call(method, args) for slot in self.slots))
        steps = self.take(replies)
        if method == "process":
            self.valued.update(port for port, _batch in args[0])
        if isinstance(self.inbox, GatedInbox) and all(p in self.valued
                                                      for p in self.head.awaited):
            self.inbox.open.set()
        return steps

    def _note_taken(self, items: list[tuple[str, Batch]]) -> None:
        """Note the stream messages sent to the host, for a node that notes its order."""
        head = self.head
        if isinstance(head, RuleView) and head.taken is not None:
            head.taken.note_items(items, head.pending)

    def take(self, replies: Sequence[Reply | None]) -> list[Step]:
        """Show the hosts' rules here (counts summed over copies); the steps, in order."""
        context = self.shared.context
        steps: list[Step] = []
        for reply in replies:
            if reply is None:
                continue
            steps += reply.steps
            for stage, state in zip(self.stages, reply.rules, strict=True):
                stage.rule.failures.extend(state.failures)
                if state.failures and context.first_error is None:
                    context.first_error = state.failures[0]
        for index, stage in enumerate(self.stages):
            rule = stage.rule
            states = [slot.rules[index] for slot in self.slots if slot.rules]
            rule.fired = sum(s.fired for s in states)
            rule.errors = sum(s.errors for s in states)
            rule.finished = bool(states) and all(s.finished for s in states)
            if isinstance(rule, RuleView):
                rule.waiting = sum(s.waiting for s in states)
        for reply in replies:
            if reply is not None and reply.fail_fast is not None:
                raise FailFast(reply.fail_fast)
        return steps


class ReplicatedChain(RemoteChain):
    """A stateless node run as several copies: each stream batch goes to a free copy.

    Latest values go to every copy, ahead of its next stream batch, so each call sees
    the values it would have seen on one copy; no stream batch goes out before the first
    values of the latest inputs it waits for. Outputs are published in input order, or
    as they come (``ordered: false``).
    """

    def __init__(self, stages: list[Stage], shared: Shared, slots: list[Slot],
                 ordered: bool, gated: bool) -> None:
        super().__init__(stages, shared, slots[0], gated)
        self.slots = slots
        self.ordered = ordered
        self.unsent: list[list[tuple[str, Batch]]] = [[] for _ in slots]

    def take(self, replies: Sequence[Reply | None]) -> list[Step]:
        """The copies' steps, their messages numbered here, in the order they are published.

        Each copy numbers its messages from a range of its own; numbered again as they
        go out, a port's messages are in id order as on one copy (kept runs list them so).
        """
        steps = super().take(replies)
        context = self.shared.context
        return [(index, {port: Batch(b.origin, context.alloc(len(b.values)), b.parents,
                                     b.values) for port, b in out.items()}, processed)
                for index, out, processed in steps]

    async def _consume(self) -> None:
        head = self.head
        edges_open = sum(self.open_edges.values())
        free = collections.deque(range(len(self.slots)))
        running: collections.deque[asyncio.Task[Reply | None]] = collections.deque()
        held: list[tuple[str, Batch]] = []  # stream batches before the first latest values
        while edges_open:
            items = [await self.inbox.get()]
            while not self.inbox.empty() and len(items) < 64:
                items.append(self.inbox.get_nowait())
            for port, payload in items:
                if payload is END or payload is FEEDBACK_END:
                    edges_open -= 1
                elif port not in head.pending:  # a latest value: for every copy
                    self.valued.add(port)
                    for unsent in self.unsent:
                        unsent.append((port, payload))
                else:
                    held.append((port, payload))
            if not all(p in self.valued for p in head.awaited) and edges_open:
                continue  # each message must fire with the values it would on one copy
            if isinstance(self.inbox, GatedInbox):
                self.inbox.open.set()
            for port, batch in held:
                for part in _parts(batch, max(1, len(free))):
                    await self._dispatch(port, part, free, running)
            held.clear()
        while running:
            await self._settle_copies(running)
        for index, unsent in enumerate(self.unsent):  # values no stream batch took along
            if unsent:
                await self._publish(self.take([await self.slots[index].call(
                    "process", (unsent,))]))
        if not head.finished:
            await self._end_outputs()

    async def _dispatch(self, port: str, batch: Batch, free: collections.deque[int],
                        running: collections.deque[asyncio.Task[Reply | None]]) -> None:
        """Send a stream batch to a free copy, with the latest values it has not had."""
        while not free or len(running) >= HELD_PER_COPY * len(self.slots):
            await self._settle_copies(running)
        self.mark_started(self.stages[0])
        self._note_taken([(port, batch)])  # the copies take them in this order
        index = free.popleft()
        work, self.unsent[index] = [*self.unsent[index], (port, batch)], []

        async def call() -> Reply | None:
            try:
                return await self.slots[index].call("process", (work,))
            finally:
                free.append(index)  # free as soon as it answered, published or not

        running.append(asyncio.ensure_future(call()))

    async def _settle_copies(self,
                             running: collections.deque[asyncio.Task[Reply | None]]) -> None:
        """Wait for a call to end; publish what is done, in input order if ordered."""
        pending = [task for task in running if not task.done()]
        if pending:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        done: list[asyncio.Task[Reply | None]] = []
        if self.ordered:
            while running and running[0].done():
                done.append(running.popleft())
        else:
            done = [task for task in running if task.done()]
            for task in done:
                running.remove(task)
        for task in done:
            await self._publish(self.take([task.result()]))


def _parts(batch: Batch, count: int) -> list[Batch]:
    """A batch cut into up to ``count`` consecutive parts, one for each free copy."""
    size = -(-len(batch.values) // count)
    if count <= 1 or len(batch.values) <= 1:
        return [batch]
    return [Batch(batch.origin, batch.ids[i:i + size], batch.parents[i:i + size],
                  batch.values[i:i + size]) for i in range(0, len(batch.values), size)]
