"""The runtime's public API: load, validate, plan and run flows, watch them, list components.

The editor and the CLI use only what is here (re-exported from ``runtime``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from runtime._calling import FlowResult, add_feeds, watch_ports, with_values
from runtime._connections import check_connection
from runtime._engine import Engine, RunOptions, RunResult
from runtime._errors import EdgewiseError, FlowFileError, FlowInvalidError, Problem
from runtime._graph import Plan, build_plan, check_flow, resolve_node
from runtime._hooks import Hooks
from runtime._local import LocalEngine
from runtime._messages import Batch
from runtime._model import Flow, parse_flow, read_flow_document
from runtime._registry import Registry, default_registry
from runtime._taps import MIN_INTERVAL, LiveStats, Snapshot
from runtime._trust import TrustStore, code_nodes, require_trust

DISPLAY_TAG = "display"
DECISIONS_TAG = "decisions"
"""Tag of components whose ``decisions`` output records the decisions they took (the
supervisor's promotions and rollbacks), which ``edgewise decisions`` lists."""


def load(path: str | Path) -> Flow:
    """Read a flow file. Raises FlowFileError or FlowInvalidError with every format problem."""
    return parse_flow(read_flow_document(path))


FlowSource = Flow | dict[str, Any] | str | Path


def _resolve_doc(flow: FlowSource, base_dir: Path | None) -> tuple[Flow, Path, Any]:
    """The flow, the folder its paths are relative to, and the document read from a file."""
    if isinstance(flow, dict):
        flow = parse_flow(flow)
    if isinstance(flow, Flow):
        return flow, (base_dir or Path.cwd()).resolve(), None
    path = Path(flow)
    doc = read_flow_document(path)
    return parse_flow(doc), (base_dir or path.resolve().parent), doc


def _resolve(flow: FlowSource, base_dir: Path | None) -> tuple[Flow, Path]:
    model, where, _doc = _resolve_doc(flow, base_dir)
    return model, where


def validate(flow: FlowSource, *, registry: Registry | None = None,
             base_dir: Path | None = None) -> list[Problem]:
    """Return every problem of a flow (a Flow, a decoded document, or a file).

    An empty list means the flow can run.
    """
    try:
        model, where = _resolve(flow, base_dir)
    except FlowInvalidError as exc:
        return list(exc.problems)
    except FlowFileError as exc:
        return [Problem(message=str(exc), code="file", where=str(flow))]
    return check_flow(model, registry or default_registry(), where)[1]


def plan(flow: FlowSource, *, registry: Registry | None = None,
         base_dir: Path | None = None, trust: bool = False) -> Plan:
    """Check a flow and return the plan an engine runs.

    A flow *file* that holds code runs only if it is trusted (see ``runtime._trust``), or
    if ``trust`` is true; a ``Flow`` or document passed in is the caller's own.

    Raises:
        FlowFileError: the file cannot be read.
        FlowInvalidError: the flow has problems; every one is listed.
        UntrustedFlowError: the file holds code and is not trusted.
    """
    registry = registry or default_registry()
    model, where, doc = _resolve_doc(flow, base_dir)
    checked = build_plan(model, registry, where)
    if doc is not None:
        require_trust(doc, registry, str(flow), trusted=trust)
    return checked


def untrusted_code(doc: dict[str, Any], *,
                   registry: Registry | None = None) -> list[tuple[str, str]]:
    """The ``(node, component)`` pairs that would run code, if the flow is not trusted here.

    An empty list means the flow may run: it holds no code, or this exact document is
    trusted (see ``runtime._trust``). A host shows the list and asks before running.
    """
    found = code_nodes(doc, registry or default_registry())
    return [] if not found or TrustStore().is_trusted(doc) else found


def trust_flow(doc: dict[str, Any], flow: str | Path | None = None) -> None:
    """Trust this exact flow document from now on (the user has seen its code)."""
    TrustStore().trust(doc, flow)


def connection_problem(flow: Flow | dict[str, Any], source: str, target: str, *,
                       registry: Registry | None = None) -> Problem | None:
    """Say why a new edge ``source -> target`` would be refused, or return None if it fits."""
    model = parse_flow(flow) if isinstance(flow, dict) else flow
    return check_connection(model, source, target, registry or default_registry())


def components(registry: Registry | None = None) -> list[dict[str, Any]]:
    """Describe every installed component: id, category, title, docs, ports, params schema.

    The ports listed are those of the default params. A component whose ports depend on
    its params says so (``"dynamic_ports": true`` and ``"dynamic_sides"``: ``inputs``,
    ``outputs`` or both); a host then asks ``resolve_ports`` whenever a node's params change.
    """
    return [spec.to_json() for spec in (registry or default_registry())]


def resolve_ports(component_id: str, params: dict[str, Any] | None = None, *,
                  node: str = "node", registry: Registry | None = None,
                  base_dir: Path | None = None) -> dict[str, Any]:
    """Work out the ports a node of a component has with the given params.

    Args:
        component_id: The component, e.g. ``frame.route``.
        params: The node's params, as in the flow file.
        node: The node's id, used in problem messages.
        registry: The components to use (default: every installed one).
        base_dir: The folder that relative paths in params are relative to.

    Returns:
        A JSON-ready dict: ``inputs`` and ``outputs``, lists of ports as in
        ``components()``, or None when they cannot be known; ``dynamic_sides``; and
        ``problems``, why they cannot be known (invalid params, an unknown component),
        each a dict with ``message``, ``code``, ``node``, ``param``.
    """
    spec = (registry or default_registry()).get(component_id)
    if spec is None:
        problem = Problem(message=f"node '{node}': unknown component '{component_id}'",
                          code="unknown-component", node=node)
        return {"inputs": None, "outputs": None, "dynamic_sides": [],
                "problems": [dataclasses.asdict(problem)]}
    problems: list[Problem] = []
    resolved, _params, known = resolve_node(node, spec, dict(params or {}),
                                            (base_dir or Path.cwd()).resolve(), problems)
    blocking = [p for p in problems if p.code != "missing-file"]
    if not known:
        return {"inputs": None, "outputs": None, "dynamic_sides": spec.dynamic_sides,
                "problems": [dataclasses.asdict(p) for p in blocking]}
    return {"inputs": [p.to_json() for p in resolved.inputs.values()],
            "outputs": [p.to_json() for p in resolved.outputs.values()],
            "dynamic_sides": spec.dynamic_sides,
            "problems": []}


class Run:
    """One run of a plan. Attach observers, then call ``run()`` (or ``await run_async()``)."""

    def __init__(self, plan: Plan, *, engine: Engine | None = None,
                 options: RunOptions | None = None) -> None:
        self.plan = plan
        self.engine = engine or LocalEngine()
        self.options = options or RunOptions()
        self.hooks = Hooks()
        self.result: RunResult | None = None
        self._stats: LiveStats | None = None
        self._subscribers: list[tuple[Callable[[Snapshot], None], float]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._stop_requested = threading.Event()
        self._drain: asyncio.Event | None = None
        self._drain_timeout: float | None = None

    @property
    def stats(self) -> LiveStats:
        """Live statistics of every edge and node (switched on at first use)."""
        if self._stats is None:
            self._stats = LiveStats(self.plan)
            self._stats.attach(self.hooks)
        return self._stats

    def subscribe(self, callback: Callable[[Snapshot], None],
                  interval: float = MIN_INTERVAL) -> None:
        """Deliver snapshots of what changed, at most every ``interval`` s (>= 0.1 s).

        The last snapshot of a run has ``final`` set and holds every edge and node.
        """
        _ = self.stats
        self._subscribers.append((callback, max(interval, MIN_INTERVAL)))

    def on_display(self, callback: Callable[[str, Batch], None]) -> None:
        """Call ``callback(node, batch)`` for each batch reaching a display node (``debug``)."""
        shown = {
            edge_id: dst
            for node in self.plan.nodes.values()
            for edges in node.outgoing.values()
            for edge_id, dst, _port in edges
            if DISPLAY_TAG in self.plan.nodes[dst].spec.tags
        }
        if not shown:
            return

        def emitted(edge: str, batch: Batch) -> None:
            node = shown.get(edge)
            if node is not None:
                callback(node, batch)

        self.hooks.add("emitted", emitted)

    def stop(self) -> None:
        """Ask the run to stop; safe to call from any thread."""
        self._stop_requested.set()
        if self._loop is not None and self._stop is not None:
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the run has ended and its loop is closed: nothing to stop
                pass

    def drain(self, timeout: float = 10.0) -> None:
        """Ask the run to end gracefully; safe to call from any thread.

        Sources end at their next slice (a waiting source within a tenth of a second),
        every message already in flight flows on to the sinks, and the run ends as usual
        (``ok`` or ``errors``). If it has not ended ``timeout`` seconds later, it is
        stopped: its status is then ``stopped`` and ``result.undone`` says, per node, how
        many received messages were not handled.
        """
        if self._drain_timeout is not None:
            return
        self._drain_timeout = max(0.0, timeout)
        if self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._start_drain)
            except RuntimeError:  # the run has ended and its loop is closed
                pass

    def _start_drain(self) -> None:
        """On the run's loop: let the sources end, and stop the run at the deadline."""
        if self._drain is None or self._stop is None or self._drain_timeout is None:
            return
        self._drain.set()
        asyncio.get_running_loop().call_later(self._drain_timeout, self._stop.set)

    async def _publish(self) -> None:
        """Take one snapshot of the changes per tick; give each subscriber its own merge."""
        stats = self.stats
        tick = min(interval for _cb, interval in self._subscribers)
        pending: list[Snapshot | None] = [None] * len(self._subscribers)
        due = [0.0] * len(self._subscribers)
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(tick)
            snap = stats.snapshot(changed_only=True)
            now = loop.time()
            for i, (callback, interval) in enumerate(self._subscribers):
                if snap["edges"] or snap["nodes"]:
                    merged = pending[i]
                    if merged is None:
                        pending[i] = merged = {**snap, "edges": {}, "nodes": {}}
                    merged["t"] = snap["t"]
                    merged["edges"].update(snap["edges"])
                    merged["nodes"].update(snap["nodes"])
                ready = pending[i]
                if ready is not None and now >= due[i]:
                    pending[i], due[i] = None, now + interval - tick / 2
                    callback(ready)

    async def run_async(self) -> RunResult:
        """Run to the end in the running event loop and return the result."""
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._drain = asyncio.Event()
        if self._stop_requested.is_set():
            self._stop.set()
        if self._drain_timeout is not None:
            self._start_drain()
        publishers = [asyncio.create_task(self._publish())] if self._subscribers else []
        try:
            self.result = await self.engine.execute(self.plan, self.hooks, self.options,
                                                    self._stop, self._drain)
        finally:
            for task in publishers:
                task.cancel()
            await asyncio.gather(*publishers, return_exceptions=True)
        if self._subscribers:
            final = self.stats.snapshot()
            for callback, _interval in self._subscribers:
                callback(final)
        return self.result

    def run(self) -> RunResult:
        """Run to the end in a new event loop and return the result.

        Inside a running event loop (a notebook, say), the run gets a thread of its own.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.run_async())
        outcome: list[RunResult | BaseException] = []

        def in_thread() -> None:
            try:
                outcome.append(asyncio.run(self.run_async()))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                outcome.append(exc)

        thread = threading.Thread(target=in_thread, name="edgewise-run")
        thread.start()
        thread.join()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]


def run_flow(flow: FlowSource, *, inputs: Mapping[str, Any] | None = None,
             capture: Iterable[str] = (), fail_fast: bool = False,
             registry: Registry | None = None, base_dir: Path | None = None,
             engine: Engine | None = None, trust: bool = False) -> FlowResult:
    """Validate and run a flow to its end, feeding it values and returning what it made.

    Args:
        flow: A flow file (path), a decoded flow document (dict) or a ``Flow``.
        inputs: ``"node.port"`` to the value(s) fed to that input port, which no edge may
            reach: a list, tuple or iterator is one message per item; anything else (a
            DataFrame, a dict) is one message.
        capture: ``"node.port"`` output ports whose values are kept (connected or not, the
            ``error`` port too); read them with ``result.values("node.port")``.
        fail_fast: Stop the whole run at the first failed firing.
        registry: The components to use (default: every installed one).
        base_dir: The folder relative paths resolve against (default: the flow file's
            folder, or the working folder for a dict or ``Flow``).
        engine: The engine to run on (default: the local engine).
        trust: Run a flow *file* that holds code even if it is not trusted.

    Returns:
        The run's status (``ok``, ``errors``, ``aborted``), per-node and per-edge counts, and
        the captured values.

    Raises:
        FlowFileError: the file cannot be read.
        FlowInvalidError: the flow has problems, or ``inputs``/``capture`` name ports it
            lacks; every one is listed.
        UntrustedFlowError: the file holds code and is not trusted.
    """
    registry = registry or default_registry()
    model, where, doc = _resolve_doc(flow, base_dir)
    capture = list(capture)
    model, feeds = add_feeds(model, registry, inputs or {}, where, capture)
    full = registry.with_components(*feeds) if feeds else registry
    checked = build_plan(model, full, where)
    if doc is not None:
        require_trust(doc, registry, str(flow), trusted=trust)
    run = Run(checked, engine=engine, options=RunOptions(fail_fast=fail_fast))
    captured = watch_ports(checked, run.hooks, capture)
    return with_values(run.run(), captured)


__all__ = ["DECISIONS_TAG", "DISPLAY_TAG", "EdgewiseError", "FlowResult", "Run", "components",
           "connection_problem", "load", "plan", "resolve_ports", "run_flow", "trust_flow",
           "untrusted_code", "validate"]
