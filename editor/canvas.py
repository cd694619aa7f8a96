"""The canvas element: a NiceGUI wrapper around the SVG node editor in ``canvas.js``."""

from __future__ import annotations

from typing import Any

from nicegui import ui

MAX_METRICS = 8  # numbers of a record shown on its edge's label


def edge_label(count: int, rows: int | None, preview: dict[str, Any] | None) -> dict[str, Any]:
    """What an edge's label shows: its count, rows and summary, and a record's numbers.

    Args:
        count: how many messages the edge carried.
        rows: how many rows they held, or None for values without rows.
        preview: the preview of the last message, if any.

    Returns:
        The label's data for ``setLabels``; a record of numbers (metrics) adds them as
        ``metrics``, so the label can lead with them, rounded.
    """
    preview = preview or {}
    label: dict[str, Any] = {"count": count, "rows": rows, "summary": preview.get("summary", "")}
    value = preview.get("value")
    if preview.get("kind") == "dict" and isinstance(value, dict):
        numbers = {str(k): v for k, v in value.items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}
        if numbers:
            label["metrics"] = dict(list(numbers.items())[:MAX_METRICS])
    return label


class FlowCanvas(ui.element, component="canvas.js", esm={"edgewise-canvas": "canvas_js"}):
    """The node editor, drawn and dragged entirely in the browser.

    Python sends it whole graphs and batched updates; it sends back only final results: a
    node dropped or moved, an edge added, a selection, a command.
    """

    def __init__(self, graph: dict[str, Any], catalog: dict[str, Any]) -> None:
        super().__init__()
        self._props["graph"] = graph
        self._props["catalog"] = catalog
        self.classes("ew-canvas-host")

    def set_graph(self, graph: dict[str, Any], fit: bool = False) -> None:
        """Replace the drawn graph (after an edit, undo or redo)."""
        self._props["graph"] = graph
        self.run_method("setGraph", graph, fit)

    def set_labels(self, labels: dict[str, dict[str, Any]]) -> None:
        """Update the live labels of some edges, in one message."""
        self.run_method("setLabels", labels)

    def set_states(self, states: dict[str, dict[str, Any]]) -> None:
        """Update the state badges of some nodes."""
        self.run_method("setStates", states)

    def clear_run(self) -> None:
        """Forget labels and states of an earlier run."""
        self.run_method("clearRun")

    def set_problems(self, nodes: list[str], edges: list[str]) -> None:
        """Mark the nodes and edges that validation found problems with."""
        self.run_method("setProblems", {"nodes": nodes, "edges": edges})

    def select(self, nodes: list[str], edges: list[str]) -> None:
        """Select nodes and edges."""
        self.run_method("selectItems", {"nodes": nodes, "edges": edges})

    def highlight(self, ids: list[str]) -> None:
        """Highlight nodes and edges (a lineage path)."""
        self.run_method("highlightItems", ids)

    def mark_changes(self, changes: dict[str, str]) -> None:
        """Colour edges by how they changed between two runs: ``first`` or ``changed``."""
        self.run_method("markChanges", changes)

    def refuse(self, text: str) -> None:
        """Show why a connection was refused."""
        self.run_method("showRefusal", text)

    def fit(self) -> None:
        """Fit the whole flow into the view."""
        self.run_method("fit")
