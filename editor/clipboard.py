"""Node ids and pasted copies: fresh ids, and clipboard nodes placed and renamed."""

from __future__ import annotations

import copy
import re
from typing import Any

Doc = dict[str, Any]


def taken_ids(doc: Doc) -> set[str]:
    """The ids of a document's nodes."""
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


def copies(clip: Doc, taken: set[str], offset: float = 40,
           at: tuple[float, float] | None = None) -> tuple[list[Doc], list[Doc]]:
    """Copies of clipboard nodes (with new ids) and of their edges, placed for a paste.

    Args:
        clip: the nodes and the edges among them, as ``FlowDocument.copy`` gives them.
        taken: the node ids in use.
        offset: how far the copies are shifted from the originals, right and down.
        at: where the copies' top-left corner goes instead (the pointer on the canvas);
            a copy placed over its original is shifted by ``offset`` still, so that it
            never hides the original's ports.

    Returns:
        The new nodes and the new edges.
    """
    if at is not None:
        xs = [_position(n)[0] for n in clip["nodes"]]
        ys = [_position(n)[1] for n in clip["nodes"]]
        dx, dy = at[0] - min(xs), at[1] - min(ys)
        if abs(dx) < offset and abs(dy) < offset:
            dx, dy = dx + offset, dy + offset
        clip = _shifted(clip, dx, dy)
        offset = 0
    taken = set(taken)
    renamed: dict[str, str] = {}
    nodes = []
    for node in clip["nodes"]:
        new = copy.deepcopy(node)
        new["id"] = fresh_id(str(node.get("id", "node")), taken)
        taken.add(new["id"])
        renamed[str(node.get("id"))] = new["id"]
        pos = new.get("position") or {"x": 0, "y": 0}
        new["position"] = {"x": pos.get("x", 0) + offset, "y": pos.get("y", 0) + offset}
        nodes.append(new)
    edges = []
    for edge in clip.get("edges", []):
        src_node, _, src_port = str(edge["source"]).partition(".")
        dst_node, _, dst_port = str(edge["target"]).partition(".")
        edges.append({"source": f"{renamed[src_node]}.{src_port}",
                      "target": f"{renamed[dst_node]}.{dst_port}"})
    return nodes, edges


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
