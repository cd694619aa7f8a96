"""A threaded source read in its consumer's worker thread, with no hand-over between them.

A threaded source (a file read in chunks) and the threaded node it feeds would each run in
a worker thread of their own, overlapping. On CPython both hold the GIL for most of their
work, so overlapping them costs more than it gains: the two threads hand the GIL back and
forth many times per chunk (measured: 60 context switches a chunk, and the flow 1.3x slower
than a loop doing the same work). So when a threaded source's one edge goes to a stream
input of a threaded node, that node's task reads the source itself, in its own worker
thread, right before processing what it read: read, process, read, as a hand-written loop
does. It reads one read ahead, so that the source's end shows while its last message is
worked on (a dataset's one frame, under a long fit), and reports messages on its edge
before the work on them starts (the first, then at least every tenth of a second), when a
hook listens or the consumer's chain sends messages on to other chains. Until they are
reported, it holds only what reporting reads of them (``kept``). It reads
only when it has room: nothing of its own waits on the
fed input (a message waiting for a latest value or a partner stops the reading until it has
fired), and its inbox is served between reads, so a new model on a latest input is used
from the next read on.

A generator with one output is read several messages at a time while the work is quick
(``Feed._pace``): the first message alone, then twice as many each time a read and its work
took under half of ``source_slice_seconds``, half as many when they took longer, and never
more than ``batch_size`` messages or ``LENT_ROWS`` rows (and one frame more) at once. What
the engine does for each read (the firing rules, the hand-over down the chain, the counts)
then serves several messages, and each stage works through them in turn while its code is
warm: the streaming scoring bench went from 1.03x the hand-written loop to 0.97x, and a
chain of one-number messages from 12 to 1.8 µs a message. Slow work (longer than a slice a
message) is read one message at a time, as before; a stop waits for the read at work, which
takes about a slice at most, and a message from a source that makes them slowly waits for
the others of its read about a slice at most too.

A source that has to wait (it yields ``None``: a request, a file, a tick not there yet) is
handed back to its own task at the first wait, so waiting never holds up its consumer.
Everything observed stays as it was: the source's batches are reported through its own
task's hooks, on its edge, before what its consumer made of them.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from runtime._cascade import Step
from runtime._collector import Outputs
from runtime._engine import RunOptions
from runtime._firing import FiringRule
from runtime._hooks import Hooks
from runtime._messages import Counted
from runtime._sources import pull, take, yields_values

FEED = object()  # put on the consumer's inbox when a feed is attached: look at it
SLICE_SECONDS = 0.25  # the most reading and processing done in one worker call
LENT_ROWS = 16_384  # rows read at once, at most (and one message more)


class _Shared(Protocol):
    @property
    def options(self) -> RunOptions: ...

    @property
    def drain(self) -> asyncio.Event | None: ...

    @property
    def hooks(self) -> Hooks: ...

    @property
    def stopping(self) -> bool: ...


class ChainTask(Protocol):
    """What lending needs of the local engine's chain task (``runtime._chain``)."""

    feeds: Feed | None
    in_flight: int

    @property
    def head(self) -> FiringRule: ...

    @property
    def stages(self) -> list[Any]: ...

    @property
    def shared(self) -> _Shared: ...

    @property
    def inbox(self) -> asyncio.Queue[Any]: ...

    @property
    def fed_by(self) -> ChainTask | None: ...

    def cascade(self, index: int, out: Outputs, steps: list[Step], processed: bool,
                log: list[Entry] | None = None) -> None: ...

    async def work(self, func: Callable[..., Any], *args: Any,
                   late: Callable[[Any], None] | None = None) -> Any: ...

    def report_late(self, steps: list[Step]) -> None: ...

    def report(self, steps: list[Step], next_stage: int | None = None) -> Any: ...

    def mark_started(self, stage: Any) -> None: ...

    async def publish_entries(self, entries: list[Entry]) -> None: ...

    def report_early(self, log: list[Entry], index: int, then: Callable[[], None] | None
                     ) -> None: ...


# (task, its steps): what one worker call did, in order, for the hooks
Entry = tuple[ChainTask, list[Step]]


