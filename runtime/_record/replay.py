"""Replay: re-run a node and everything downstream of it on the values a kept run recorded.

Every edge that enters the replayed part from outside is fed by a source that emits the
values recorded on it, in their recorded order. Run unchanged, a replay reproduces the
recorded outputs: what depended on timing (which latest value each call used, a model sent
back round a loop included, and in which order a node took messages from several stream
edges) is read from the record and given to the engine as a schedule
(``runtime._record.schedule``). Run with an edited flow (other params, another estimator),
it shows what would have happened, with no schedule. The result is kept as a new run that
names the run it replays.

A kept run may come from someone else, so a replay says what it will run before it runs
it (:class:`ReplayPlan`), refuses a stored flow that was changed after recording, refuses
inputs the recording cannot feed, and writes what its sinks make inside the new run's
folder unless asked to write the flow's own output files.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from runtime._engine import Engine, RunOptions, RunResult
from runtime._errors import EdgewiseError, FlowInvalidError, Problem
from runtime._graph import Plan, build_plan, path_fields
from runtime._hooks import Hooks
from runtime._local import LocalEngine
from runtime._model import Flow, parse_flow
from runtime._record.identity import flow_hash, new_run_id
from runtime._record.keeping import StoragePolicy
from runtime._record.recorder import Recorder
from runtime._record.schedule import recorded_schedule, same_part
from runtime._record.store import RunStore, runs_root
from runtime._registry import ComponentSpec, Registry, component, default_registry
from runtime._terminal import plain
from runtime._trust import require_trust

REPLAY_PREFIX = "replay_"
OUTPUTS_DIR = "outputs"


class ReplayRefusedError(EdgewiseError, LookupError):
    """The replay cannot be run from what the kept run holds; the message says why."""


@dataclass
class ReplayPlan:
    """What a replay will run, on which recorded inputs, and where its sinks will write."""

    store: RunStore
    from_node: str
    flow: dict[str, Any]
    run_id: str
    folder: Path
    nodes: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    sub_flow: Flow | None = None
    registry: Registry | None = None
    base_dir: Path = Path(".")
    # The replayed part is as recorded: its calls get the latest values the record's did.
    exact: bool = False

    @property
    def part(self) -> set[str]:
        """The ids of the replayed nodes."""
        return {n["node"] for n in self.nodes}

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form, for ``--json`` output."""
        return {"from": self.from_node, "run": self.run_id, "nodes": self.nodes,
                "inputs": self.inputs, "outputs": self.outputs}


def _recorded_source(component_id: str, store: RunStore, origin: str,
                     type_: str) -> ComponentSpec:
    def emit() -> Iterator[Any]:
        for message, value in store.values(origin):
            # not kept: value() says so (a replay checks that before it starts)
            yield value if message.kept is not None else store.value(message.id)

    emit.__doc__ = f"Emit the values recorded on {origin} in run {store.id}."
    return component(component_id, outputs={"data": type_}, category="replay",
                     threaded=True)(emit)


def stored_flow_problem(store: RunStore) -> str | None:
    """Why the flow in a run's manifest cannot be trusted, or None if it is as recorded."""
    manifest = store.manifest()
    stored = manifest.get("flow")
    if isinstance(stored, dict) and manifest.get("flow_hash") == flow_hash(stored):
        return None
    made = {o.split(".", 1)[0] for o in store.origins()} | set(manifest.get("nodes") or {})
    nodes = stored.get("nodes", []) if isinstance(stored, dict) else []
    unseen = [str(n.get("id")) for n in nodes if isinstance(n, dict) and n.get("id") not in made]
    hint = (f"; node(s) {', '.join(plain(n) for n in unseen)} made nothing in the recording"
            if unseen else "")
    return (f"the flow stored in run {store.id}'s manifest.json was changed after the run "
            f"was recorded (it no longer matches its recorded hash){hint}. Replaying it could "
            "run anything: give the flow to replay with --flow FILE")


