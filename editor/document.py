"""The flow being edited: the raw document, edits with undo and redo, and the dirty marker.

The document is kept as the decoded JSON, not as runtime models, so that whatever this
install does not understand (an unknown component, its params, an odd key) survives a save
untouched.

Some components have ports set by their params (``frame.route``'s outputs, say). When such
a node's params change, edges from or to ports that no longer exist are dropped, in the
same undo step as the params. Edits of one field undo as one step while the user types,
so the drop is worked out from the edges before that step: an edge dropped while a route
name was half typed comes back when the name is whole again.

The flow's ``meta`` is the editor's own data (comments and groups, see
``editor/annotations.py``); it is edited one key at a time, with undo, and every key this
editor does not know is kept.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any

from runtime import ComponentSpec, Flow, Registry, connection_problem, parse_flow, resolve_ports
from runtime.connections import fitting_ports

Doc = dict[str, Any]
HISTORY_LIMIT = 200
TYPING_PAUSE = 1.5  # seconds: edits of one field closer together than this undo as one
ERROR_PORT = "error"  # the output every component has for its failures (runtime.registry)


def _node_ids(doc: Doc) -> set[str]:
    return {str(n["id"]) for n in doc.get("nodes", []) if isinstance(n, dict) and "id" in n}


def fresh_id(base: str, taken: set[str]) -> str:
    """A node id from ``base`` (e.g. the component id) that is not taken yet."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", base.split(".")[-1]) or "node"
    if not stem[0].isalpha():
        stem = "n" + stem
    if stem not in taken:
        return stem
    # a copy of load2 is load3, not load22
    numbered = re.fullmatch(r"(.*\D)(\d+)", stem)
    stem, n = (numbered.group(1), int(numbered.group(2)) + 1) if numbered else (stem, 2)
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def _canonical(value: Any, in_params: bool = False) -> Any:
    """The document with its mappings' keys sorted, except inside a node's param values.

    A param value may be an ordered mapping (``frame.route``'s routes, ``frame.assign``'s
    columns), whose order is part of what it says; the order of every other key is not.
    """
    if isinstance(value, dict):
        if in_params:
            return {k: _canonical(v, in_params=True) for k, v in value.items()}
        return {k: _params(v) if k == "params" else _canonical(v)
                for k, v in sorted(value.items(), key=_key)}
    if isinstance(value, list):
        return [_canonical(v, in_params) for v in value]
    return value


def _key(item: tuple[Any, Any]) -> str:
    return str(item[0])


def _params(params: Any) -> Any:
    """Params with their names sorted, and each value's own key order kept."""
    if not isinstance(params, dict):
        return params
    return {k: _canonical(v, in_params=True) for k, v in sorted(params.items(), key=_key)}


def _params_text(params: Any) -> str:
    return json.dumps(_params(params), default=str)