class Feed:
    """A source's stream, lent to the task of the node it feeds until it ends or waits."""

    __slots__ = ("source", "stream", "port", "out_port", "outcome", "lock", "closed", "ahead",
                 "several", "most")

    def __init__(self, source: ChainTask, stream: Iterator[Any], port: str,
                 out_port: str) -> None:
        self.source = source
        self.stream = stream
        self.port = port  # the consumer's input port
        self.out_port = out_port  # the source's output port
        self.outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.lock = threading.Lock()  # held while the stream is read, or closed
        self.closed = False
        # the read one ahead, so that a source's end shows before the work on its last
        # message (a long fit on the one frame a dataset gives)
        self.ahead: tuple[Outputs, bool] | None = None
        # a generator with one output is read several messages at a time (``_pace``)
        self.several = yields_values(source.head)
        self.most = 1  # messages read at once

    def _next(self, options: RunOptions) -> tuple[Outputs, bool] | None:
        """The slice read ahead, else a new one; None once the stream is closed."""
        got, self.ahead = self.ahead, None
        if got is not None:
            return got
        with self.lock:
            if self.closed:
                return None
            if self.several:
                return take(self.source.head, self.stream, self.most, LENT_ROWS,
                            options.source_slice_seconds)
            return pull(self.source.head, self.stream, options.batch_size, 0.0)

    def _pace(self, spent: float, taken: int, options: RunOptions) -> None:
        """Read twice as many messages at once after a quick read, half as many after a slow one.

        Args:
            spent: How long the last read and the work on it took.
            taken: How many messages it read.
            options: The run's; ``source_slice_seconds`` is the time aimed at.
        """
        target = options.source_slice_seconds
        if spent > target:
            self.most = max(1, self.most // 2)
        elif spent < target / 2 and taken >= self.most:
            self.most = min(options.batch_size, self.most * 2)

    @property
    def holds(self) -> bool:
        """Whether a slice read ahead still waits to be handed on."""
        return self.ahead is not None and bool(self.ahead[0])

    def read(self, consumer: ChainTask) -> tuple[list[Entry], str]:
        """In the consumer's worker: read and process messages for up to one slice.

        Returns:
            What each task did, in order, and ``more`` (the source has more), ``ended``
            (it is exhausted) or ``waits`` (it has nothing yet: give it back).
        """
        log: list[Entry] = []
        deadline = time.perf_counter() + SLICE_SECONDS
        head = consumer.head
        options = consumer.shared.options
        while True:
            began = time.perf_counter()
            got = self._next(options)
            if got is None:
                return log, "closed"
            out, done = got
            keep(log, self.source, [(0, out, False)], delivers=False)
            batch = out.get(self.out_port)
            if batch is None or not batch.values:
                if done:
                    return log, "ended"
                if not out:
                    return log, "waits"
                continue  # an error record the source yielded, and it goes on
            if not done:
                self.ahead = self._next(options)
            ended = done or self.ahead == ({}, True)
            # the edge counts the message before the work on it starts, and the source's
            # end shows while its last message is still being worked on
            consumer.report_early(log, 0, (lambda: _detach(consumer, self, "ended"))
                                  if ended else None)
            steps: list[Step] = []
            consumer.in_flight = len(batch.values)
            consumer.cascade(0, head.process([(self.port, batch)]), steps, True, log)
            consumer.in_flight = 0
            keep(log, consumer, steps)
            now = time.perf_counter()
            if self.several:
                self._pace(now - began, len(batch.values), options)
            if ended:
                self.ahead = None
                return log, "ended"
            if self.ahead == ({}, False):  # the source has nothing yet: give it back
                self.ahead = None
                return log, "waits"
            if (now > deadline or head.pending[self.port]
                    or not consumer.inbox.empty() or consumer.shared.stopping):
                return log, "more"

    def close(self) -> None:
        """Close the source's iterator, so it releases what it holds (a file, a cursor).

        Safe from any thread: it waits only for a read under way, not for the processing.
        """
        with self.lock:
            if not self.closed:
                self.closed = True
                getattr(self.stream, "close", lambda: None)()


async def lend(source: ChainTask, feed: Feed) -> str:
    """Have a source read by the node it feeds until it ends (or must wait: ``waits``).

    A drain closes the stream from the source's task, even while the consumer is busy (it
    waits only for a read under way), then waits for the consumer to let go of it.
    """
    consumer = source.fed_by
    assert consumer is not None  # noqa: S101 - only a lent source gets here
    consumer.feeds = feed
    await consumer.inbox.put((feed.port, FEED))  # wakes it if it waits on its inbox
    drain = source.shared.drain
    if drain is not None:
        drained = asyncio.ensure_future(drain.wait())
        either: list[asyncio.Future[Any]] = [feed.outcome, drained]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        drained.cancel()
        if not feed.outcome.done():
            await source.work(feed.close)
            await consumer.inbox.put((feed.port, FEED))
    return await feed.outcome


def kept(task: ChainTask, steps: list[Step], delivers: bool = True) -> list[Step]:
    """``steps`` as a worker keeps them until they are reported: values no one reads, dropped.

    A slice holds what it did until it is reported (up to a tenth of a second of messages,
    or all of the slice when no one watches). When no hook is handed batches and a batch
    goes to no other chain, reporting reads only its length, so its values are let go at
    once. Holding them (DataFrames, say) made each message's objects live through young
    garbage collections, and the full collections that followed took 80 ms each, in one
    run of five: on the streaming scoring bench, 35 young and 0.2 full collections a run,
    against under 5 and none in 10 runs this way.

    Args:
        task: The chain whose steps these are.
        steps: What a worker call did in that chain.
        delivers: Whether reporting hands these batches on to other chains (not for a lent
            source's own steps: its consumer has them already).
    """
    if task.shared.hooks.reads_batches:
        return steps
    return [(index, _counted(task.stages[index].targets, out, delivers), processed)
            for index, out, processed in steps]


def keep(log: list[Entry], task: ChainTask, steps: list[Step], delivers: bool = True) -> None:
    """Add what a worker did in ``task`` to ``log``, as it is kept until reported (``kept``).

    When no hook listens at all, reporting steps whose batches were let go only adds up
    their lengths, in any order. Such steps are then added into the same task's last entry
    (one of the last two: a lent source's entries and its consumer's alternate) when they
    are the same steps, so a slice of many small messages holds a few entries, not two
    per message. What a slice holds lives through young collections into the oldest
    generation, and enough of it there brings on full collections, which scan the whole
    heap each time: 17 of them took 1.4 s of a 2.9 s run of 100,000 one-number messages.
    """
    if not task.shared.hooks.watching:
        for entry in log[-1:-3:-1]:
            if entry[0] is task and _fold(entry[1], steps):
                return
    log.append((task, kept(task, steps, delivers)))


def _fold(into: list[Step], steps: list[Step]) -> bool:
    """Add the lengths of ``steps`` into the counted steps ``into``, if they are the same.

    The same stage's same ports were counted in ``into`` (not kept for another chain), so
    they are counted again: one task's entries are all kept with the same ``delivers``.
    """
    if len(into) != len(steps):
        return False
    for (index, out, processed), (had_index, had, had_processed) in zip(steps, into,
                                                                         strict=True):
        if index != had_index or processed != had_processed or out.keys() != had.keys():
            return False
        for batch in had.values():
            if type(batch) is not Counted:
                return False  # it goes on to another chain: kept whole, in order
    for (_index, out, _processed), (_had_index, had, _had_processed) in zip(steps, into,
                                                                            strict=True):
        for port, batch in out.items():
            counted = had[port]
            counted.ids = range(len(counted.ids) + len(batch.values))
    return True


def _counted(targets: dict[str, list[tuple[str, Any, str]]], out: Outputs,
             delivers: bool) -> Outputs:
    counted: Outputs = {}
    for port, batch in out.items():
        if delivers and any(t is not None for _e, t, _p in targets.get(port, ())):
            counted[port] = batch  # it goes on to another chain
        else:
            counted[port] = Counted(batch.origin, len(batch.values))
    return counted


def _late(consumer: ChainTask, read: tuple[list[Entry], str]) -> None:
    """Count a slice that a stop cut short (``ChainTask.report_late``), the source's steps too."""
    for task, steps in read[0]:
        if task is consumer:
            consumer.report_late(steps)
        else:  # the source's one edge comes here, and what came was worked on
            task.report(steps)


def _detach(consumer: ChainTask, feed: Feed, outcome: str) -> None:
    if consumer.feeds is feed:
        consumer.feeds = None
    if not feed.outcome.done():
        feed.outcome.set_result(outcome)


async def read_lent(consumer: ChainTask, others_open: bool) -> bool:
    """Read the source lent to ``consumer`` if it has room; say whether anything was done.

    Args:
        consumer: The task reading.
        others_open: Whether edges other than the lent source's may still bring messages
            (a latest value or a partner that what was read waits for).
    """
    feed = consumer.feeds
    if feed is None:
        return False
    drain = consumer.shared.drain
    if feed.closed or drain is not None and drain.is_set() or consumer.head.finished:
        await consumer.work(feed.close)
        if feed.holds and not consumer.head.finished:  # read before the close: hand it on
            entries, _outcome = await consumer.work(feed.read, consumer,
                                                    late=functools.partial(_late, consumer))
            await consumer.publish_entries(entries)
        _detach(consumer, feed, "closed")
        return True
    if consumer.head.pending[feed.port] and others_open:
        return False  # what was read waits for a latest value or a partner
    consumer.mark_started(consumer.stages[0])
    entries, outcome = await consumer.work(feed.read, consumer,
                                           late=functools.partial(_late, consumer))
    await consumer.publish_entries(entries)
    if outcome != "more":
        _detach(consumer, feed, outcome)
    return True