def plan_replay(store: RunStore, from_node: str, workspace: Path, *,
                flow: dict[str, Any] | None = None, registry: Registry | None = None,
                write_outputs: bool = False, trust: bool = False,
                flow_name: str | None = None) -> ReplayPlan:
    """Check a replay and say what it will run, without running anything.

    Raises:
        FlowInvalidError: the (edited) flow is invalid, or the node is not in it.
        ReplayRefusedError: the stored flow was changed since recording (and no ``flow``
            was given), or an input of the replayed part was not recorded.
        UnsafeModelError: a recorded model that would be fed is refused by
            ``runtime._record.safeload``.
        LookupError: a value needed as input was not kept by the original recording.
        UntrustedFlowError: a replayed node runs code, the flow is not trusted here, and
            ``trust`` is false (a kept run may come from someone else).
    """
    registry = registry or default_registry()
    if flow is None:
        problem = stored_flow_problem(store)
        if problem:
            raise ReplayRefusedError(problem)
    manifest = store.manifest()
    doc = flow if flow is not None else store.flow()
    model = parse_flow(doc)
    if model.node(from_node) is None:
        known = ", ".join(n.id for n in model.nodes)
        raise FlowInvalidError([Problem(message=f"no node '{from_node}' in the flow (nodes: "
                                                f"{known})", code="unknown-node")])
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(n.id for n in model.nodes)
    graph.add_edges_from((e.source_node, e.target_node) for e in model.edges)
    part = {from_node} | nx.descendants(graph, from_node)
    root = runs_root(workspace)
    newest = max((p.name for p in root.iterdir()), default="") if root.is_dir() else ""
    run_id = new_run_id(after=newest)
    plan = ReplayPlan(store=store, from_node=from_node, flow=doc, run_id=run_id,
                      folder=root / run_id, registry=registry,
                      base_dir=Path(manifest.get("base_dir", ".")),
                      exact=flow is None or _unedited(store, model, part))
    nodes = [n.model_dump(mode="json", exclude_none=True) for n in model.nodes if n.id in part]
    for node in nodes:
        spec = registry.get(node["component"])
        plan.nodes.append({"node": node["id"], "component": node["component"],
                           "runs_code": bool(spec and spec.runs_code)})
        if spec is not None and not write_outputs:
            _redirect_outputs(plan, node, spec)
    if any(n["runs_code"] for n in plan.nodes):
        require_trust(doc, registry, flow_name or f"the flow recorded in run {store.id}",
                      trusted=trust, is_file=flow_name is not None)
    edges, extra = _feed(plan, model, part, registry, nodes)
    plan.sub_flow = parse_flow({"edgewise": 1, "name": f"{model.name} (replay from "
                                                      f"{from_node})",
                                "nodes": nodes, "edges": edges})
    plan.registry = registry.with_components(*extra)
    return plan


def _redirect_outputs(plan: ReplayPlan, node: dict[str, Any], spec: ComponentSpec) -> None:
    """Point the files a sink writes inside the new run's folder."""
    params = node.setdefault("params", {})
    for name, kind in path_fields(spec.params_model).items():
        if kind != "output":
            continue
        default = spec.params_model.model_fields[name].default
        value = params.get(name, default)
        if not isinstance(value, str) or not value:
            continue
        target = plan.folder / OUTPUTS_DIR / node["id"] / Path(value).name
        params[name] = str(target)
        plan.outputs[f"{node['id']}.{name}"] = {"flow": value, "written": str(target)}