class FlowDocument:
    """A flow document with undoable edits. Every edit is a whole-document snapshot."""

    def __init__(self, data: Doc, registry: Registry) -> None:
        self.data: Doc = data
        self.registry = registry
        self._undo: list[str] = []
        self._redo: list[str] = []
        data.setdefault("nodes", [])
        data.setdefault("edges", [])
        self._saved = self._text()
        self._last_field: tuple[str, float] | None = None
        # the last ports worked out for each node with ports set by params
        self._ports: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def _text(self) -> str:
        # the document with its own keys sorted, but the order inside params values kept
        return json.dumps(_canonical(self.data), default=str)

    def _snapshot(self) -> str:
        # key order kept: an ordered mapping in params (frame.route's routes) means it
        return json.dumps(self.data)

    @property
    def dirty(self) -> bool:
        """Whether there are changes since the last save."""
        return self._text() != self._saved

    def mark_saved(self) -> None:
        """Record that the current state is what is on disk."""
        self._saved = self._text()

    def _checkpoint(self, field: str | None = None) -> None:
        now = time.monotonic()
        last, self._last_field = self._last_field, (field, now) if field else None
        if field and last and last[0] == field and now - last[1] < TYPING_PAUSE:
            return
        self._undo.append(self._snapshot())
        del self._undo[:-HISTORY_LIMIT]
        self._redo.clear()

    def undo(self) -> bool:
        """Go back one edit; return whether there was one."""
        if not self._undo:
            return False
        self._redo.append(self._snapshot())
        self.data = json.loads(self._undo.pop())
        self._last_field = None
        return True

    def redo(self) -> bool:
        """Redo one undone edit; return whether there was one."""
        if not self._redo:
            return False
        self._undo.append(self._snapshot())
        self.data = json.loads(self._redo.pop())
        self._last_field = None
        return True

    # -- reading -----------------------------------------------------------------------

    @property
    def nodes(self) -> list[dict[str, Any]]:
        """The node objects (as in the file)."""
        return [n for n in self.data.get("nodes", []) if isinstance(n, dict)]

    @property
    def edges(self) -> list[dict[str, Any]]:
        """The edge objects (as in the file)."""
        return [e for e in self.data.get("edges", []) if isinstance(e, dict)]

    def node(self, node_id: str) -> dict[str, Any] | None:
        """The node with this id, or None."""
        return next((n for n in self.nodes if n.get("id") == node_id), None)

    def spec(self, node: dict[str, Any]) -> ComponentSpec | None:
        """The component of a node, or None when this install does not have it."""
        component = node.get("component")
        return self.registry.get(component) if isinstance(component, str) else None

    def dynamic(self, node: dict[str, Any]) -> bool:
        """Whether the node's ports depend on its params."""
        spec = self.spec(node)
        return spec is not None and bool(spec.dynamic_sides)

    def ports(self, node: dict[str, Any]) -> dict[str, list[dict[str, Any]]] | None:
        """The ports of a node whose ports depend on its params (None for other nodes).

        While its params are invalid, these are the last ports worked out for it, if any.
        """
        if not self.dynamic(node):
            return None
        node_id = str(node.get("id"))
        params = node.get("params") if isinstance(node.get("params"), dict) else {}
        got = resolve_ports(str(node.get("component")), params, node=node_id,
                            registry=self.registry)
        if got["inputs"] is not None and got["outputs"] is not None:
            self._ports[node_id] = {"inputs": got["inputs"], "outputs": got["outputs"]}
        return self._ports.get(node_id)

    def _keep_edges_of(self, node_id: str, before: list[Any]) -> None:
        """Keep the edges of ``before`` whose ends at this node still exist (params changed)."""
        node = self.node(node_id)
        if node is None:
            return
        params = node.get("params") if isinstance(node.get("params"), dict) else {}
        got = resolve_ports(str(node.get("component")), params, node=node_id,
                            registry=self.registry)
        if got["inputs"] is None or got["outputs"] is None:
            self.data["edges"] = before  # the ports are not known: nothing is known gone
            return
        self._ports[node_id] = {"inputs": got["inputs"], "outputs": got["outputs"]}
        ins = {p["name"] for p in got["inputs"]}
        outs = {p["name"] for p in got["outputs"]}

        def fits(edge: Any) -> bool:
            if not isinstance(edge, dict):
                return True
            src_node, _, src_port = str(edge.get("source", "")).partition(".")
            dst_node, _, dst_port = str(edge.get("target", "")).partition(".")
            return ((src_node != node_id or src_port in outs)
                    and (dst_node != node_id or dst_port in ins))

        self.data["edges"] = [e for e in before if fits(e)]

    # -- edits -------------------------------------------------------------------------

    def add_node(self, component: str, x: float, y: float) -> str:
        """Add a node of a component at a canvas position; return its id."""
        self._checkpoint()
        node_id = fresh_id(component, _node_ids(self.data))
        self.data["nodes"].append({"id": node_id, "component": component,
                                   "position": {"x": round(x), "y": round(y)}})
        return node_id

    def move_nodes(self, positions: dict[str, tuple[float, float]]) -> None:
        """Move nodes to new canvas positions (one undo step for all of them)."""
        self._checkpoint()
        for node in self.nodes:
            if node.get("id") in positions:
                x, y = positions[node["id"]]
                node["position"] = {"x": round(x), "y": round(y)}

    def connection_problem(self, source: str, target: str) -> str | None:
        """Why the runtime would refuse this new edge, or None."""
        return self._problem(self.data, source, target)

    def _problem(self, data: Doc, source: str, target: str) -> str | None:
        known = {k: v for k, v in data.items() if k in Flow.model_fields}
        try:
            problem = connection_problem(known, source, target, registry=self.registry)
        except Exception as exc:  # noqa: BLE001 - a broken document: say so, do not crash
            problems = getattr(exc, "problems", None)
            text = problems[0].message if problems else (str(exc) or type(exc).__name__)
            return f"cannot check this connection while the flow has errors: {text}"
        return problem.message if problem else None

    def fitting_ports(self, port: str, side: str) -> list[str]:
        """The ports a new edge at ``port`` (side ``out`` or ``in``) may join, by the runtime.

        None while the flow cannot be read (a wire dropped anyway is told why).
        """
        known = {k: v for k, v in self.data.items() if k in Flow.model_fields}
        try:
            return fitting_ports(parse_flow(known), port, side, self.registry)
        except Exception:  # noqa: BLE001 - a broken document: nothing fits, do not crash
            return []

    def add_edge(self, source: str, target: str) -> str | None:
        """Add an edge if the runtime would accept it; otherwise return the reason."""
        reason = self.connection_problem(source, target)
        if reason is None:
            self._checkpoint()
            self.data["edges"].append({"source": source, "target": target})
        return reason

    def meta(self, key: str) -> Any:
        """A value of the flow's ``meta`` (the editor's own data), or None."""
        meta = self.data.get("meta")
        return meta.get(key) if isinstance(meta, dict) else None

    def set_meta(self, key: str, value: Any) -> None:
        """Set (or, when empty, remove) one key of the flow's ``meta``, as one undo step.

        Every other key of ``meta``, understood by this editor or not, is kept as it is.
        """
        if self.meta(key) == value or (not value and self.meta(key) is None):
            return
        self._checkpoint()
        self._put_meta(key, value)

    def _put_meta(self, key: str, value: Any) -> None:
        meta = self.data.get("meta")
        if not isinstance(meta, dict):
            meta = self.data["meta"] = {}
        if value:
            meta[key] = value
        else:
            meta.pop(key, None)
            if not meta:
                self.data.pop("meta", None)

    def delete(self, node_ids: list[str], edge_ids: list[str]) -> None:
        """Delete nodes (with their edges, and their places in groups) and edges."""
        gone = set(node_ids)
        self._checkpoint()
        groups = self.meta("groups")
        if gone and isinstance(groups, list):  # a group of none of the nodes left goes too
            kept = []
            for group in groups:
                if isinstance(group, dict) and isinstance(group.get("nodes"), list):
                    group = {**group, "nodes": [n for n in group["nodes"] if n not in gone]}
                    if not group["nodes"]:
                        continue
                kept.append(group)
            self._put_meta("groups", kept)
        self.data["nodes"] = [n for n in self.data["nodes"]
                              if not (isinstance(n, dict) and n.get("id") in gone)]
        self.data["edges"] = [
            e for e in self.data["edges"]
            if not (isinstance(e, dict) and (
                f"{e.get('source')}->{e.get('target')}" in edge_ids
                or str(e.get("source", "")).split(".")[0] in gone
                or str(e.get("target", "")).split(".")[0] in gone))]

    def set_params(self, node_id: str, params: dict[str, Any]) -> None:
        """Replace a node's params (empty params are left out of the file).

        For a node whose ports depend on its params, edges at ports that the new params
        do not give are dropped, in the same undo step.
        """
        node = self.node(node_id)
        if node is None or _params_text(node.get("params", {})) == _params_text(params):
            return
        self.ports(node)  # remember the ports of the params being replaced
        self._checkpoint(f"params:{node_id}")
        if params:
            node["params"] = params
        else:
            node.pop("params", None)
        if self.dynamic(node):
            # the edges as they were before this undo step (which may span several edits)
            before = json.loads(self._undo[-1]).get("edges", [])
            self._keep_edges_of(node_id, before if isinstance(before, list) else [])

    def set_label(self, node_id: str, label: str) -> None:
        """Set or clear a node's display name."""
        node = self.node(node_id)
        if node is None or node.get("label", "") == label:
            return
        self._checkpoint(f"label:{node_id}")
        if label:
            node["label"] = label
        else:
            node.pop("label", None)

    def copy(self, node_ids: list[str]) -> Doc:
        """The selected nodes and the edges among them, for the clipboard."""
        chosen = set(node_ids)
        nodes = [copy.deepcopy(n) for n in self.nodes if n.get("id") in chosen]
        edges = [copy.deepcopy(e) for e in self.edges
                 if str(e.get("source", "")).split(".")[0] in chosen
                 and str(e.get("target", "")).split(".")[0] in chosen]
        return {"nodes": nodes, "edges": edges}

    def paste(self, clip: Doc, offset: float = 40,
              at: tuple[float, float] | None = None) -> list[str]:
        """Add copies of clipboard nodes (new ids) and their edges; return the new ids.

        Args:
            clip: what ``copy`` returned.
            offset: how far the copies are shifted from the originals, right and down.
            at: where the copies' top-left corner goes instead (the pointer on the canvas);
                a copy placed over its original is shifted by ``offset`` still, so that it
                never hides the original's ports.
        """
        if not clip.get("nodes"):
            return []
        if at is not None:
            xs = [_position(n)[0] for n in clip["nodes"]]
            ys = [_position(n)[1] for n in clip["nodes"]]
            dx, dy = at[0] - min(xs), at[1] - min(ys)
            if abs(dx) < offset and abs(dy) < offset:
                dx, dy = dx + offset, dy + offset
            clip = _shifted(clip, dx, dy)
            offset = 0
        self._checkpoint()
        taken = _node_ids(self.data)
        renamed: dict[str, str] = {}
        for node in clip["nodes"]:
            new = copy.deepcopy(node)
            new["id"] = fresh_id(str(node.get("id", "node")), taken)
            taken.add(new["id"])
            renamed[str(node.get("id"))] = new["id"]
            pos = new.get("position") or {"x": 0, "y": 0}
            new["position"] = {"x": pos.get("x", 0) + offset, "y": pos.get("y", 0) + offset}
            self.data["nodes"].append(new)
        for edge in clip.get("edges", []):
            src_node, _, src_port = str(edge["source"]).partition(".")
            dst_node, _, dst_port = str(edge["target"]).partition(".")
            self.data["edges"].append({"source": f"{renamed[src_node]}.{src_port}",
                                       "target": f"{renamed[dst_node]}.{dst_port}"})
        return list(renamed.values())

    # -- wiring a node into place ------------------------------------------------------

    def port_types(self, node: dict[str, Any], side: str) -> list[tuple[str, str]]:
        """A node's ports on one side (``inputs`` or ``outputs``) as (name, type) pairs."""
        own = self.ports(node)
        if own is not None:
            return [(str(p["name"]), str(p.get("type", "Any"))) for p in own[side]]
        spec = self.spec(node)
        if spec is None:
            return []
        ports = spec.inputs if side == "inputs" else spec.outputs
        return [(name, port.type) for name, port in ports.items()]

    def splice(self, node_id: str, edge_id: str, *, new_step: bool = True) -> str | None:
        """Put a node on an edge: ``source -> node.in`` and ``node.out -> target``.

        The node's first input that accepts the source and its first output (the error
        port last) that the target accepts are used, as the runtime checks them. The edge
        and both new edges change in one undo step (or in the step of the edit before,
        with ``new_step=False``: a node dropped from the palette onto a wire).

        Returns:
            None when the node was spliced in, otherwise why not (nothing is changed).
        """
        edge = next((e for e in self.edges
                     if f"{e.get('source')}->{e.get('target')}" == edge_id), None)
        node = self.node(node_id)
        if edge is None or node is None:
            return f"there is no edge '{edge_id}' or no node '{node_id}' any more"
        source, target = str(edge["source"]), str(edge["target"])
        if node_id in (source.split(".")[0], target.split(".")[0]):
            return f"node '{node_id}' is an end of edge '{edge_id}' already"
        trial = copy.deepcopy(self.data)
        trial["edges"] = [e for e in trial["edges"] if e != edge]
        into = self._first_fit(trial, node, "inputs", source)
        if into is None:
            return f"no input of node '{node_id}' accepts what '{source}' gives"
        trial["edges"].append({"source": source, "target": into})
        out = self._first_fit(trial, node, "outputs", target)
        if out is None:
            return f"no output of node '{node_id}' gives what '{target}' expects"
        trial["edges"].append({"source": out, "target": target})
        if new_step:
            self._checkpoint()
        self.data["edges"] = trial["edges"]
        return None

    def _first_fit(self, data: Doc, node: dict[str, Any], side: str, other: str) -> str | None:
        """The node's first port on ``side`` that the runtime would join to port ``other``."""
        names = [name for name, _type in self.port_types(node, side)]
        names.sort(key=lambda name: name == ERROR_PORT)  # the error port only as a last resort
        for name in names:
            ref = f"{node['id']}.{name}"
            pair = (other, ref) if side == "inputs" else (ref, other)
            if self._problem(data, *pair) is None:
                return ref
        return None

    def add_wired(self, component: str, x: float, y: float, port: str,
                  direction: str) -> tuple[str, str | None]:
        """Add a node at a place and wire it to a port, in one undo step.

        Args:
            component: the new node's component.
            x: where the node goes on the canvas.
            y: where the node goes on the canvas.
            port: the port a wire was dragged from, ``node.port``.
            direction: that port's side, ``out`` (the new node is fed) or ``in``.

        Returns:
            The new node's id, and why it could not be wired (it is added all the same).
        """
        node_id = self.add_node(component, x, y)
        node = self.node(node_id)
        assert node is not None  # noqa: S101 - just added
        side = "inputs" if direction == "out" else "outputs"
        ref = self._first_fit(self.data, node, side, port)
        if ref is None:
            return node_id, f"no port of '{component}' fits '{port}'"
        edge = {"source": port, "target": ref} if direction == "out" else {
            "source": ref, "target": port}
        self.data["edges"].append(edge)
        return node_id, None


def _position(node: Any) -> tuple[float, float]:
    pos = node.get("position") if isinstance(node, dict) else None
    if not isinstance(pos, dict):
        return 0.0, 0.0
    x, y = pos.get("x", 0), pos.get("y", 0)
    return (float(x) if isinstance(x, int | float) else 0.0,
            float(y) if isinstance(y, int | float) else 0.0)


def _shifted(clip: Doc, dx: float, dy: float) -> Doc:
    """The clipboard with its nodes moved by (dx, dy)."""
    nodes = []
    for node in clip["nodes"]:
        x, y = _position(node)
        nodes.append({**node, "position": {"x": round(x + dx), "y": round(y + dy)}})
    return {**clip, "nodes": nodes}
