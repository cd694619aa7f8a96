"""The local engine: one asyncio task per node, batches of messages on bounded queues.

Each node owns an inbox queue. Every edge into the node puts ``(port, Batch)`` items (or
``(port, END)``) on it, so fan-in merges in arrival order. A queue holds a few batches,
which gives back pressure: a fast source waits for a slow consumer instead of filling
memory. Components still see one message at a time; only the engine works in batches,
which keeps the per-hop cost of asyncio near zero. Heavy components (``threaded=True``)
run their batches in worker threads so that the event loop, and every tap on it, stays live.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from runtime.engine import Engine, NodeResult, RunOptions, RunResult, RunStatus
from runtime.graph import Plan, PlanNode
from runtime.hooks import Hooks
from runtime.messages import END, Batch, Envelope, ErrorRecord, IdRanges, Parents
from runtime.registry import ERROR_PORT, Emission, Instance

Outputs = dict[str, Batch]
InboxItem = tuple[str, Any]
NO_PARENTS: tuple[int, ...] = ()
MAX_ERROR_INPUTS = 1000
THREADED_READ_AHEAD = 32


class _FailFast(Exception):
    def __init__(self, record: ErrorRecord) -> None:
        super().__init__(str(record))
        self.record = record


class _InitFailed(Exception):
    """The component could not be built for this node; the cause is chained."""


class _Shared:
    """What every node of one run shares: message ids, hooks, options and counters."""

    def __init__(self, hooks: Hooks, options: RunOptions) -> None:
        self._next_id = 1
        self._lock = threading.Lock()
        self.hooks = hooks
        self.options = options
        self.edge_counts: dict[str, int] = {}
        self.first_error: ErrorRecord | None = None

    def alloc(self, count: int) -> range:
        """Reserve ``count`` consecutive message ids."""
        with self._lock:
            first = self._next_id
            self._next_id += count
        return range(first, first + count)


class _Collector:
    """Gathers one firing's emissions per output port, then turns them into batches."""

    __slots__ = ("values", "parents")

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {}
        self.parents: dict[str, list[Parents]] = {}

    def add(self, port: str, value: Any, parents: Parents) -> None:
        if port not in self.values:
            self.values[port] = []
            self.parents[port] = []
        self.values[port].append(value)
        self.parents[port].append(parents)

    def add_all(self, emissions: Iterator[Emission], parents: Parents) -> None:
        for port, value in emissions:
            self.add(port, value, parents)

    def batches(self, origins: dict[str, str], shared: _Shared) -> Outputs:
        return {port: Batch(origins[port], shared.alloc(len(values)), self.parents[port],
                            values)
                for port, values in self.values.items()}


def _parents_key(envs: Sequence[Envelope]) -> Parents:
    return envs[0].id if len(envs) == 1 else tuple(e.id for e in envs)


