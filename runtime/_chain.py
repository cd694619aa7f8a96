"""The local engine's task for one fused chain: its inbox, its stages, and their hooks.

Each chain's head owns an inbox queue. Every edge into it puts ``(port, Batch)`` items (or
``(port, END)``) on it, so fan-in merges in arrival order. A queue holds a few batches,
which gives back pressure: a fast source waits for a slow consumer instead of filling
memory. Inside a chain, batches are handed on directly. Heavy chains (``threaded=True``)
run their batches in worker threads so that the event loop, and every hook on it, stays
live; hooks are always called on the event loop thread, once per batch and edge.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from typing import Any

from runtime._cascade import Step, hand_down
from runtime._collector import Outputs
from runtime._delivery import Delivery, deliver
from runtime._early import EarlyReports
from runtime._feeding import FEED, Entry, Feed, lend, read_lent
from runtime._firing import FailFast, FiringRule
from runtime._messages import END, Batch, Counted
from runtime._shared import Shared
from runtime._sources import first_call, pull, start_failed

InboxItem = tuple[str, Any]
FEEDBACK_END = object()  # the end of a feedback edge: it holds no stream message open


class Stage:
    """One node of a chain: its firing rule, where its outputs go, and what hooks saw."""

    __slots__ = ("rule", "targets", "link", "started", "reported")

    def __init__(self, rule: FiringRule) -> None:
        self.rule = rule
        # output port -> (edge id, task of the target, or None for the next stage, port)
        self.targets: dict[str, list[tuple[str, ChainTask | None, str]]] = {}
        self.link: tuple[str, str] | None = None  # (my port, next stage's port)
        self.started = False
        self.reported = 0

    @property
    def state(self) -> str:
        """idle, running, failed or done, as the editor shows it."""
        if self.rule.errors:
            return "failed"
        if self.rule.finished:
            return "done"
        return "running" if self.started else "idle"


class ChainTask:
    """Runs one chain of nodes: pulls batches from the head's inbox, fires, delivers."""

    def __init__(self, stages: list[Stage], shared: Shared) -> None:
        self.stages = stages
        self.head = stages[0].rule
        self.shared = shared
        pn = self.head.pn
        fan_in = sum(len(edges) for edges in pn.incoming.values())
        self.inbox: asyncio.Queue[InboxItem] = asyncio.Queue(
            maxsize=max(1, shared.options.queue_batches * max(1, fan_in)))
        self.open_edges = {p: len(edges) for p, edges in pn.incoming.items()}
        self.threaded = pn.spec.threaded
        self.gather = 64  # inbox items taken into one piece of work, at most
        self._inflight: asyncio.Future[Any] | None = None
        # reports what the work under way did, if a stop cuts the wait for it short
        self._late: Callable[[Any], None] | None = None
        self.stranded = 0  # messages sent to this chain that a stop kept from its inbox
        # what the chain did so far, told from its worker threads (a threaded chain's)
        self.early = EarlyReports(asyncio.get_running_loop(), stages, shared.hooks,
                                  lambda: bool(self._downstream), self._report_entries,
                                  ) if self.threaded else None
        self.feeds: Feed | None = None  # a threaded source's stream, read by this task
        self.fed_by: ChainTask | None = None  # the task this source's stream is lent to
        self.fed_ports = ("", "")  # (the consumer's input port, this source's output port)
        self.in_flight = 0  # messages in the work under way (undone, if the run stops)
        self.lent: Feed | None = None  # this source's stream, as lent to fed_by
        self._delivering: asyncio.Future[None] | None = None  # early deliveries under way

    # -- synchronous work, inline or in a worker thread ----------------------------------

    def cascade(self, index: int, out: Outputs, steps: list[Step], processed: bool,
                log: list[Entry] | None = None) -> None:
        """Record stage ``index``'s outputs, and hand them on down the chain (``hand_down``).

        In a worker thread, what the chain did so far (after ``log``, what came before it)
        may be reported before the next stage starts its work (``runtime._early``).
        """
        early = (None if self.early is None
                 else functools.partial(self.early.hand_on, self, steps, log))
        hand_down(self.stages, index, out, steps, processed, early)

    def report_early(self, log: list[Entry], index: int,
                     then: Callable[[], None] | None = None) -> None:
        """From the worker: report ``log`` on the event loop now, if due (``runtime._early``).

        ``then`` runs on the loop after the report, and forces it.
        """
        if self.early is not None:
            self.early.report(log, index, then)

    @functools.cached_property
    def _downstream(self) -> list[ChainTask]:
        """The chains whose inboxes this one's edges lead to (read once wired)."""
        return [t for s in self.stages for ts in s.targets.values() for _e, t, _p in ts
                if t is not None]

    def _process(self, items: list[tuple[str, Batch]]) -> list[Step]:
        steps: list[Step] = []
        self.cascade(0, self.head.process(items), steps, True)
        return steps

    def _pull(self, stream: Iterator[Any], limit: int, seconds: float) -> tuple[list[Step],
                                                                               bool]:
        out, done = pull(self.head, stream, limit, seconds)
        steps: list[Step] = []
        self.cascade(0, out, steps, False)
        return steps, done

    def _start_failed(self, exc: Exception) -> list[Step]:
        steps: list[Step] = []
        self.cascade(0, start_failed(self.head, exc), steps, False)
        return steps

    def _finish(self) -> list[Step]:
        steps: list[Step] = []
        for index, stage in enumerate(self.stages):
            self.cascade(index, stage.rule.finish(), steps, False)
        return steps

    def _start(self) -> None:
        for stage in self.stages:
            stage.rule.start()

    def _close(self) -> None:
        for stage in self.stages:
            stage.rule.close()

    # -- the asyncio side ----------------------------------------------------------------

    def _flush_failures(self, stage: Stage) -> None:
        failures = stage.rule.failures
        while failures:
            self.shared.hooks.call("failed", stage.rule.id, failures.pop(0))

    async def work(self, func: Callable[..., Any], *args: Any,
                   late: Callable[[Any], None] | None = None) -> Any:
        """Run ``func(*args)`` inline, or in a worker thread for a threaded chain.

        ``late`` reports what ``func`` returns should a stop cancel the wait for it: the
        thread finishes all the same (``_settle`` waits), and the edges count its messages.
        """
        try:
            if self.threaded:
                self._inflight = asyncio.ensure_future(asyncio.to_thread(func, *args))
                self._late = late
                result = await asyncio.shield(self._inflight)
                self._late = None
                return result
            return func(*args)
        except BaseException:
            for stage in self.stages:
                self._flush_failures(stage)
            raise

    async def _settle(self) -> None:
        """Wait for work still running in a thread, so that close() comes after it."""
        inflight = self._inflight
        if inflight is not None and not inflight.done():
            await asyncio.wait([inflight])
        late, self._late = self._late, None
        if inflight is not None and inflight.done() and not inflight.cancelled():
            # an exception was reported through the node already; retrieving it is enough
            if inflight.exception() is None and late is not None:
                late(inflight.result())

    def report_late(self, steps: list[Step]) -> None:
        """Count what work cut short by a stop did; what it made for other chains is stranded.

        Those chains are stopping too, so nothing is delivered: each counts what it was sent
        as undone (``stranded``), as it counts what waits in its inbox.
        """
        for target, _port, batch, _edge in self.report(steps):
            target.stranded += len(batch.values)
        self.in_flight = 0

    def mark_started(self, stage: Stage) -> None:
        if not stage.started:
            stage.started = True
            self.shared.hooks.call("node_started", stage.rule.id)

    def report(self, steps: list[Step], next_stage: int | None = None) -> list[Delivery]:
        """Call the hooks for ``steps``, in order; return what goes to other chains' inboxes.

        With ``next_stage``, that stage has just been handed a batch and shows as started.
        """
        hooks = self.shared.hooks
        counts = self.shared.edge_counts
        deliveries: list[Delivery] = []
        for index, out, processed in steps:
            stage = self.stages[index]
            if processed:
                self.mark_started(stage)
            self._flush_failures(stage)
            for port, batch in out.items():
                if not len(batch):  # a Counted batch keeps no values, only its length
                    continue
                whole = not isinstance(batch, Counted)  # values let go: counted only
                if hooks.produced and whole:
                    hooks.call("produced", batch.origin, batch)
                for edge_id, target, target_port in stage.targets.get(port, ()):
                    counts[edge_id] += len(batch)
                    if hooks.emitted and whole:
                        hooks.call("emitted", edge_id, batch)
                    if target is not None:
                        deliveries.append((target, target_port, batch, edge_id))
            if processed:
                fired = stage.rule.fired
                if hooks.fired:
                    hooks.call("fired", stage.rule.id, fired - stage.reported)
                stage.reported = fired
        if next_stage is not None:
            self.mark_started(self.stages[next_stage])
        return deliveries

    def _report_entries(self, entries: list[Entry], next_stage: int | None = None) -> None:
        """Report, from the loop, what a worker call did so far, here and in a source it reads.

        What this chain made for other chains goes on after what went before it, in order.
        """
        deliveries = []
        for task, steps in entries:  # a source's deliveries come here: already processed
            found = task.report(steps)
            if task is self:
                deliveries += found
        if next_stage is not None:
            self.mark_started(self.stages[next_stage])
        if deliveries:
            self._delivering = asyncio.ensure_future(deliver(deliveries, self.shared.feedback,
                                                                   self._delivering))

    async def publish_entries(self, entries: list[Entry]) -> None:
        """Report a worker call's entries; what this chain made goes on to other chains."""
        for task, steps in entries:
            if task is self:
                await self._publish(steps)
            else:  # the source read here: its one edge comes to this task, already processed
                task.report(steps)

    async def _publish(self, steps: list[Step]) -> None:
        """Report each step through the hooks and put outputs on the edges leaving the chain."""
        deliveries = self.report(steps)
        early, self._delivering = self._delivering, None
        await deliver(deliveries, self.shared.feedback, early)

    async def run(self) -> None:
        """Run the chain from start to end, then tell every downstream task it ended."""
        try:
            await self.work(self._start)
            if self.head.pn.incoming:
                await self._consume()
            else:
                await self._produce()
        finally:
            if self._delivering is not None:
                self._delivering.cancel()
            await self._settle()
            lent = self.lent
            if lent is not None and not lent.outcome.done():  # its reader may be at it
                assert self.fed_by is not None  # noqa: S101 - lent to it
                await self.fed_by._settle()
            await self.work(self._close)
        for stage in self.stages:
            self.shared.hooks.call("node_ended", stage.rule.id, stage.state)

    async def _end_outputs(self) -> None:
        await self._publish(await self.work(self._finish, late=self.report_late))
        for stage in self.stages:
            for targets in stage.targets.values():
                for edge_id, target, target_port in targets:
                    if edge_id in self.shared.feedback:
                        self.shared.feedback[edge_id].send((target_port, FEEDBACK_END))
                    elif target is not None:
                        await target.inbox.put((target_port, END))

    async def _produce(self) -> None:
        head = self.stages[0]
        self.mark_started(head)
        options = self.shared.options
        stream: Iterator[Any] | None = None
        try:
            stream = await self.work(first_call, self.head)
        except FailFast:
            raise
        except Exception as exc:  # noqa: BLE001 - a source's failure is contained
            await self._publish(self._start_failed(exc))
        hooks = self.shared.hooks
        if stream is not None:
            if hooks.fired:
                hooks.call("fired", self.head.id, 1)
            head.reported = self.head.fired
        done = stream is None
        if stream is not None and self.fed_by is not None:
            self.lent = Feed(self, stream, *self.fed_ports)
            done = await lend(self, self.lent) != "waits"
        while not done:
            if (self.shared.drain is not None and self.shared.drain.is_set()
                    or self._consumers_ended()):
                # Closing the iterator lets the source release what it holds (a file, a queue).
                await self.work(getattr(stream, "close", lambda: None))
                break
            steps, done = await self.work(self._pull, stream, options.batch_size,
                                           options.source_slice_seconds,
                                           late=lambda pulled: self.report_late(pulled[0]))
            await self._publish(steps)
            await asyncio.sleep(0)
        await self._end_outputs()

    def _consumers_ended(self) -> bool:
        """Whether every node this source feeds has ended (a timer, say, feeding a latest input)."""
        heads = self._downstream
        return bool(heads) and all(t.head.finished for t in heads)

    async def _consume(self) -> None:
        inbox = self.inbox
        head = self.head
        stream_edges = sum(self.open_edges[p] for p in head.stream_ports)
        edges_open = sum(self.open_edges.values())
        # edges that may still bring a latest value stream messages wait for (not loops)
        holding = len([e for p in head.awaited for e in head.pn.incoming[p]
                       if e not in self.shared.feedback])
        quiet = self.shared.quiet
        get = inbox.get if quiet is None else functools.partial(quiet.get, inbox)
        while edges_open:
            if await read_lent(self, edges_open > 1) and inbox.empty():
                continue
            items = [await get()]
            while not inbox.empty() and len(items) < self.gather:
                items.append(inbox.get_nowait())
            work: list[tuple[str, Batch]] = []
            for port, payload in items:
                if payload is FEED:
                    continue
                if payload is END or payload is FEEDBACK_END:
                    edges_open -= 1
                    if port in head.pending:
                        stream_edges -= 1
                    elif payload is END and port in head.awaited:
                        holding -= 1
                elif not head.finished:
                    work.append((port, payload))
            if work:
                self.mark_started(self.stages[0])
                self.in_flight = sum(len(b.values) for _p, b in work)
                await self._publish(await self.work(self._process, work,
                                                    late=self.report_late))
                self.in_flight = 0
            streams_done = stream_edges == 0 if head.stream_ports else edges_open == 0
            # Inputs still waiting for a latest value hold the node open until it arrives
            # or every edge into a latest port has ended; a feedback edge holds nothing
            # open, since it can only bring a value once this node has ended (unless a
            # replay's schedule names that value: runtime._schedule).
            waiting = head.has_pending and (holding > 0 or head.held_open)
            if streams_done and not waiting and not head.finished:
                await self._end_outputs()
        if not head.finished:
            await self._end_outputs()
