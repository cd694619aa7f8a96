"""The firing rule of one node: how its inputs are joined, fired, ended and contained.

This module is engine-neutral and synchronous: a ``FiringRule`` takes input batches and
returns output batches, with no queue, thread or event loop of its own. The local engine
drives it from asyncio tasks; another engine (Ray actors) drives the same class, so every
engine joins inputs, numbers messages and reports errors the same way.

How a node's inputs are joined, for component authors:

- **One stream input:** the component is called once per message, in order.
- **Several stream inputs** are paired one to one: the first message of each input makes
  the first call, the second messages the second call, and so on. Fan-in on one port
  (two edges into it) merges those edges in arrival order first.
- **A ``latest`` input** holds the newest value that arrived on it. Stream messages wait
  until every latest input has a value, then each call uses the latest values of that
  moment. A newer value replaces the old one for later calls.
- **Only ``latest`` inputs:** the node fires on every update of any of them, once all of
  them have a value.
- **An unconnected optional input** gets ``None``.
- **A latest input declared ``latest(..., waits=False)``** holds nothing back: stream
  messages go on without its first value, and the component gets ``None`` until then.
- **Streams that end unevenly** (messages left on one stream input with no partner on
  another) produce one error record listing the unpaired messages; so do stream messages
  still waiting for a latest input that never got a value.
- **A feedback edge** (into a ``latest`` input, closing a loop) holds nothing open: when a
  node ends is decided by its stream edges alone (see ``runtime._delivery``).
- **A component tagged ``unpaired``** (``UNPAIRED_TAG``) is called once per message of
  any stream input, in arrival order, with None on its other stream inputs: it joins its
  streams itself (labels that arrive later than the predictions they grade).

When every input has ended, ``end()`` lets a class component emit its final messages
(``stream.collect``, ``stream.count``); their parents are every message the node received.

Errors are contained: a call that raises gives an ``ErrorRecord`` on the node's ``error``
port instead of an output, and the run goes on, unless the run is ``fail_fast``, in which
case ``FailFast`` is raised for the engine to abort the run. A component that contains a
failure itself (a scorer whose other model answered) returns an ``ErrorRecord`` on
``error`` beside its outputs; it is counted and reported as a failed call's is. Lineage
costs only ids: each output's parents are the ids of the inputs of the call that made it.
"""

from __future__ import annotations

import collections
import inspect
import itertools
import operator
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from runtime._call_context import CONTEXT_TAG, CallContext, set_call_context
from runtime._collector import Collector, Outputs, RunContext
from runtime._graph import PlanNode
from runtime._messages import Batch, Envelope, ErrorRecord, IdRanges, Parents, exception_text
from runtime._registry import ERROR_PORT, Instance
from runtime._spec import UNPAIRED_TAG

NO_PARENTS: tuple[int, ...] = ()
MAX_ERROR_INPUTS = 1000


class FailFast(Exception):  # noqa: N818 - a signal to the engine, not an error of its own
    """A firing failed in a ``fail_fast`` run: the engine aborts the run."""

    def __init__(self, record: ErrorRecord) -> None:
        super().__init__(str(record))
        self.record = record


class InitFailed(Exception):
    """The component could not be built for this node; the cause is chained."""


def _parents_key(envs: Sequence[Envelope]) -> Parents:
    return envs[0].id if len(envs) == 1 else tuple(e.id for e in envs)