class _NodeTask:
    """Runs one node: pulls batches from its inbox, fires the component, delivers outputs."""

    def __init__(self, pn: PlanNode, shared: _Shared) -> None:
        self.id = pn.id
        self.pn = pn
        self.spec = pn.spec
        self.shared = shared
        fan_in = sum(len(edges) for edges in pn.incoming.values())
        self.inbox: asyncio.Queue[InboxItem] = asyncio.Queue(
            maxsize=max(1, shared.options.queue_batches * max(1, fan_in)))
        inputs = pn.spec.inputs
        self.stream_ports = [p for p in pn.incoming if inputs[p].mode == "stream"]
        self.latest_ports = [p for p in pn.incoming if inputs[p].mode == "latest"]
        self.unconnected = [p for p in inputs if p not in pn.incoming]
        self.open_edges = {p: len(edges) for p, edges in pn.incoming.items()}
        self.pending: dict[str, deque[Envelope]] = {p: deque() for p in self.stream_ports}
        self.latest: dict[str, Envelope] = {}
        self.origins = {p: f"{pn.id}.{p}" for p in pn.spec.outputs}
        self.targets: dict[str, list[tuple[str, _NodeTask, str]]] = {}
        self.instance: Instance | None = None
        self.init_error: BaseException | None = None
        # A component that emits when it ends (collect, count) was computed from every
        # message it received: their ids, as ranges, become the parents of what it emits.
        self.track = pn.spec.is_class and callable(getattr(pn.spec.target, "end", None))
        self.consumed: list[range] = []
        self._inflight: asyncio.Future[Any] | None = None
        self.fired = 0
        self.errors = 0
        self.failures: list[ErrorRecord] = []
        self.halt = threading.Event()
        self.started = False
        self.finished = False
        outputs = pn.spec.data_outputs
        # A component whose outputs are set by params always returns a dict of them.
        self.single_output = (outputs[0] if len(outputs) == 1
                              and "outputs" not in pn.spec.dynamic_sides else None)
        # The fast path passes the value by position; inputs set by params go by name.
        self.fast = (len(self.stream_ports) == 1 and not self.latest_ports
                     and not self.unconnected and not pn.spec.is_generator
                     and self.single_output is not None
                     and "inputs" not in pn.spec.dynamic_sides)

    # -- firing, run synchronously (inline or in a worker thread) -------------------------

    def _fail(self, exc: BaseException, parents: Parents, out: _Collector) -> None:
        cause = self.init_error if isinstance(exc, _InitFailed) else exc
        assert cause is not None  # noqa: S101 - _InitFailed only when init failed
        ids = [parents] if isinstance(parents, int) else list(itertools.islice(
            parents, MAX_ERROR_INPUTS))
        message = str(cause)
        if not isinstance(parents, int) and len(parents) > MAX_ERROR_INPUTS:
            message += f" (the first {MAX_ERROR_INPUTS} of {len(parents)} input ids are listed)"
        record = ErrorRecord(node=self.id, component=self.spec.id,
                             error=type(cause).__name__, message=message, inputs=ids)
        self.errors += 1
        if self.shared.first_error is None:
            self.shared.first_error = record
        self.failures.append(record)  # hooks run on the event loop, after this work
        if self.shared.options.fail_fast:
            raise _FailFast(record)
        out.add(ERROR_PORT, record, parents)

    def _call(self, kwargs: dict[str, Any], parents: Parents, out: _Collector) -> None:
        self.fired += 1
        try:
            if self.instance is None:
                raise _InitFailed() from self.init_error
            out.add_all(self.instance.emissions(self.instance.call(**kwargs)), parents)
        except _FailFast:
            raise
        except Exception as exc:  # noqa: BLE001 - a component's failure is contained
            self._fail(exc, parents, out)

    def _process_fast(self, batch: Batch, out: Outputs) -> None:
        """One stream input, one output, one call per message: the common, hot case."""
        port = self.single_output
        assert port is not None  # noqa: S101 - guaranteed by self.fast
        values, ids = batch.values, batch.ids
        errors = _Collector()
        results: list[Any] = []
        try:
            if self.instance is None:
                for i in range(len(values)):
                    results.append(None)
                    self._fail(_InitFailed(), ids[i], errors)
            else:
                call = self.instance.call
                append = results.append
                while len(results) < len(values):
                    try:
                        for value in itertools.islice(values, len(results), None):
                            append(call(value))
                    except _FailFast:
                        results.append(None)  # the failing firing happened too
                        raise
                    except Exception as exc:  # noqa: BLE001 - a component's failure is contained
                        index = len(results)
                        append(None)
                        self._fail(exc, ids[index], errors)
        finally:
            self.fired += len(results)
        parents: Sequence[Parents] = ids
        if any(r is None for r in results):
            keep = [i for i, r in enumerate(results) if r is not None]
            results = [results[i] for i in keep]
            parents = [ids[i] for i in keep]
        if results:
            out[port] = Batch(self.origins[port], self.shared.alloc(len(results)), parents,
                              results)
        out.update(errors.batches(self.origins, self.shared))

    def _fire_ready(self, out: _Collector) -> None:
        pending, latest = self.pending, self.latest
        if len(latest) < len(self.latest_ports) or not self.stream_ports:
            return
        while all(pending[p] for p in self.stream_ports):
            envs = {p: pending[p].popleft() for p in self.stream_ports}
            envs.update(latest)
            kwargs = {p: e.value for p, e in envs.items()}
            for p in self.unconnected:
                kwargs[p] = None
            self._call(kwargs, _parents_key(list(envs.values())), out)

    def _consume_ids(self, ids: Sequence[int]) -> None:
        parts = [ids] if isinstance(ids, range) and ids.step == 1 else [
            range(i, i + 1) for i in ids]
        consumed = self.consumed
        for part in parts:
            if consumed and consumed[-1].stop == part.start:
                consumed[-1] = range(consumed[-1].start, part.stop)
            elif len(part):
                consumed.append(part)

    def process(self, items: list[tuple[str, Batch]]) -> Outputs:
        """Handle a run of inbox items and return what the node emitted."""
        if self.track:
            for _port, batch in items:
                self._consume_ids(batch.ids)
        if self.fast:
            out: Outputs = {}
            if len(items) == 1:
                batch = items[0][1]
            else:  # several batches waited: one pass over all of them, one output batch
                batch = Batch(items[0][1].origin, [i for _p, b in items for i in b.ids], [],
                              [v for _p, b in items for v in b.values])
            self._process_fast(batch, out)
            return out
        collector = _Collector()
        for port, batch in items:
            if port in self.pending:
                self.pending[port].extend(batch)
                self._fire_ready(collector)
                continue
            self.latest[port] = batch.envelope(len(batch) - 1)
            if self.stream_ports:
                self._fire_ready(collector)
            elif len(self.latest) == len(self.latest_ports):
                envs = list(self.latest.values())
                kwargs = {p: e.value for p, e in self.latest.items()}
                kwargs.update(dict.fromkeys(self.unconnected))
                self._call(kwargs, _parents_key(envs), collector)
        return collector.batches(self.origins, self.shared)

    def start(self) -> None:
        """Build the component instance for this node; a failure is kept, not raised."""
        try:
            self.instance = self.spec.instantiate(self.pn.params)
        except Exception as exc:  # noqa: BLE001 - reported on each firing as an error record
            self.init_error = exc

    def finish(self) -> Outputs:
        """Let the component emit its final messages, and report inputs that never fired."""
        out = _Collector()
        parents: Parents = IdRanges(self.consumed) if self.consumed else NO_PARENTS
        if self.instance is not None:
            try:
                out.add_all(self.instance.end(), parents)
            except _FailFast:
                raise
            except Exception as exc:  # noqa: BLE001 - a component's failure is contained
                self._fail(exc, parents, out)
        waiting = sum(len(q) for q in self.pending.values())
        missing = [p for p in self.latest_ports if p not in self.latest]
        if waiting and missing:
            parents = tuple(e.id for q in self.pending.values() for e in q)
            ports = ", ".join(f"'{p}'" for p in missing)
            never = RuntimeError(f"input {ports} never received a value, so {waiting} "
                                 "message(s) were not processed")
            self._fail(never, parents, out)
        elif waiting:
            parents = tuple(e.id for q in self.pending.values() for e in q)
            left = ", ".join(f"{len(q)} on '{p}'" for p, q in self.pending.items() if q)
            unpaired = RuntimeError(f"the inputs ended unevenly: {left} had no partner "
                                    "message on the other stream input(s)")
            self._fail(unpaired, parents, out)
        return out.batches(self.origins, self.shared)

    def close(self) -> None:
        """Release what the component holds."""
        if self.instance is not None:
            self.instance.close()

    def first_call(self) -> Iterator[Any]:
        """Start a source: call it once, and return its values (or emissions) iterator."""
        self.fired += 1
        if self.instance is None:
            raise _InitFailed() from self.init_error
        result = self.instance.call(**dict.fromkeys(self.unconnected))
        if self.single_output is not None and self.spec.is_generator:
            return iter(result)
        return self.instance.emissions(result)

    def pull(self, stream: Iterator[Any], limit: int, seconds: float) -> tuple[Outputs, bool]:
        """Take the next slice of a source's messages; say whether the source is exhausted."""
        clock = time.perf_counter
        deadline = clock() + seconds
        check_every = 1 if self.spec.threaded else 64
        raw = self.single_output is not None and self.spec.is_generator
        values: list[Any] = []
        out = _Collector()
        exhausted = True
        try:
            for item in stream:
                if raw:
                    if item is not None:
                        values.append(item)
                else:
                    out.add(item[0], item[1], NO_PARENTS)
                    values.append(None)
                if len(values) >= limit or (len(values) % check_every == 0
                                            and clock() > deadline):
                    exhausted = False
                    break
        except _FailFast:
            raise
        except Exception as exc:  # noqa: BLE001 - a source's failure ends it, contained
            self._fail(exc, NO_PARENTS, out)
        batches = out.batches(self.origins, self.shared)
        if raw and values:
            port = self.single_output
            assert port is not None  # noqa: S101 - raw implies one output
            batches[port] = Batch(self.origins[port], self.shared.alloc(len(values)),
                                  [NO_PARENTS] * len(values), values)
        return batches, exhausted

    def produce_in_thread(self, stream: Iterator[Any]) -> queue.Queue[tuple[str, Any]]:
        """Run a threaded source's iterator in its own thread, feeding a bounded queue.

        Each message is handed over as soon as it exists, however long the next one takes.
        """
        # Threaded sources make heavy messages (file chunks, frames): let them run only a
        # few messages ahead, so that back pressure bounds memory by chunks, not by 1,024s.
        handoff: queue.Queue[tuple[str, Any]] = queue.Queue(
            maxsize=THREADED_READ_AHEAD)
        halt = self.halt

        def put(item: tuple[str, Any]) -> bool:
            while not halt.is_set():
                try:
                    handoff.put(item, timeout=0.1)
                except queue.Full:
                    continue
                return True
            return False

        def produce() -> None:
            try:
                for item in stream:
                    if not put(("item", item)):
                        return
            except BaseException as exc:  # noqa: BLE001 - handed to the node to report
                put(("error", exc))
                return
            put(("done", None))

        threading.Thread(target=produce, daemon=True, name=f"source:{self.id}").start()
        return handoff

    def take(self, handoff: queue.Queue[tuple[str, Any]], limit: int) -> tuple[Outputs, bool]:
        """Wait for the next message of a threaded source, then take all that are ready."""
        items: list[tuple[str, Any]] = []
        while not items:
            try:
                items.append(handoff.get(timeout=0.1))
            except queue.Empty:
                if self.halt.is_set():
                    return {}, True
        while len(items) < limit:
            try:
                items.append(handoff.get_nowait())
            except queue.Empty:
                break
        end = next((i for i, (kind, _) in enumerate(items) if kind != "item"), None)
        values = iter(value for _kind, value in items[:end])
        out, _ = self.pull(values, limit, float("inf"))
        if end is None:
            return out, False
        kind, error = items[end]
        if kind == "error":
            if isinstance(error, _FailFast):
                raise error
            collector = _Collector()
            self._fail(error, NO_PARENTS, collector)
            out.update(collector.batches(self.origins, self.shared))
        return out, True

    # -- the asyncio side ----------------------------------------------------------------

    def _flush_failures(self) -> None:
        while self.failures:
            self.shared.hooks.call("failed", self.id, self.failures.pop(0))

    async def _work(self, func: Callable[..., Any], *args: Any) -> Any:
        try:
            if self.spec.threaded:
                self._inflight = asyncio.ensure_future(asyncio.to_thread(func, *args))
                return await asyncio.shield(self._inflight)
            return func(*args)
        finally:
            self._flush_failures()

    async def _settle(self) -> None:
        """Wait for work still running in a thread, so that close() comes after it."""
        inflight = self._inflight
        if inflight is not None and not inflight.done():
            await asyncio.wait([inflight])
        if inflight is not None and inflight.done() and not inflight.cancelled():
            inflight.exception()  # retrieved: it was reported through the node already

    async def deliver(self, out: Outputs) -> None:
        """Put each output batch on every edge leaving its port."""
        hooks = self.shared.hooks
        counts = self.shared.edge_counts
        for port, batch in out.items():
            if not batch.values:
                continue
            if hooks.produced:
                hooks.call("produced", batch.origin, batch)
            for edge_id, target, target_port in self.targets.get(port, ()):
                counts[edge_id] += len(batch.values)
                if hooks.emitted:
                    hooks.call("emitted", edge_id, batch)
                await target.inbox.put((target_port, batch))

    def _mark_started(self) -> None:
        if not self.started:
            self.started = True
            self.shared.hooks.call("node_started", self.id)

    async def run(self) -> None:
        """Run the node from start to end, then tell every downstream node it ended."""
        try:
            await self._work(self.start)
            if self.pn.incoming:
                await self._consume()
            else:
                await self._produce()
        finally:
            self.halt.set()
            await self._settle()
            await self._work(self.close)
        self.finished = True
        self.shared.hooks.call("node_ended", self.id, self.state)

    async def _end_outputs(self) -> None:
        self.finished = True
        await self.deliver(await self._work(self.finish))
        for targets in self.targets.values():
            for _edge, target, target_port in targets:
                await target.inbox.put((target_port, END))

    async def _produce(self) -> None:
        self._mark_started()
        options = self.shared.options
        stream: Iterator[Any] | None = None
        try:
            stream = await self._work(self.first_call)
        except _FailFast:
            raise
        except Exception as exc:  # noqa: BLE001 - a source's failure is contained
            failed = _Collector()
            self._fail(exc, NO_PARENTS, failed)
            self._flush_failures()
            await self.deliver(failed.batches(self.origins, self.shared))
        if stream is not None and self.shared.hooks.fired:
            self.shared.hooks.call("fired", self.id, 1)
        done = stream is None
        if stream is not None and self.spec.threaded:
            handoff = self.produce_in_thread(stream)
            while not done:
                out, done = await self._work(self.take, handoff, options.batch_size)
                await self.deliver(out)
        while not done:
            out, done = await self._work(self.pull, stream, options.batch_size,
                                         options.source_slice_seconds)
            await self.deliver(out)
            await asyncio.sleep(0)
        await self._end_outputs()

    async def _consume(self) -> None:
        inbox = self.inbox
        hooks = self.shared.hooks
        stream_edges = sum(self.open_edges[p] for p in self.stream_ports)
        edges_open = sum(self.open_edges.values())
        while edges_open:
            items = [await inbox.get()]
            while not inbox.empty() and len(items) < 64:
                items.append(inbox.get_nowait())
            work: list[tuple[str, Batch]] = []
            for port, payload in items:
                if payload is END:
                    edges_open -= 1
                    if port in self.pending:
                        stream_edges -= 1
                elif not self.finished:
                    work.append((port, payload))
            if work:
                self._mark_started()
                before = self.fired
                await self.deliver(await self._work(self.process, work))
                if hooks.fired:
                    hooks.call("fired", self.id, self.fired - before)
            streams_done = stream_edges == 0 if self.stream_ports else edges_open == 0
            # Inputs still waiting for a latest value hold the node open until it arrives
            # or every edge into a latest port has ended.
            waiting = any(self.pending.values()) and edges_open > stream_edges
            if streams_done and not waiting and not self.finished:
                await self._end_outputs()
        if not self.finished:
            await self._end_outputs()

    @property
    def state(self) -> str:
        """idle, running, failed or done, as the editor shows it.

        A run that was stopped or aborted reports its unfinished nodes as ``stopped``.
        """
        if self.errors:
            return "failed"
        if self.finished:
            return "done"
        return "running" if self.started else "idle"


