"""Helpers for testing components: in-memory sources and sinks, and running one component.

Example::

    out = run_component("frame.query", {"data": [frame]}, {"expr": "a > 1"})
    assert out["data"][0]["a"].min() > 1
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime._api import Run
from runtime._calling import memory_source as memory_source  # part of the testing kit
from runtime._engine import RunOptions, RunResult
from runtime._graph import build_plan, resolve_node
from runtime._messages import Batch, Envelope, ErrorRecord
from runtime._model import Flow
from runtime._registry import ANY, ERROR_PORT, ComponentSpec, Registry, component, default_registry


class MemorySink:
    """A sink component whose received messages can be kept, as envelopes.

    Call ``watch(run, edges)`` with the ids of the edges into the sink's node.
    """

    def __init__(self, component_id: str = "testing.sink") -> None:
        self.envelopes: list[Envelope] = []

        def keep(data: Any) -> None:
            """Keep every message in memory (for tests)."""

        self.spec = component(component_id, inputs={"data": ANY}, category="testing")(keep)

    @property
    def values(self) -> list[Any]:
        """The values received, in arrival order."""
        return [e.value for e in self.envelopes]

    def watch(self, run: Run, edges: Iterable[str]) -> None:
        """Record every batch the run puts on the given edges (the sink's inputs)."""
        wanted = set(edges)

        def emitted(edge: str, batch: Batch) -> None:
            if edge in wanted:
                self.envelopes.extend(batch)

        run.hooks.add("emitted", emitted)


@dataclass
class ComponentRun:
    """What one component did: its output values per port, its errors, and the run result."""

    outputs: dict[str, list[Any]]
    envelopes: dict[str, list[Envelope]]
    result: RunResult
    errors: list[ErrorRecord] = field(default_factory=list)

    def __getitem__(self, port: str) -> list[Any]:
        """The values emitted on ``port``."""
        return self.outputs[port]


def run_component(spec: ComponentSpec | str, inputs: dict[str, list[Any]] | None = None,
                  params: dict[str, Any] | None = None, *, registry: Registry | None = None,
                  base_dir: Path | None = None, fail_fast: bool = False) -> ComponentRun:
    """Run one component, for real, on in-memory inputs, and collect what it emits."""
    registry = registry or default_registry()
    if isinstance(spec, str):
        found = registry.get(spec)
        if found is None:
            msg = f"unknown component '{spec}'"
            raise KeyError(msg)
        spec = found
    extra: list[ComponentSpec] = []
    nodes: list[dict[str, Any]] = [{"id": "node", "component": spec.id,
                                    "params": params or {}}]
    edges: list[dict[str, str]] = []
    for port, values in (inputs or {}).items():
        source = memory_source(f"testing.source.{port}", values)
        extra.append(source)
        nodes.append({"id": f"in_{port}", "component": source.id})
        edges.append({"source": f"in_{port}.data", "target": f"node.{port}"})
    sinks: dict[str, MemorySink] = {}
    outputs = spec.outputs
    if "outputs" in spec.dynamic_sides:  # a sink on each port the params give
        resolved, _params, known = resolve_node("node", spec, dict(params or {}),
                                                base_dir or Path.cwd(), [])
        outputs = resolved.outputs if known else outputs
    for port in outputs:
        sink = MemorySink(f"testing.sink.{port}")
        sinks[port] = sink
        extra.append(sink.spec)
        nodes.append({"id": f"out_{port}", "component": sink.spec.id})
        edges.append({"source": f"node.{port}", "target": f"out_{port}.data"})
    flow = Flow.model_validate({"edgewise": 1, "name": f"test {spec.id}", "nodes": nodes,
                                "edges": edges})
    full = registry.with_components(spec, *extra)
    run = Run(build_plan(flow, full, base_dir or Path.cwd()),
              options=RunOptions(fail_fast=fail_fast))
    for port, sink in sinks.items():
        sink.watch(run, [f"node.{port}->out_{port}.data"])
    result = run.run()
    return ComponentRun(
        outputs={p: s.values for p, s in sinks.items() if p != ERROR_PORT},
        envelopes={p: s.envelopes for p, s in sinks.items()},
        result=result,
        errors=sinks[ERROR_PORT].values,
    )
