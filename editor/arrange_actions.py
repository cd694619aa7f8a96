"""The auto-layout action of the editor page: its toolbar button, its shortcut and the edit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from editor.auto_layout import layered_positions, node_height
from editor.canvas import FlowCanvas
from editor.document import FlowDocument
from editor.node_face import face_text

SHORTCUT = "Shift+L"
# Shift+L anywhere but in a text field asks for the auto-layout (one listener per page)
SCRIPT = """<script>
document.addEventListener('keydown', (e) => {
  const t = e.target, tag = (t && t.tagName) || '';
  if (['INPUT', 'TEXTAREA', 'SELECT'].includes(tag) || (t && t.isContentEditable)) return;
  if (e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && e.key.toLowerCase() === 'l') {
    e.preventDefault();
    emitEvent('ew_auto_layout');
  }
});
</script>"""


def node_heights(doc: FlowDocument) -> dict[str, float]:
    """Each node's height on the canvas, from the ports it is drawn with."""
    heights: dict[str, float] = {}
    for node in doc.nodes:
        node_id = str(node.get("id"))
        spec = doc.spec(node)
        ports = doc.ports(node)
        if ports is not None:
            ins, outs = len(ports["inputs"]), len(ports["outputs"])
        elif spec is not None:
            ins, outs = len(spec.inputs), len(spec.outputs)
        else:  # an unknown component is drawn with the ports its edges use
            ins = sum(str(e.get("target", "")).split(".")[0] == node_id for e in doc.edges)
            outs = sum(str(e.get("source", "")).split(".")[0] == node_id for e in doc.edges)
        face = bool(face_text(str(node.get("component")), node.get("params", {})))
        heights[node_id] = float(node_height(ins, outs, face))
    return heights


def arranged(doc: FlowDocument) -> dict[str, tuple[float, float]]:
    """The auto-layout's positions for the document's nodes."""
    edges = [(str(e.get("source", "")).split(".")[0], str(e.get("target", "")).split(".")[0])
             for e in doc.edges]
    return layered_positions(node_heights(doc), edges)


class Arranger:
    """Lays a page's flow out left to right, as one undoable step."""

    def __init__(self, doc: FlowDocument, canvas: FlowCanvas,
                 redraw: Callable[[], None]) -> None:
        """Arrange one page's flow.

        Args:
            doc: the page's document.
            canvas: the page's canvas.
            redraw: sends the whole graph to the canvas and validates again.
        """
        self.doc = doc
        self.canvas = canvas
        self.redraw = redraw

    def controls(self) -> None:
        """The toolbar button, and the page's shortcut for it."""
        ui.add_head_html(SCRIPT)
        ui.on("ew_auto_layout", self.auto_layout)
        ui.button(icon="account_tree", on_click=self.auto_layout).props(
            'flat dense color=blue-grey-8 data-testid="auto-layout"').tooltip(
            f"Arrange the flow left to right ({SHORTCUT})")

    def auto_layout(self, _e: Any = None) -> None:
        """Place every node in left-to-right layers, then fit the view to the flow."""
        places = arranged(self.doc)
        current = {str(n.get("id")): n.get("position") for n in self.doc.nodes}
        if all(current.get(k) == {"x": round(x), "y": round(y)} for k, (x, y) in places.items()):
            self.canvas.fit()  # already laid out: no empty undo step
            return
        self.doc.move_nodes(places)
        self.redraw()
        self.canvas.fit()