class LocalEngine(Engine):
    """Runs a flow in this process on asyncio, with worker threads for heavy components."""

    name = "local"

    async def execute(self, plan: Plan, hooks: Hooks, options: RunOptions,
                      stop: asyncio.Event) -> RunResult:
        """Run every node to its end, or until ``stop`` is set or --fail-fast trips."""
        shared = _Shared(hooks, options)
        tasks = {nid: _NodeTask(plan.nodes[nid], shared) for nid in plan.order}
        for node in tasks.values():
            for port, edges in node.pn.outgoing.items():
                node.targets[port] = [(eid, tasks[dst], dport) for eid, dst, dport in edges]
                for eid, _dst, _dport in edges:
                    shared.edge_counts[eid] = 0
        started = time.perf_counter()
        status: RunStatus = "ok"
        running = {asyncio.create_task(t.run(), name=f"node:{nid}") for nid, t in tasks.items()}
        stopper = asyncio.create_task(stop.wait(), name="stop")
        try:
            pending = set(running)
            while pending:
                done, _ = await asyncio.wait(pending | {stopper},
                                             return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    status = "stopped"
                    break
                pending -= done
                failed = [t for t in done if t.exception() is not None]
                if failed:
                    exc = failed[0].exception()
                    if isinstance(exc, _FailFast):
                        status = "aborted"
                        break
                    raise exc  # type: ignore[misc]  # a bug in the engine: let it show
        finally:
            stopper.cancel()
            for task in running:
                task.cancel()
            await asyncio.gather(*running, stopper, return_exceptions=True)
        if status == "ok" and any(t.errors for t in tasks.values()):
            status = "errors"
        cut_short = status in ("stopped", "aborted")
        nodes = {nid: NodeResult(fired=t.fired, errors=t.errors,
                                 state="stopped" if cut_short and t.state in ("idle", "running")
                                 else t.state)
                 for nid, t in tasks.items()}
        result = RunResult(status=status, nodes=nodes, edges=dict(shared.edge_counts),
                           seconds=time.perf_counter() - started,
                           first_error=shared.first_error,
                           messages=sum(shared.edge_counts.values()))
        hooks.call("run_ended", result)
        return result
