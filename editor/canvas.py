"""The canvas element: a NiceGUI wrapper around the SVG node editor in ``canvas.js``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from runtime import types_compatible

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


def _port_types(items: Any) -> set[str]:
    """The types of the ports of catalogue entries or drawn nodes."""
    return {str(p.get("type", "Any")) for item in items for side in ("inputs", "outputs")
            for p in item.get(side) or []}


def fit_table(catalog: dict[str, Any], types: set[str]) -> dict[str, dict[str, list[str]]]:
    """For each port type, the components a wire from a port of that type may add.

    Args:
        catalog: the components, as the canvas gets them (ports with their types).
        types: the port types to answer for.

    Returns:
        ``{type: {"out": [...], "in": [...]}}``: for a wire from an output of that type,
        the components with an input it may feed; for a wire from an input, those with an
        output that may feed it. By the runtime's type rule (``types_compatible``).
    """
    def having(side: str, fits: Callable[[str], bool]) -> list[str]:
        return sorted(cid for cid, c in catalog.items()
                      if any(fits(str(p.get("type", "Any"))) for p in c.get(side) or []))

    table = {}
    for t in sorted(types):
        table[t] = {"out": having("inputs", lambda want: types_compatible(t, want)),  # noqa: B023
                    "in": having("outputs", lambda have: types_compatible(have, t))}  # noqa: B023
    return table


class FlowCanvas(ui.element, component="canvas.js",
                 esm={"edgewise-canvas": "canvas_modules"}):
    """The node editor, drawn and dragged entirely in the browser.

    Python sends it whole graphs and batched updates; it sends back only final results: a
    node dropped or moved, an edge added, a selection, a command.
    """

    def __init__(self, graph: dict[str, Any], catalog: dict[str, Any]) -> None:
        super().__init__()
        self._props["graph"] = graph
        self._props["catalog"] = catalog
        self._catalog = catalog
        self._types = _port_types(catalog.values()) | _port_types(graph["nodes"])
        self._props["fits"] = fit_table(catalog, self._types)
        self.classes("ew-canvas-host")

    def set_graph(self, graph: dict[str, Any], fit: bool = False) -> None:
        """Replace the drawn graph (after an edit, undo or redo)."""
        self._props["graph"] = graph
        types = _port_types(graph["nodes"])
        if not types <= self._types:  # a node's own ports brought a type of their own
            self._types |= types
            self._props["fits"] = fit_table(self._catalog, self._types)
            self.run_method("setFits", self._props["fits"])
        self.run_method("setGraph", graph, fit)

    def answer_wires(self, fitting: Callable[[str, str], list[str]]) -> None:
        """Light up where a picked-up wire may end, as ``fitting(port, side)`` says.

        Args:
            fitting: the ``node.port`` refs a new edge at ``port`` may join, ``side`` being
                ``out`` or ``in`` (``FlowDocument.fitting_ports``, the runtime's rule).
        """
        def started(e: Any) -> None:
            args = e.args
            fits = fitting(str(args["port"]), str(args["side"]))
            self.run_method("markFits", {"key": args["key"], "fits": fits})

        self.on("wire_started", started)

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
