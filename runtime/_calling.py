"""Calling a flow from Python: values fed to its open inputs, and values captured from its ports.

``runtime.run_flow(flow, inputs=..., capture=...)`` uses these pieces, so that a notebook
or a script runs a flow like a function, without files::

    result = runtime.run_flow("flows/iris.json", inputs={"predict.data": new_rows},
                              capture=["predict.data"])
    predictions = result.values("predict.data")[0]
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime._engine import RunResult
from runtime._errors import FlowInvalidError, Problem
from runtime._graph import Plan, resolve_node
from runtime._hooks import Hooks
from runtime._messages import Batch
from runtime._model import Edge, Flow, Node
from runtime._registry import ANY, ComponentSpec, Port, Registry, component


def memory_source(component_id: str, values: Iterable[Any], type_: str = ANY) -> ComponentSpec:
    """A source component that emits the given values, one message each.

    As for every component, a ``None`` value emits nothing.
    """
    items = list(values)

    def emit() -> Iterator[Any]:
        yield from items

    emit.__doc__ = "Emit values held in memory (fed to a flow, or in tests)."
    return component(component_id, outputs={"data": type_}, category="testing")(emit)


FEED_COMPONENT = "runtime.input"


@dataclass
class FlowResult(RunResult):
    """A run's result (status and counts, as ``RunResult``) and the values captured."""

    captured: dict[str, list[Any]] = field(default_factory=dict)

    def values(self, port: str) -> list[Any]:
        """Every value that came out of ``port`` (``"node.port"``), in order.

        Raises:
            KeyError: the port was not listed in ``capture``.
        """
        if port not in self.captured:
            listed = ", ".join(repr(p) for p in self.captured) or "none"
            msg = f"'{port}' was not captured; pass it in capture= (captured: {listed})"
            raise KeyError(msg)
        return self.captured[port]


def messages_of(value: Any) -> list[Any]:
    """The messages a value given in ``inputs`` stands for.

    A list, a tuple or an iterator (a generator, say) is one message per item; anything
    else (a DataFrame, a dict, a number) is one message.
    """
    if isinstance(value, list | tuple | range | Iterator):
        return list(value)
    return [value]


def _split_port(ref: str, what: str, problems: list[Problem]) -> tuple[str, str] | None:
    node, dot, port = str(ref).partition(".")
    if not dot or not node or not port:
        problems.append(Problem(message=f"{what}: '{ref}' must name a port as 'node.port'",
                                code="port-ref", where=what))
        return None
    return node, port


def _resolved(node: Node | None, registry: Registry, base_dir: Path) -> ComponentSpec | None:
    """A node's component with the ports its params give it (None: no such component)."""
    spec = registry.get(node.component) if node else None
    if node is None or spec is None:
        return None
    resolved, _params, _known = resolve_node(node.id, spec, dict(node.params), base_dir, [])
    return resolved


def _inputs_of(node: Node | None, registry: Registry, base_dir: Path) -> dict[str, Port]:
    """A node's input ports, those its params give when they depend on its params."""
    spec = _resolved(node, registry, base_dir)
    return spec.inputs if spec else {}


