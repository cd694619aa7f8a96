"""The flow as the canvas draws it: the component catalogue, nodes with their ports, edges."""

from __future__ import annotations

from typing import Any

import runtime
from editor.annotations import canvas_notes
from editor.document import FlowDocument
from editor.node_face import face_text


def _layout(doc: FlowDocument) -> dict[str, tuple[float, float]]:
    """Positions for nodes that have none: columns by depth, in file order."""
    depth: dict[str, int] = {}
    ids = [str(n.get("id")) for n in doc.nodes]
    parents: dict[str, list[str]] = {i: [] for i in ids}
    for e in doc.edges:
        src, dst = str(e.get("source", "")).split(".")[0], str(e.get("target", "")).split(".")[0]
        if dst in parents and src in parents:
            parents[dst].append(src)

    def level(node: str, seen: frozenset[str] = frozenset()) -> int:
        if node not in depth:
            depth[node] = 1 + max((level(p, seen | {node}) for p in parents[node]
                                   if p not in seen), default=-1)
        return depth[node]

    rows: dict[int, int] = {}
    places: dict[str, tuple[float, float]] = {}
    for node in ids:
        col = level(node)
        row = rows.get(col, 0)
        rows[col] = row + 1
        places[node] = (60 + col * 240, 60 + row * 150)
    return places


def catalog(registry: runtime.Registry) -> dict[str, Any]:
    """Title, docs and ports of every component, sent to the browser once per page.

    The ports of a component whose ports depend on its params are those of the default
    params; each node of it carries its own (see ``canvas_graph``).
    """
    return {spec.id: {"title": spec.title, "doc": spec.doc,
                      "inputs": [p.to_json() for p in spec.inputs.values()],
                      "outputs": [p.to_json() for p in spec.outputs.values()],
                      "dynamic_sides": spec.dynamic_sides}
            for spec in registry}


def _edge_ports(doc: FlowDocument, node_id: str) -> tuple[list[str], list[str]]:
    """The input and output ports that the document's edges use on a node."""
    ins = {str(e.get("target")).split(".", 1)[-1] for e in doc.edges
           if str(e.get("target", "")).split(".")[0] == node_id}
    outs = {str(e.get("source")).split(".", 1)[-1] for e in doc.edges
            if str(e.get("source", "")).split(".")[0] == node_id}
    return sorted(ins), sorted(outs)


def _own_ports(doc: FlowDocument, node: dict[str, Any],
               spec: runtime.ComponentSpec) -> dict[str, Any]:
    """The ports of a node whose ports depend on its params.

    While its params are invalid, the last ports worked out for it; failing that, the
    component's default ports and any port that an edge uses, so that every edge is drawn.
    """
    ports = doc.ports(node)
    if ports is not None:
        return ports
    node_id = str(node.get("id"))
    ins, outs = _edge_ports(doc, node_id)
    inputs = [p.to_json() for p in spec.inputs.values()]
    outputs = [p.to_json() for p in spec.outputs.values()]
    inputs += [{"name": p, "type": "Any", "mode": "stream"} for p in ins
               if p not in spec.inputs]
    outputs += [{"name": p, "type": "Any", "mode": "stream"} for p in outs
                if p not in spec.outputs]
    return {"inputs": inputs, "outputs": outputs}


def canvas_graph(doc: FlowDocument) -> dict[str, Any]:
    """The graph as the canvas draws it: nodes (ports from the catalogue), and edges.

    A node whose ports depend on its params carries its own ports; a node with a key param
    carries it as its ``face`` (see editor/node_face.py).
    """
    places = _layout(doc)
    nodes = []
    for node in doc.nodes:
        node_id = str(node.get("id"))
        spec = doc.spec(node)
        pos = node.get("position") if isinstance(node.get("position"), dict) else None
        x, y = (pos.get("x", 0), pos.get("y", 0)) if pos else places.get(node_id, (0, 0))
        extra: dict[str, Any] = {}
        if spec is not None and spec.dynamic_sides:
            extra = _own_ports(doc, node, spec)
        if spec is None:
            ins, outs = _edge_ports(doc, node_id)
            extra = {
                "inputs": [{"name": p, "type": "Any", "mode": "stream"} for p in ins],
                "outputs": [{"name": p, "type": "Any", "mode": "stream"} for p in outs],
                "title": f"unknown component '{node.get('component')}'",
                "doc": "This install does not have this component; the node is kept as it is.",
            }
        nodes.append({"id": node_id, "component": str(node.get("component")),
                      "label": node.get("label") or "", "x": x, "y": y,
                      "face": face_text(str(node.get("component")), node.get("params", {})),
                      "unknown": spec is None, **extra})
    edges = [{"id": f"{e.get('source')}->{e.get('target')}", "source": str(e.get("source")),
              "target": str(e.get("target"))} for e in doc.edges]
    return {"nodes": nodes, "edges": edges, "notes": canvas_notes(doc)}
