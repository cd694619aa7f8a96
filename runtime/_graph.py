"""Validation of a flow against the components, and the checked plan that engines run."""

from __future__ import annotations

import difflib
import functools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import pydantic

from runtime._errors import ComponentDefinitionError, FlowInvalidError, Problem
from runtime._model import SCALE_KEYS, Edge, Flow, error_text
from runtime._params import PATH_KEY as PATH_KEY
from runtime._params import URL_KEY as URL_KEY
from runtime._params import URL_SCHEME as URL_SCHEME
from runtime._registry import ANY, ERROR_PORT, ComponentSpec, Params, Port, Registry
from runtime._scale import check_replicas
from runtime._schema import check_columns


def types_compatible(source: str, target: str) -> bool:
    """Say whether a value of type ``source`` may flow into a port of type ``target``."""
    return source == target or ANY in (source, target)


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def _suggest_component(wanted: str, ids: list[str]) -> str:
    """Suggest a component only for a plausible typo: a close family, then a close name."""
    family, _, name = wanted.partition(".")
    names: dict[str, list[str]] = defaultdict(list)
    for known in ids:
        known_family, _, known_name = known.partition(".")
        names[known_family].append(known_name)
    families = difflib.get_close_matches(family, list(names), n=1, cutoff=0.75)
    if not families:
        return ""
    close = difflib.get_close_matches(name, names[families[0]], n=1, cutoff=0.7)
    return f"; did you mean '{families[0]}.{close[0]}'?" if close else ""


@dataclass
class PlanNode:
    """A node of a checked flow, with its component and validated params.

    ``spec`` is the component with the ports of these params (see ``ComponentSpec.resolve``).
    """

    id: str
    spec: ComponentSpec
    params: Params
    # input port -> ids of the edges into it
    incoming: dict[str, list[str]] = field(default_factory=dict)
    # output port -> (edge id, target node, target port) for each edge out of it
    outgoing: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    # how an engine that scales out runs it (see runtime._scale): copies, whether their
    # outputs keep the input order, and what each copy reserves (only the keys set)
    replicas: int = 1
    ordered: bool = True
    resources: dict[str, float] = field(default_factory=dict)


@dataclass
class Plan:
    """A flow that passed validation, ready for an engine to run."""

    flow: Flow
    nodes: dict[str, PlanNode]
    order: list[str]
    base_dir: Path
    # Edges into a ``latest`` input that close a loop (a model fed back to its scorer):
    # an engine must never let a full queue on one of them hold up the loop.
    feedback: frozenset[str] = frozenset()

    @property
    def edge_ids(self) -> list[str]:
        """Every edge id, in file order."""
        return [e.id for e in self.flow.edges]


def path_fields(model: type[Params]) -> dict[str, str]:
    """Return the params that name files, mapped to ``input`` or ``output``."""
    return dict(_path_fields(model))


@functools.cache
def _path_fields(model: type[Params]) -> dict[str, str]:
    """``path_fields`` worked out once per params model (validation asks for every node)."""
    found: dict[str, str] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and isinstance(extra.get(PATH_KEY), str):
            found[name] = str(extra[PATH_KEY])
    return found


def _check_params(node_id: str, index: int, spec: ComponentSpec, raw: dict[str, Any],
                  base_dir: Path, problems: list[Problem]) -> Params | None:
    values = dict(raw)
    kinds = path_fields(spec.params_model)
    for name, kind in kinds.items():
        value = values.get(name)
        extra = spec.params_model.model_fields[name].json_schema_extra
        if isinstance(value, str) and isinstance(extra, dict) and extra.get(URL_KEY) and \
                URL_SCHEME.match(value):
            continue  # a URL, passed on unresolved
        if isinstance(value, str) and value:
            try:
                resolved = (base_dir / value).resolve()
            except (ValueError, OSError, RuntimeError):  # a NUL character or a link loop,
                values[name] = str(base_dir / value)     # which the param's check reports
                continue
            values[name] = str(resolved)
            if kind == "input" and not resolved.is_file():
                problems.append(Problem(
                    message=f"node '{node_id}', param '{name}': file '{value}' not found "
                            f"(looked for {resolved})",
                    code="missing-file", node=node_id, param=name,
                    where=f"nodes[{index}].params.{name}"))
    try:
        # components may read the node's id (a default name) and the flow's folder (to
        # resolve a path inside a URL) from the validation context
        return spec.params_model.model_validate(values, context={"node": node_id,
                                                                 "base_dir": base_dir})
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            name = loc[0] if loc else ""
            if err["type"] == "extra_forbidden":
                known = list(spec.params_model.model_fields)
                text = (f"unknown param '{name}' for {spec.id}{_suggest(name, known)}"
                        f" (known: {', '.join(known) or 'none'})")
                if name in SCALE_KEYS:
                    text += f"; '{name}' goes on the node itself, beside 'params'"
            elif err["type"] == "missing":
                text = f"required param '{name}' is missing"
            else:
                text = error_text(err)
            problems.append(Problem(
                message=f"node '{node_id}', param '{'.'.join(loc)}': {text}",
                code="param", node=node_id, param=name, where=f"nodes[{index}].params"))
        return None