def _feed(plan: ReplayPlan, model: Flow, part: set[str], registry: Registry,
          nodes: list[dict[str, Any]]) -> tuple[list[dict[str, str]], list[ComponentSpec]]:
    """The edges of the replayed part, with recorded sources standing in for the rest."""
    store = plan.store
    recorded = store.flow()
    components = {n.get("id"): n.get("component") for n in recorded.get("nodes", [])}
    sources = {e.get("source") for e in recorded.get("edges", [])}
    ports = set(store.origins())
    edge_counts = store.manifest().get("edges") or {}
    feeds: dict[str, str] = {}
    extra: list[ComponentSpec] = []
    edges: list[dict[str, str]] = []
    for edge in model.edges:
        if edge.target_node not in part:
            continue
        if edge.source_node in part:
            edges.append({"source": edge.source, "target": edge.target})
            continue
        origin = edge.source
        if origin not in feeds:
            _check_covered(store, edge, model, components, sources, ports, edge_counts)
            node_id = _stand_in(origin)
            spec_of_source = registry.get(str(components[edge.source_node]))
            type_ = "Any"
            if spec_of_source and edge.source_port in spec_of_source.outputs:
                type_ = spec_of_source.outputs[edge.source_port].type
            spec = _recorded_source(f"replay.{node_id}", store, origin, type_)
            extra.append(spec)
            nodes.append({"id": node_id, "component": spec.id})
            feeds[origin] = node_id
            plan.inputs[origin] = {"messages": store.count(origin), "feeds": []}
        plan.inputs[origin]["feeds"].append(edge.target)
        edges.append({"source": f"{feeds[origin]}.data", "target": edge.target})
    return edges, extra


def _check_covered(store: RunStore, edge: Any, model: Flow, components: dict[Any, Any],
                   sources: set[Any], ports: set[str], edge_counts: dict[str, Any]) -> None:
    """Refuse an input of the replayed part that the recording cannot feed as it was."""
    origin, into = edge.source, f"node '{edge.target_node}', input '{edge.target_port}'"
    source = model.node(edge.source_node)
    if edge.source_node not in components:
        known = ", ".join(plain(n) for n in components)
        msg = (f"{into} would be fed from {origin}, but run {store.id} has no node "
               f"'{edge.source_node}' (its nodes: {known}); a replay feeds only values the "
               "run recorded. Is this the flow that was recorded, or was a node renamed?")
        raise ReplayRefusedError(msg)
    if source is not None and source.component != components[edge.source_node]:
        msg = (f"{into} would be fed from {origin}, but '{edge.source_node}' is "
               f"{source.component} in this flow and {plain(components[edge.source_node])} "
               f"in run {store.id}; the recorded values are not what it would make")
        raise ReplayRefusedError(msg)
    if origin not in ports and origin not in sources:
        made = sorted(p for p in ports if p.startswith(edge.source_node + "."))
        msg = (f"{into} would be fed from {origin}, which run {store.id} did not record "
               f"(recorded ports of '{edge.source_node}': {', '.join(made) or 'none'})")
        raise ReplayRefusedError(msg)
    if origin not in ports and edge_counts.get(edge.id, {}).get("count", 0):
        msg = f"run {store.id} did not record {origin}, which feeds {into}"
        raise ReplayRefusedError(msg)
    _check_kept(store, origin)
    _check_models(store, origin)


def _check_models(store: RunStore, origin: str) -> None:
    """Refuse, before anything runs, recorded models that would not load safely."""
    from runtime._record.safeload import check_model

    for message_id, path in store.kept_files(origin, "model"):
        check_model(path, f"the model of message {message_id} (on {origin})")


def run_replay(plan: ReplayPlan, workspace: Path, *, policy: StoragePolicy | None = None,
               engine: Engine | None = None) -> tuple[RunResult, Recorder]:
    """Run a checked replay plan and keep it as a new run.

    Args:
        plan: What :func:`plan_replay` checked and said it would run.
        workspace: The folder whose ``.edgewise/runs/`` keeps the new run.
        policy: Which values the new run keeps (default: all of them).
        engine: The engine to run on (default: the local engine).

    Returns:
        The replay's result, and the recorder that kept it (its ``run_id``, ``store``).

    Raises:
        FlowInvalidError: the replayed part no longer checks (a component was removed).
        OSError: the new run's folder cannot be made; nothing ran.
    """
    assert plan.sub_flow is not None and plan.registry is not None  # noqa: S101 - plan_replay
    checked = build_plan(plan.sub_flow, plan.registry, plan.base_dir)
    manifest = plan.store.manifest()
    recorder = Recorder(checked, workspace, policy=policy, run_id=plan.run_id, links={
        "flow_file": manifest.get("flow_file"), "replay_of": plan.store.id,
        "replay_from": plan.from_node, "replay_flow": plan.flow,
        "replay_inputs": {o: _stand_in(o) for o in plan.inputs},
        "replay_outputs": plan.outputs})
    schedule = recorded_schedule(plan.store, checked, {
        o: f"{_stand_in(o)}.data" for o in plan.inputs}) if plan.exact else None
    options = RunOptions(run_id=recorder.run_id, schedule=schedule)
    return _execute(checked, Hooks(), recorder, engine or LocalEngine(), options), recorder


