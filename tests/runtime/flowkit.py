"""Helpers the engine and tap tests share: build a flow from a compact form and run it safely."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import runtime
from runtime import Flow, Registry, Run, RunOptions, RunResult, default_registry

RUN_TIMEOUT = 20.0


def make_flow(nodes: dict[str, str | tuple[str, dict[str, Any]]], edges: list[str]) -> Flow:
    """Nodes as id -> component (or (component, params)); edges as 'a.out->b.in'."""
    node_list: list[dict[str, Any]] = []
    for node_id, comp in nodes.items():
        if isinstance(comp, tuple):
            node_list.append({"id": node_id, "component": comp[0], "params": comp[1]})
        else:
            node_list.append({"id": node_id, "component": comp})
    edge_list = [dict(zip(("source", "target"), e.split("->"), strict=True)) for e in edges]
    return Flow.model_validate({"edgewise": 1, "name": "test", "nodes": node_list,
                                "edges": edge_list})


def make_run(nodes: dict[str, str | tuple[str, dict[str, Any]]], edges: list[str],
             specs: list[runtime.ComponentSpec], options: RunOptions | None = None) -> Run:
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