def resolve_node(node_id: str, spec: ComponentSpec, raw: dict[str, Any], base_dir: Path,
                 problems: list[Problem], index: int = 0,
                 ) -> tuple[ComponentSpec, Params | None, bool]:
    """Check a node's params and work out its ports from them.

    Returns the component with the node's own ports, the params (None when invalid), and
    whether the ports are known: the ports of a component whose ports depend on its params
    are unknown while those params are invalid. Problems are added to ``problems``.
    """
    params = _check_params(node_id, index, spec, raw, base_dir, problems)
    if not spec.dynamic_sides:
        return spec, params, True
    if params is None:
        return spec, None, False
    try:
        return spec.resolve(params), params, True
    except ComponentDefinitionError as exc:
        problems.append(Problem(message=f"node '{node_id}': {exc}", code="ports", node=node_id,
                                where=f"nodes[{index}].params"))
        return spec, params, False


def _no_port(node_id: str, spec: ComponentSpec, port: str, side: str,
             ports: dict[str, Port]) -> str:
    """Say that a node has no such port; for ports set by params, name the node's ports."""
    if side not in spec.dynamic_sides:
        return f"{spec.id} has no {side[:-1]} '{port}'{_suggest(port, list(ports))}"
    named = [p for p in ports if p != ERROR_PORT]
    return (f"node '{node_id}' ({spec.id}) has no {side[:-1]} '{port}' with its params; "
            f"its {side} are: {', '.join(ports) or 'none'}{_suggest(port, named)}")


def _check_edge(edge: Edge, index: int, flow_nodes: dict[str, ComponentSpec | None],
                problems: list[Problem], unresolved: frozenset[str] = frozenset()) -> bool:
    def bad(text: str, code: str) -> bool:
        problems.append(Problem(message=f"edge '{edge.id}': {text}", code=code, edge=edge.id,
                                where=f"edges[{index}]"))
        return False

    src_node, src_port = edge.source_node, edge.source_port
    dst_node, dst_port = edge.target_node, edge.target_port
    for node_id in (src_node, dst_node):
        if node_id not in flow_nodes:
            return bad(f"no node '{node_id}'{_suggest(node_id, list(flow_nodes))}",
                       "unknown-node")
    if src_node == dst_node:
        return bad(f"connects node '{src_node}' to itself", "self-loop")
    src, dst = flow_nodes[src_node], flow_nodes[dst_node]
    if src is None or dst is None:
        return False  # the unknown component is reported once, on its node
    # Ports set by params that are invalid are unknown: the params are reported instead.
    src_open = src_node in unresolved and "outputs" in src.dynamic_sides
    dst_open = dst_node in unresolved and "inputs" in dst.dynamic_sides
    if not src_open and src_port not in src.outputs:
        if src_port in src.inputs:
            return bad(f"'{edge.source}' is an input port; an edge must start at an output "
                       f"(outputs of {src.id}: {', '.join(src.outputs)})", "direction")
        return bad(_no_port(src_node, src, src_port, "outputs", src.outputs), "unknown-port")
    if not dst_open and dst_port not in dst.inputs:
        if dst_port in dst.outputs:
            return bad(f"'{edge.target}' is an output port; an edge must end at an input"
                       f" (inputs of {dst.id}: {', '.join(dst.inputs) or 'none'})", "direction")
        return bad(_no_port(dst_node, dst, dst_port, "inputs", dst.inputs), "unknown-port")
    if src_open or dst_open:
        return False
    have, want = src.outputs[src_port].type, dst.inputs[dst_port].type
    if not types_compatible(have, want):
        fits = [p for p, port in src.outputs.items() if types_compatible(port.type, want)]
        hint = f"; did you mean '{src_node}.{fits[0]}'?" if fits else ""
        return bad(f"node '{dst_node}', input '{dst_port}' expects {want} but "
                   f"'{edge.source}' gives {have}{hint}", "type-mismatch")
    return True