def _suggest(ref: str, known: list[str]) -> str:
    close = difflib.get_close_matches(ref, known, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _capture_problems(flow: Flow, registry: Registry, capture: Iterable[str],
                      base_dir: Path) -> list[Problem]:
    """Say which of the ``capture`` names are not output ports of the flow."""
    problems: list[Problem] = []
    outputs: list[str] | None = None
    for ref in capture:
        split = _split_port(ref, "capture", problems)
        if split is None:
            continue
        spec = _resolved(flow.node(split[0]), registry, base_dir)
        if spec is not None and split[1] in spec.outputs:
            continue
        if outputs is None:
            outputs = [f"{n.id}.{p}" for n in flow.nodes
                       for p in getattr(_resolved(n, registry, base_dir), "outputs", {})]
        msg = (f"capture: '{ref}' is not an output port of this flow"
               f"{_suggest(ref, outputs)} (outputs: {', '.join(outputs) or 'none'})")
        problems.append(Problem(message=msg, code="unknown-port", where="capture"))
    return problems


def add_feeds(flow: Flow, registry: Registry, inputs: Mapping[str, Any],
              base_dir: Path | None = None, capture: Iterable[str] = (),
              ) -> tuple[Flow, list[ComponentSpec]]:
    """Add one source node per entry of ``inputs``, wired to that unconnected input port.

    ``base_dir`` is the folder relative paths in params resolve against (default: the
    working folder), for nodes whose input ports depend on their params. The ``capture``
    names are checked too, so that every problem of both is reported at once.

    Raises:
        FlowInvalidError: a name is not an input port of the flow, or is connected already;
            or a ``capture`` name is not an output port of the flow.
    """
    problems: list[Problem] = []
    nodes, edges = list(flow.nodes), list(flow.edges)
    specs: list[ComponentSpec] = []
    taken = {n.id for n in flow.nodes}
    wired = {e.target: e.source for e in flow.edges}
    where = base_dir or Path.cwd()
    for ref, value in inputs.items():
        split = _split_port(ref, "inputs", problems)
        if split is None:
            continue
        node_id, port = split
        node = flow.node(node_id)
        ports = _inputs_of(node, registry, where)
        if port not in ports:
            known = [f"{n.id}.{p}" for n in flow.nodes
                     for p in _inputs_of(n, registry, where)
                     if f"{n.id}.{p}" not in wired]
            msg = (f"inputs: '{ref}' is not an input port of this flow{_suggest(ref, known)} "
                   f"(open inputs: {', '.join(known) or 'none'})")
            problems.append(Problem(message=msg, code="unknown-port", where="inputs"))
            continue
        if ref in wired:
            msg = (f"inputs: '{ref}' is connected already (from '{wired[ref]}'); values can "
                   "be fed only to an input that no edge reaches")
            problems.append(Problem(message=msg, code="connected-input", node=node_id,
                                    where="inputs"))
            continue
        feed_id = next(name for i in itertools.count()
                       if (name := f"input-{node_id}-{port}" + (f"-{i}" if i else ""))
                       not in taken)
        taken.add(feed_id)
        source = memory_source(f"{FEED_COMPONENT}.{len(specs)}", messages_of(value),
                               ports[port].type)
        specs.append(source)
        nodes.append(Node(id=feed_id, component=source.id))
        edges.append(Edge.model_validate({"source": f"{feed_id}.data", "target": ref}))
    problems += _capture_problems(flow, registry, capture, where)
    if problems:
        raise FlowInvalidError(problems)
    return flow.model_copy(update={"nodes": nodes, "edges": edges}), specs


def watch_ports(plan: Plan, hooks: Hooks, capture: Iterable[str]) -> dict[str, list[Any]]:
    """Keep every value produced on the captured ports (connected or not) as the run goes.

    Raises:
        FlowInvalidError: a name is not an output port of the flow.
    """
    kept: dict[str, list[Any]] = {}
    problems: list[Problem] = []
    for ref in capture:
        split = _split_port(ref, "capture", problems)
        if split is None:
            continue
        node = plan.nodes.get(split[0])
        if node is None or split[1] not in node.spec.outputs:
            known = [f"{n}.{p}" for n, pn in plan.nodes.items() for p in pn.spec.outputs]
            msg = (f"capture: '{ref}' is not an output port of this flow"
                   f"{_suggest(ref, known)} (outputs: {', '.join(known)})")
            problems.append(Problem(message=msg, code="unknown-port", where="capture"))
            continue
        kept[ref] = []
    if problems:
        raise FlowInvalidError(problems)

    def produced(port: str, batch: Batch) -> None:
        values = kept.get(port)
        if values is not None:
            values.extend(batch.values)

    if kept:
        hooks.add("produced", produced)
    return kept


def with_values(result: RunResult, captured: dict[str, list[Any]]) -> FlowResult:
    """The run's result with the captured values."""
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(RunResult)}
    return FlowResult(**fields, captured=captured)
