"""New edges: why the runtime would refuse one, and which ports one may join.

The same rules as validation (``runtime._graph``), applied to one edge that is not in the
flow yet: both ends exist, an output feeds an input, the types fit, the edge is not a
duplicate, and it closes no loop of stream edges (a loop through a ``latest`` input, a
feedback edge, is allowed). ``fitting_ports`` answers for every port of the flow
in one pass, for an editor lighting up where a wire may end.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pydantic

from runtime._errors import Problem
from runtime._graph import _check_edge, into_latest, resolve_node
from runtime._model import Edge, Flow
from runtime._registry import ComponentSpec, Registry


class _Wiring:
    """What every new-edge check of one flow shares: resolved nodes, edge ids, the graph."""

    def __init__(self, flow: Flow, registry: Registry) -> None:
        self.specs: dict[str, ComponentSpec | None] = {}
        unresolved: set[str] = set()
        for node in flow.nodes:
            spec = registry.get(node.component)
            if spec is not None and spec.dynamic_sides:
                spec, _params, known = resolve_node(node.id, spec, node.params, Path.cwd(), [])
                if not known:
                    unresolved.add(node.id)
            self.specs[node.id] = spec
        self.unresolved = frozenset(unresolved)
        self.edge_ids = {e.id for e in flow.edges}
        # the stream edges only: a loop through a latest input (a feedback edge) is allowed
        self.graph: nx.DiGraph = nx.DiGraph()
        self.graph.add_nodes_from(self.specs)
        self.graph.add_edges_from((e.source_node, e.target_node) for e in flow.edges
                                  if not into_latest(self.specs, e))

    def refusal(self, edge: Edge) -> Problem | None:
        """Why the edge is refused by any rule but the cycle rule, or None."""
        if edge.id in self.edge_ids:
            return Problem(message=f"edge '{edge.id}' exists already", code="duplicate-edge",
                           edge=edge.id)
        problems: list[Problem] = []
        if _check_edge(edge, len(self.edge_ids), self.specs, problems, self.unresolved):
            return None
        if problems:
            return problems[0]
        if edge.source_node in self.unresolved or edge.target_node in self.unresolved:
            return Problem(message=f"edge '{edge.id}': the ports of a node whose params are "
                                   "invalid are not known yet; fix its params first",
                           code="unresolved-ports", edge=edge.id)
        return Problem(message=f"edge '{edge.id}': a node of an unknown component cannot be "
                               "wired", code="unknown-component", edge=edge.id)


def check_connection(flow: Flow, source: str, target: str, registry: Registry) -> Problem | None:
    """Say why the runtime would refuse a new edge from ``source`` to ``target``, or None.

    Checks the same rules as validation: both ends exist, an output feeds an input, the
    types fit, the edge is not a duplicate, and it closes no loop of stream edges.
    """
    try:
        edge = Edge.model_validate({"source": source, "target": target})
    except pydantic.ValidationError:
        return Problem(message=f"an edge joins '<node>.<port>' to '<node>.<port>'; "
                               f"'{source}' -> '{target}' does not", code="schema",
                       edge=f"{source}->{target}")
    wiring = _Wiring(flow, registry)
    refused = wiring.refusal(edge)
    if refused is not None:
        return refused
    if not into_latest(wiring.specs, edge) and nx.has_path(
            wiring.graph, edge.target_node, edge.source_node):
        path = nx.shortest_path(wiring.graph, edge.target_node, edge.source_node)
        return Problem(message=f"edge '{edge.id}' would close a cycle through "
                               f"{' → '.join(path + [edge.target_node])}; a loop must pass "
                               "through a 'latest' input (a feedback edge)", code="cycle",
                       edge=edge.id)
    return None


def fitting_ports(flow: Flow, port: str, side: str, registry: Registry) -> list[str]:
    """The ports a new edge at ``port`` may join: those ``check_connection`` accepts.

    Worked out in one pass over the flow, so that an editor can light up every fitting
    port of a large flow the moment a wire is picked up.

    Args:
        flow: the flow as it is now.
        port: the ``node.port`` the new edge starts or ends at.
        side: ``"out"`` if ``port`` is an output (the edge starts there), ``"in"`` if it
            is an input.
        registry: the components.

    Returns:
        The ``node.port`` of every input (for ``"out"``) or output (for ``"in"``) of the
        flow's nodes that the edge may join, in the flow's node order.
    """
    wiring = _Wiring(flow, registry)
    node_id = port.partition(".")[0]
    if node_id not in wiring.graph:
        return []
    # a new edge s -> t closes a cycle when t already reaches s
    around = (nx.ancestors(wiring.graph, node_id) if side == "out"
              else nx.descendants(wiring.graph, node_id))
    fits = []
    for other_id, spec in wiring.specs.items():
        if spec is None:
            continue
        for name in (spec.inputs if side == "out" else spec.outputs):
            ends = (port, f"{other_id}.{name}") if side == "out" else (f"{other_id}.{name}", port)
            try:
                edge = Edge.model_validate({"source": ends[0], "target": ends[1]})
            except pydantic.ValidationError:
                continue
            if other_id in around and not into_latest(wiring.specs, edge):
                continue  # it would close a loop of stream edges
            if wiring.refusal(edge) is None:
                fits.append(f"{other_id}.{name}")
    return fits
