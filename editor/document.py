"""The flow being edited: the raw document and its edits (undo, redo: ``editor/history.py``).

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
from typing import Any

from editor.clipboard import copies, fresh_id, taken_ids
from editor.history import History, params_text
from runtime import (
    ComponentSpec,
    Flow,
    Registry,
    connection_problem,
    fitting_ports,
    parse_flow,
    resolve_ports,
)

Doc = dict[str, Any]
ERROR_PORT = "error"  # the output every component has for its failures (runtime._registry)


class FlowDocument(History):
    """A flow document with undoable edits (see ``History``). Every edit is a snapshot."""

    def __init__(self, data: Doc, registry: Registry) -> None:
        self.registry = registry
        data.setdefault("nodes", [])
        data.setdefault("edges", [])
        super().__init__(data)
        # the last ports worked out for each node with ports set by params
        self._ports: dict[str, dict[str, list[dict[str, Any]]]] = {}

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
        node_id = fresh_id(component, taken_ids(self.data))
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
        if node is None or params_text(node.get("params", {})) == params_text(params):
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

    def set_node_key(self, node_id: str, key: str, value: Any) -> None:
        """Set a key of the node beside its params (``replicas``...); None leaves it out."""
        node = self.node(node_id)
        if node is None or node.get(key) == value and (key in node) == (value is not None):
            return
        self._checkpoint(f"{key}:{node_id}")
        if value is None:
            node.pop(key, None)
        else:
            node[key] = value

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

        ``offset`` and ``at`` place the copies as ``editor.clipboard.copies`` says.
        """
        if not clip.get("nodes"):
            return []
        nodes, edges = copies(clip, taken_ids(self.data), offset, at)
        self._checkpoint()
        self.data["nodes"].extend(nodes)
        self.data["edges"].extend(edges)
        return [str(n["id"]) for n in nodes]

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
