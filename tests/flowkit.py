"""The suite's one flow builder: flow documents, Flows and flow files from nodes and edges.

Nodes are given either as a list of node dicts (``node("r", "stream.range", count=3)``) or as a
mapping ``id -> component`` (or ``id -> (component, params)``). Edges are given either as
``(source, target)`` pairs or as ``"a.out->b.in"`` strings. It also runs a planned flow in a
thread, so that a run that does not end fails its test instead of hanging the suite.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

import runtime
from runtime import Flow, Registry, Run, RunOptions, RunResult, default_registry, parse_flow

RUN_TIMEOUT = 20.0

NodeSpec = str | tuple[str, dict[str, Any]]
Nodes = Sequence[dict[str, Any]] | Mapping[str, NodeSpec]
Edges = Iterable[str | tuple[str, str]]


def node(node_id: str, component: str, **params: Any) -> dict[str, Any]:
    """One node of a flow document."""
    return {"id": node_id, "component": component, "params": params}


def _node_list(nodes: Nodes) -> list[dict[str, Any]]:
    if not isinstance(nodes, Mapping):
        return list(nodes)
    listed: list[dict[str, Any]] = []
    for node_id, comp in nodes.items():
        if isinstance(comp, tuple):
            listed.append({"id": node_id, "component": comp[0], "params": comp[1]})
        else:
            listed.append({"id": node_id, "component": comp})
    return listed


def _edge(edge: str | tuple[str, str]) -> dict[str, str]:
    source, target = edge.split("->") if isinstance(edge, str) else edge
    return {"source": source, "target": target}


def flow_doc(nodes: Nodes, edges: Edges = (), name: str = "t") -> dict[str, Any]:
    """A flow document (the decoded JSON of a flow file)."""
    return {"edgewise": 1, "name": name, "nodes": _node_list(nodes),
            "edges": [_edge(e) for e in edges]}


def make_flow(nodes: Nodes, edges: Edges = (), name: str = "t") -> Flow:
    """A Flow, checked as a flow file is (FlowInvalidError lists what breaks the format)."""
    return parse_flow(flow_doc(nodes, edges, name))


def write_flow(folder: Path, nodes: Nodes, edges: Edges = (), name: str = "flow.json",
               flow_name: str | None = None) -> Path:
    """Write a flow file into ``folder`` (made if missing); its flow is named after the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    doc = flow_doc(nodes, edges, flow_name if flow_name is not None else path.stem)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def make_run(nodes: Nodes, edges: Edges, specs: list[runtime.ComponentSpec],
             options: RunOptions | None = None) -> Run:
    """A Run of the flow, with ``specs`` added to the default components."""
    registry: Registry = default_registry().with_components(*specs)
    return Run(runtime.plan(make_flow(nodes, edges), registry=registry), options=options)


def run_guarded(run: Run, timeout: float = RUN_TIMEOUT) -> RunResult:
    """Run in a thread; fail (instead of hanging the suite) if the run does not end."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = run.run()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        run.stop()
        thread.join(5)
        pytest.fail(f"the run did not end within {timeout} s")
    if "error" in box:
        raise box["error"]
    return box["result"]