def _stand_in(origin: str) -> str:
    """The id of the node that emits the values recorded on ``origin`` in a replay."""
    return REPLAY_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", origin)


def _unedited(store: RunStore, model: Flow, part: set[str]) -> bool:
    """Whether an edited flow leaves the replayed part as recorded."""
    try:
        return same_part(parse_flow(store.flow()), model, part)
    except (FlowInvalidError, ValueError):
        return False


def _execute(checked: Plan, hooks: Hooks, recorder: Recorder, engine: Engine,
             options: RunOptions) -> RunResult:
    """Run a plan to its end on an event loop of its own, kept by ``recorder``.

    Inside a running event loop (a notebook, say), the run gets a thread of its own.
    """
    async def execute() -> RunResult:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def stop_soon() -> None:  # from the recorder's thread, when it cannot write
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the run has ended and its loop is closed
                pass

        recorder.attach(hooks, stop=stop_soon)
        return await engine.execute(checked, hooks, options, stop)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(execute())
    with concurrent.futures.ThreadPoolExecutor(1, "edgewise-replay") as pool:
        return pool.submit(asyncio.run, execute()).result()


def replay(store: RunStore, from_node: str, workspace: Path, *,
           flow: dict[str, Any] | None = None, registry: Registry | None = None,
           policy: StoragePolicy | None = None, write_outputs: bool = False,
           trust: bool = False, engine: Engine | None = None) -> tuple[RunResult, Recorder]:
    """Re-run ``from_node`` and its descendants on recorded inputs; keep it as a new run.

    The same as :func:`plan_replay` then :func:`run_replay`; a host that shows the plan
    before running it calls those two.

    Args:
        store: The kept run to replay.
        from_node: The node to re-run; everything downstream of it runs too.
        workspace: The folder whose ``.edgewise/runs/`` keeps the new run.
        flow: An edited flow to replay instead of the recorded one.
        registry: The components to use (default: every installed one).
        policy: Which values the new run keeps (default: all of them).
        write_outputs: Let sinks write the flow's own output files; by default they
            write inside the new run's folder (``outputs/<node>/<file>``).
        trust: Run replayed nodes that run code even if the flow is not trusted here.
        engine: The engine to run on (default: the local engine).

    Returns:
        The replay's result, and the recorder that kept it (its ``run_id``, ``store``).

    Raises:
        FlowInvalidError: the (edited) flow is invalid, or the node is not in it.
        ReplayRefusedError: see :func:`plan_replay`.
        LookupError: a value needed as input was not kept by the original recording.
        UntrustedFlowError: see :func:`plan_replay`.
    """
    plan = plan_replay(store, from_node, workspace, flow=flow, registry=registry,
                       write_outputs=write_outputs, trust=trust)
    return run_replay(plan, workspace, policy=policy, engine=engine)


def _check_kept(store: RunStore, origin: str) -> None:
    ports = store.manifest().get("recording", {}).get("ports", {})
    info = ports.get(origin, {})
    if info.get("not_kept"):
        msg = (f"run {store.id} kept only {info.get('kept')} of {info.get('messages')} values "
               f"on {origin} (its storage policy), so it cannot be replayed exactly from there")
        raise ReplayRefusedError(msg)
