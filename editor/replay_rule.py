"""When "Re-run from selected node" can work, and in words why not (runtime replay's rules).

A replay feeds the selected node's part of the flow (the node and everything downstream)
with the values a kept run recorded on the edges that enter it. That gives what the
flow as it is now would make only if:

- the kept run recorded every port that feeds the part, completely (its storage policy
  did not drop values), from a node of the same component;
- nothing upstream of the part changed since that run (params, component, wiring):
  otherwise the recorded values are not what the flow would make now, and a plain Run is
  the honest answer.

The node itself and what follows it may have changed: that is what a re-run is for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx


@dataclass
class KeptFacts:
    """What the rule needs to know about a kept run (read once: a finished run stays put)."""

    run: str
    flow: dict[str, Any]
    status: str
    origins: set[str] = field(default_factory=set)
    not_kept: set[str] = field(default_factory=set)
    edge_counts: dict[str, int] = field(default_factory=dict)
    damage: str | None = None


def facts_of(store: Any) -> KeptFacts:
    """Read a kept run's flow, status and recorded ports (``store`` is a runtime.runs.RunStore)."""
    damage = store.damage
    if damage:
        return KeptFacts(run=store.id, flow={}, status="damaged", damage=damage)
    manifest = store.manifest()
    ports = (manifest.get("recording") or {}).get("ports") or {}
    flow = manifest.get("flow")
    return KeptFacts(
        run=store.id, flow=flow if isinstance(flow, dict) else {}, status=store.status(),
        origins=set(store.origins()),
        not_kept={o for o, info in ports.items() if isinstance(info, dict)
                  and info.get("not_kept")},
        edge_counts={e: int(info.get("count", 0)) for e, info in
                     (manifest.get("edges") or {}).items() if isinstance(info, dict)})


def _nodes(flow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(n.get("id")): n for n in flow.get("nodes") or [] if isinstance(n, dict)}


def _edges(flow: dict[str, Any]) -> list[tuple[str, str]]:
    return [(str(e.get("source", "")), str(e.get("target", "")))
            for e in flow.get("edges") or [] if isinstance(e, dict)]


def _node_of(port: str) -> str:
    return port.split(".", 1)[0]


def replay_blocker(flow: dict[str, Any], node: str | None,
                   kept: KeptFacts | None) -> str | None:
    """Why re-running ``flow`` from ``node`` on the kept run cannot work; None when it can.

    Args:
        flow: the flow as it is now in the editor.
        node: the selected node (None when not exactly one node is selected).
        kept: the kept run to take the recorded values from (None when there is none).
    """
    if node is None:
        return "Select one node to re-run from it."
    if kept is None:
        return "There is no kept run of this flow yet: press Run first."
    if kept.damage:
        return f"Run {kept.run} is damaged ({kept.damage}); show another run."
    if kept.status in ("running", "interrupted"):
        return f"Run {kept.run} is {kept.status}: its values are not complete."
    now, then = _nodes(flow), _nodes(kept.flow)
    if node not in now:
        return f"There is no node '{node}' in the flow."
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(now)
    graph.add_edges_from((_node_of(s), _node_of(t)) for s, t in _edges(flow)
                         if _node_of(s) in now and _node_of(t) in now)
    part = {node} | nx.descendants(graph, node)
    upstream = set().union(*(nx.ancestors(graph, n) for n in part)) - part
    into_now = {n: sorted((s, t) for s, t in _edges(flow) if _node_of(t) == n)
                for n in upstream}
    into_then = {n: sorted((s, t) for s, t in _edges(kept.flow) if _node_of(t) == n)
                 for n in upstream}
    for name in sorted(upstream):
        before = then.get(name)
        if before is None:
            return (f"'{name}', upstream of '{node}', was added after run {kept.run}: "
                    "press Run for a fresh run.")
        after = now[name]
        if (before.get("component") != after.get("component")
                or (before.get("params") or {}) != (after.get("params") or {})
                or into_now[name] != into_then[name]):
            return (f"'{name}', upstream of '{node}', changed since run {kept.run}, so its "
                    "recorded values are out of date: press Run for a fresh run.")
    recorded_sources = {s for s, _t in _edges(kept.flow)}
    for source, target in _edges(flow):
        if _node_of(target) not in part or _node_of(source) in part:
            continue
        if _node_of(source) not in then:
            return f"'{_node_of(source)}' was not in run {kept.run}: press Run."
        if source in kept.not_kept:
            return (f"Run {kept.run} kept only some of the values on {source} (its storage "
                    "policy), so it cannot be replayed exactly from there.")
        count = kept.edge_counts.get(f"{source}->{target}", 0)
        if source not in kept.origins and (source not in recorded_sources or count):
            return f"Run {kept.run} did not record {source}, which feeds '{_node_of(target)}'."
    return None
