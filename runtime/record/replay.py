"""Replay: re-run a node and everything downstream of it on the values a kept run recorded.

Every edge that enters the replayed part from outside is fed by a source that emits the
values recorded on it, in their recorded order. Run unchanged, a replay reproduces the
recorded outputs; run with an edited flow (other params, another estimator), it shows what
would have happened. The result is kept as a new run that names the run it replays.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx

from runtime.api import Run
from runtime.engine import RunResult
from runtime.errors import FlowInvalidError, Problem
from runtime.graph import build_plan
from runtime.model import parse_flow
from runtime.record.recorder import Recorder, StoragePolicy
from runtime.record.store import RunStore
from runtime.registry import ComponentSpec, Registry, component, default_registry

REPLAY_PREFIX = "replay_"


def _recorded_source(component_id: str, store: RunStore, origin: str,
                     type_: str) -> ComponentSpec:
    def emit() -> Iterator[Any]:
        for message in store.messages(origin):
            yield store.value(message.id)

    emit.__doc__ = f"Emit the values recorded on {origin} in run {store.id}."
    return component(component_id, outputs={"data": type_}, category="replay",
                     threaded=True)(emit)


def replay(store: RunStore, from_node: str, workspace: Path, *,
           flow: dict[str, Any] | None = None, registry: Registry | None = None,
           policy: StoragePolicy | None = None) -> tuple[RunResult, Recorder]:
    """Re-run ``from_node`` and its descendants on recorded inputs; keep it as a new run.

    Raises:
        FlowInvalidError: the (edited) flow is invalid, or the node is not in it.
        LookupError: a value needed as input was not kept by the original recording.
    """
    registry = registry or default_registry()
    manifest = store.manifest()
    doc = flow if flow is not None else store.flow()
    model = parse_flow(doc)
    base_dir = Path(manifest.get("base_dir", "."))
    if model.node(from_node) is None:
        known = ", ".join(n.id for n in model.nodes)
        raise FlowInvalidError([Problem(message=f"no node '{from_node}' in the flow (nodes: "
                                                f"{known})", code="unknown-node")])
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(n.id for n in model.nodes)
    graph.add_edges_from((e.source_node, e.target_node) for e in model.edges)
    part = {from_node} | nx.descendants(graph, from_node)
    original = build_plan(parse_flow(store.flow()), registry, base_dir)
    recorded_ports = set(store.origins())
    feeds: dict[str, str] = {}
    extra: list[ComponentSpec] = []
    nodes = [n.model_dump(mode="json", exclude_none=True) for n in model.nodes if n.id in part]
    edges = []
    for edge in model.edges:
        if edge.target_node not in part:
            continue
        if edge.source_node in part:
            edges.append({"source": edge.source, "target": edge.target})
            continue
        origin = edge.source
        if origin not in feeds:
            if origin not in recorded_ports and store.manifest()["edges"].get(edge.id, {}).get(
                    "count", 0):
                msg = f"run {store.id} did not record {origin}, which feeds '{from_node}'"
                raise LookupError(msg)
            _check_kept(store, origin)
            node_id = REPLAY_PREFIX + re.sub(r"[^A-Za-z0-9_]", "_", origin)
            source_node = original.nodes.get(edge.source_node)
            type_ = (source_node.spec.outputs[edge.source_port].type
                     if source_node and edge.source_port in source_node.spec.outputs else "Any")
            spec = _recorded_source(f"replay.{node_id}", store, origin, type_)
            extra.append(spec)
            nodes.append({"id": node_id, "component": spec.id})
            feeds[origin] = node_id
        edges.append({"source": f"{feeds[origin]}.data", "target": edge.target})
    sub_flow = parse_flow({"edgewise": 1, "name": f"{model.name} (replay from {from_node})",
                           "nodes": nodes, "edges": edges})
    plan = build_plan(sub_flow, registry.with_components(*extra), base_dir)
    run = Run(plan)
    recorder = run.record(workspace, policy=policy, links={
        "flow_file": manifest.get("flow_file"), "replay_of": store.id,
        "replay_from": from_node, "replay_flow": doc,
        "replay_inputs": {origin: node for origin, node in feeds.items()}})
    result = run.run()
    return result, recorder


def _check_kept(store: RunStore, origin: str) -> None:
    ports = store.manifest().get("recording", {}).get("ports", {})
    info = ports.get(origin, {})
    if info.get("not_kept"):
        msg = (f"run {store.id} kept only {info.get('kept')} of {info.get('messages')} values "
               f"on {origin} (its storage policy), so it cannot be replayed exactly from there")
        raise LookupError(msg)