class FiringRule:
    """Joins one node's input batches, calls its component, and returns its output batches.

    Call ``start()`` once, ``process(items)`` with each run of ``(port, Batch)`` items that
    arrived, ``finish()`` when every input has ended, and ``close()`` last. Error records
    made on the way are kept in ``failures`` for the engine to report (and then clear).
    """

    def __init__(self, pn: PlanNode, context: RunContext) -> None:
        self.id = pn.id
        self.pn = pn
        self.spec = pn.spec
        self.context = context
        inputs = pn.spec.inputs
        self.stream_ports = [p for p in pn.incoming if inputs[p].mode == "stream"]
        self.latest_ports = [p for p in pn.incoming if inputs[p].mode == "latest"]
        # the latest inputs that must have a value before the node fires
        self.awaited = [p for p in self.latest_ports if inputs[p].waits]
        self.unconnected = [p for p in inputs if p not in pn.incoming]
        # the inputs a call gets None on unless they have a value: the unconnected ones,
        # and latest inputs that do not wait for their first value
        self.defaults = self.unconnected + [p for p in self.latest_ports
                                            if p not in self.awaited]
        self.pending: dict[str, deque[Envelope]] = {p: deque() for p in self.stream_ports}
        self.latest: dict[str, Envelope] = {}
        self.origins = {p: f"{pn.id}.{p}" for p in pn.spec.outputs}
        self.instance: Instance | None = None
        self.init_error: BaseException | None = None
        # A component that emits when it ends (collect, count) was computed from every
        # message it received: their ids, as ranges, become the parents of what it emits.
        self.track = pn.spec.is_class and callable(getattr(pn.spec.target, "end", None))
        self.consumed: list[range] = []
        self.fired = 0
        self.errors = 0
        self.failures: list[ErrorRecord] = []
        self.finished = False
        # A component that asks where its inputs came from (``runtime.call_context``) is
        # told around each call; it never takes the fast path, which calls per batch.
        self.wants_context = CONTEXT_TAG in pn.spec.tags
        self.unpaired = UNPAIRED_TAG in pn.spec.tags
        outputs = pn.spec.data_outputs
        # A component whose outputs are set by params always returns a dict of them.
        self.single_output = (outputs[0] if len(outputs) == 1
                              and "outputs" not in pn.spec.dynamic_sides else None)
        # The fast path: one stream input, one call per message with the latest values of
        # the moment beside it, one output or none (a sink); inputs set by params never.
        self.fast = (len(self.stream_ports) == 1 and not pn.spec.is_generator
                     and (self.single_output is not None
                          or not outputs and "outputs" not in pn.spec.dynamic_sides)
                     and "inputs" not in pn.spec.dynamic_sides and not self.wants_context
                     and not self.unpaired)
        # the stream input is the only input: its value goes by position, with no join
        self.alone = not self.latest_ports and not self.unconnected

    def batches(self, out: Collector) -> Outputs:
        """The collected emissions as output batches of this node."""
        return out.batches(self.origins, self.context)

    def fail(self, exc: BaseException, parents: Parents, out: Collector) -> None:
        """Turn a failed call into an error record on the ``error`` port (or FailFast)."""
        cause = self.init_error if isinstance(exc, InitFailed) else exc
        assert cause is not None  # noqa: S101 - InitFailed only when init failed
        ids = [parents] if isinstance(parents, int) else list(itertools.islice(
            parents, MAX_ERROR_INPUTS))
        message = exception_text(cause)
        if not isinstance(parents, int) and len(parents) > MAX_ERROR_INPUTS:
            message += f" (the first {MAX_ERROR_INPUTS} of {len(parents)} input ids are listed)"
        self.report(ErrorRecord(node=self.id, component=self.spec.id,
                                error=type(cause).__name__, message=message, inputs=ids),
                    parents, out)

    def report(self, record: ErrorRecord, parents: Parents, out: Collector) -> None:
        """Count an error record, keep it for the engine, and put it on the ``error`` port."""
        self.errors += 1
        if self.context.first_error is None:
            self.context.first_error = record
        self.failures.append(record)
        if self.context.fail_fast:
            raise FailFast(record)
        out.add(ERROR_PORT, record, parents)

    def _call(self, kwargs: dict[str, Any], parents: Parents, out: Collector,
              envs: dict[str, Envelope] | None = None) -> None:
        self.fired += 1
        if self.wants_context and envs is not None:
            set_call_context(CallContext(self.context.run_id, self.id,
                                         {p: e.id for p, e in envs.items()}))
        try:
            if self.instance is None:
                raise InitFailed() from self.init_error
            for port, value in self.instance.emissions(self.instance.call(**kwargs)):
                if port == ERROR_PORT and isinstance(value, ErrorRecord):  # a failure that the
                    self.report(value, parents, out)  # component contained, counted as one
                else:
                    out.add(port, value, parents)
        except FailFast:
            raise
        except Exception as exc:  # noqa: BLE001 - a component's failure is contained
            self.fail(exc, parents, out)
        finally:
            if self.wants_context:
                set_call_context(None)

    def _fast_ready(self, items: Sequence[tuple[str, Batch]]) -> bool:
        """Whether ``items`` need no join: stream messages only, none waiting, latest values in."""
        if self.alone:
            return True
        port = self.stream_ports[0]
        return (not self.pending[port] and all(p == port for p, _b in items)
                and all(p in self.latest for p in self.awaited))

    def _fast_call(self, instance: Instance) -> Callable[[Any], Any]:
        """The component as a function of the stream value, the other inputs bound."""
        call = instance.call
        if not self.alone:
            port, given = self.stream_ports[0], dict.fromkeys(self.defaults)
            given.update({p: e.value for p, e in self.latest.items()})
            made = call

            def call(value: Any) -> Any:
                return made(**{port: value}, **given)
        if self.single_output is not None:
            return call
        whole = call

        def sink(value: Any) -> None:  # what a sink returns goes nowhere, as in _call
            result = whole(value)
            if inspect.isgenerator(result):
                collections.deque(result, 0)
        return sink

    def _process_fast(self, batch: Batch, out: Outputs) -> None:
        """One stream input, one call per message: the common, hot case (see ``fast``)."""
        port = self.single_output
        values, ids = batch.values, batch.ids
        # each call's parents: its message, then the latest values it used (as in _call)
        used = tuple(e.id for e in self.latest.values())
        parents: Sequence[Parents] = [(i, *used) for i in ids] if used else ids
        errors = Collector()
        results: list[Any] = []
        try:
            if self.instance is None:
                for i in range(len(values)):
                    results.append(None)
                    self.fail(InitFailed(), parents[i], errors)
            else:
                call = self._fast_call(self.instance)
                while len(results) < len(values):
                    try:  # extend keeps the results made before a call raises
                        results.extend(map(call, itertools.islice(values, len(results), None)))
                    except FailFast:
                        results.append(None)  # the failing firing happened too
                        raise
                    except Exception as exc:  # noqa: BLE001 - a component's failure is contained
                        index = len(results)
                        results.append(None)
                        self.fail(exc, parents[index], errors)
        finally:
            self.fired += len(results)
        # "is None", never "==": a DataFrame compared with None is not a truth value.
        if port is not None and any(map(operator.is_, results, itertools.repeat(None))):
            keep = [i for i, r in enumerate(results) if r is not None]
            results = [results[i] for i in keep]
            parents = [parents[i] for i in keep]
        if port is not None and results:
            out[port] = Batch(self.origins[port], self.context.alloc(len(results)), parents,
                              results)
        out.update(self.batches(errors))

    def _fire_ready(self, out: Collector) -> None:
        pending, latest = self.pending, self.latest
        if not self.stream_ports or any(p not in latest for p in self.awaited):
            return
        if self.unpaired:
            self._fire_each(out)
            return
        while all(pending[p] for p in self.stream_ports):
            envs = {p: pending[p].popleft() for p in self.stream_ports}
            envs.update(latest)
            kwargs = dict.fromkeys(self.defaults)
            kwargs.update({p: e.value for p, e in envs.items()})
            self._call(kwargs, _parents_key(list(envs.values())), out, envs)

    def _fire_each(self, out: Collector) -> None:
        """Call once per waiting stream message, the other stream inputs being None."""
        for port in self.stream_ports:
            while self.pending[port]:
                envs = {port: self.pending[port].popleft(), **self.latest}
                kwargs: dict[str, Any] = dict.fromkeys(self.stream_ports)
                kwargs.update(dict.fromkeys(self.defaults))
                kwargs.update({p: e.value for p, e in envs.items()})
                self._call(kwargs, _parents_key(list(envs.values())), out, envs)

    def _consume_ids(self, ids: Sequence[int]) -> None:
        parts = [ids] if isinstance(ids, range) and ids.step == 1 else [
            range(i, i + 1) for i in ids]
        consumed = self.consumed
        for part in parts:
            if consumed and consumed[-1].stop == part.start:
                consumed[-1] = range(consumed[-1].start, part.stop)
            elif len(part):
                consumed.append(part)

    def process(self, items: Sequence[tuple[str, Batch]]) -> Outputs:
        """Handle a run of ``(input port, Batch)`` items and return what the node emitted."""
        if self.track:
            for _port, batch in items:
                self._consume_ids(batch.ids)
        if self.fast and self._fast_ready(items):
            out: Outputs = {}
            if len(items) == 1:
                batch = items[0][1]
            else:  # several batches waited: one pass over all of them, one output batch
                batch = Batch(items[0][1].origin, [i for _p, b in items for i in b.ids], [],
                              [v for _p, b in items for v in b.values])
            self._process_fast(batch, out)
            return out
        collector = Collector()
        for port, batch in items:
            if port in self.pending:
                self.pending[port].extend(batch)
                self._fire_ready(collector)
                continue
            self.latest[port] = batch.envelope(len(batch) - 1)
            if self.stream_ports:
                self._fire_ready(collector)
            elif all(p in self.latest for p in self.awaited):
                envs = list(self.latest.values())
                kwargs = dict.fromkeys(self.defaults)
                kwargs.update({p: e.value for p, e in self.latest.items()})
                self._call(kwargs, _parents_key(envs), collector, self.latest)
        return self.batches(collector)

    def start(self) -> None:
        """Build the component instance for this node; a failure is kept, not raised."""
        try:
            self.instance = self.spec.instantiate(self.pn.params)
        except Exception as exc:  # noqa: BLE001 - reported on each firing as an error record
            self.init_error = exc

    def finish(self) -> Outputs:
        """Let the component emit its final messages, and report inputs that never fired."""
        self.finished = True
        out = Collector()
        parents: Parents = IdRanges(self.consumed) if self.consumed else NO_PARENTS
        if self.instance is not None:
            try:
                out.add_all(self.instance.end(), parents)
            except FailFast:
                raise
            except Exception as exc:  # noqa: BLE001 - a component's failure is contained
                self.fail(exc, parents, out)
        waiting = sum(len(q) for q in self.pending.values())
        missing = [p for p in self.awaited if p not in self.latest]
        if waiting and missing:
            parents = tuple(e.id for q in self.pending.values() for e in q)
            ports = ", ".join(f"'{p}'" for p in missing)
            never = RuntimeError(f"input {ports} never received a value, so {waiting} "
                                 "message(s) were not processed")
            self.fail(never, parents, out)
        elif waiting:
            parents = tuple(e.id for q in self.pending.values() for e in q)
            left = ", ".join(f"{len(q)} on '{p}'" for p, q in self.pending.items() if q)
            unpaired = RuntimeError(f"the inputs ended unevenly: {left} had no partner "
                                    "message on the other stream input(s)")
            self.fail(unpaired, parents, out)
        return self.batches(out)

    def close(self) -> None:
        """Release what the component holds."""
        if self.instance is not None:
            self.instance.close()

    @property
    def has_pending(self) -> bool:
        """Whether stream messages wait for a partner or for a latest value."""
        return any(self.pending.values())

    @property
    def held_open(self) -> bool:
        """Whether a stream message waits for a value a replay's schedule names.

        Never for this rule; see ``runtime._schedule``. Such a node stays open until the
        value comes or the run goes quiet (``runtime._quiet``).
        """
        return False