def check_flow(flow: Flow, registry: Registry, base_dir: Path) -> tuple[Plan | None,
                                                                       list[Problem]]:
    """Check every rule of a flow; return a plan if there was no problem, and all problems."""
    problems: list[Problem] = []
    specs: dict[str, ComponentSpec | None] = {}
    params: dict[str, Params | None] = {}
    unresolved: set[str] = set()
    for index, node in enumerate(flow.nodes):
        if node.id in specs:
            problems.append(Problem(message=f"node id '{node.id}' is used more than once",
                                    code="duplicate-node", node=node.id,
                                    where=f"nodes[{index}].id"))
            continue
        spec = registry.get(node.component)
        specs[node.id] = spec
        if spec is None:
            problems.append(Problem(
                message=f"node '{node.id}': unknown component '{node.component}'"
                        f"{_suggest_component(node.component, registry.ids())}",
                code="unknown-component", node=node.id, where=f"nodes[{index}].component"))
            continue
        specs[node.id], params[node.id], known = resolve_node(node.id, spec, node.params,
                                                             base_dir, problems, index)
        if not known:
            unresolved.add(node.id)

    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(specs)
    seen: set[str] = set()
    good_edges: list[Edge] = []
    for index, edge in enumerate(flow.edges):
        if edge.id in seen:
            problems.append(Problem(message=f"edge '{edge.id}' appears more than once",
                                    code="duplicate-edge", edge=edge.id, where=f"edges[{index}]"))
            continue
        seen.add(edge.id)
        if _check_edge(edge, index, specs, problems, frozenset(unresolved)):
            good_edges.append(edge)
        if edge.source_node in specs and edge.target_node in specs:
            # a pair of nodes joined by a stream edge too is no feedback pair
            graph.add_edge(edge.source_node, edge.target_node, latest=into_latest(
                specs, edge) and graph.get_edge_data(
                    edge.source_node, edge.target_node, {"latest": True})["latest"])

    order: list[str] = []  # the run order; known only for a flow without stream cycles
    feedback: frozenset[str] = frozenset()
    position = {node.id: index for index, node in enumerate(flow.nodes)}
    feedback_pairs = _feedback(graph)
    if feedback_pairs:
        graph.remove_edges_from(feedback_pairs)
    if not nx.is_directed_acyclic_graph(graph):  # cycles are listed only when there are some
        for cycle in sorted(sorted(c) for c in nx.simple_cycles(graph) if len(c) > 1):
            problems.append(Problem(
                message=f"nodes {', '.join(repr(n) for n in cycle)} form a cycle of stream "
                        "edges; a loop must pass through a 'latest' input (a feedback edge, "
                        "such as a model sent back to its scorer)", code="cycle",
                node=cycle[0]))
    else:  # params naming columns the data will lack
        order = list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
        feedback = frozenset(e.id for e in good_edges
                             if (e.source_node, e.target_node) in feedback_pairs)
        checked = {n: (s, params.get(n)) for n, s in specs.items()
                   if s is not None and n not in unresolved}
        problems.extend(check_columns(
            checked, [(e.source_node, e.source_port, e.target_node, e.target_port)
                      for e in good_edges if e.id not in feedback], order, position))

    incoming: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for edge in good_edges:
        incoming[edge.target_node][edge.target_port].append(edge.id)
    wired = {(e.target_node, e.target_port) for e in flow.edges}  # even by a bad edge
    for node_id, spec in specs.items():
        if spec is None or (node_id in unresolved and "inputs" in spec.dynamic_sides):
            continue
        for port in spec.inputs.values():
            if port.required and (node_id, port.name) not in wired:
                problems.append(Problem(
                    message=f"node '{node_id}': required input '{port.name}' ({port.type}) "
                            "is not connected", code="unconnected-input", node=node_id))
    problems.extend(check_replicas(flow, specs, wired, frozenset(unresolved)))

    if problems:
        return None, problems
    nodes: dict[str, PlanNode] = {}
    for node in flow.nodes:
        spec, node_params = specs[node.id], params[node.id]
        assert spec is not None and node_params is not None  # noqa: S101 - no problems above
        nodes[node.id] = PlanNode(
            id=node.id, spec=spec, params=node_params,
            incoming={p: list(e) for p, e in incoming[node.id].items()},
            replicas=node.replicas, ordered=node.ordered,
            resources=node.resources.reserved() if node.resources is not None else {})
    for edge in good_edges:
        nodes[edge.source_node].outgoing.setdefault(edge.source_port, []).append(
            (edge.id, edge.target_node, edge.target_port))
    return Plan(flow=flow, nodes=nodes, order=order, base_dir=base_dir, feedback=feedback), []


def _feedback(graph: nx.DiGraph) -> set[tuple[str, str]]:
    """The edges into ``latest`` inputs that lie on a loop (both ends in one strong component).

    Without them the flow is acyclic exactly when every loop passes through a latest input;
    found in time linear in the flow's size.
    """
    component = {n: i for i, c in enumerate(nx.strongly_connected_components(graph)) for n in c}
    return {(s, t) for s, t, latest in graph.edges(data="latest")
            if latest and component[s] == component[t] and s != t}


def into_latest(specs: Mapping[str, ComponentSpec | None], edge: Edge) -> bool:
    """Whether ``edge`` feeds a ``latest`` input: such an edge may close a loop."""
    spec = specs.get(edge.target_node)
    port = spec.inputs.get(edge.target_port) if spec is not None else None
    return port is not None and port.mode == "latest"


def build_plan(flow: Flow, registry: Registry, base_dir: Path) -> Plan:
    """Return the checked plan of a flow, or raise FlowInvalidError with every problem."""
    plan, problems = check_flow(flow, registry, base_dir)
    if plan is None:
        raise FlowInvalidError(problems)
    return plan
