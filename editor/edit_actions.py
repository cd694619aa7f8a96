"""Editing habits of the editor page: splice a node into a wire, quick-add, context menu."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from editor.canvas import FlowCanvas
from editor.document import FlowDocument
from editor.runs_panel import RunsPanel

DUPLICATE_OFFSET = 40  # canvas units right and down from the original


class EditActions:
    """Mixed into EditorPage: what the canvas's drops, pick lists and context menu ask for."""

    doc: FlowDocument
    canvas: FlowCanvas
    runs: RunsPanel
    clipboard: dict[str, Any]
    selection: dict[str, list[str]]

    def redraw(self) -> None:
        """Send the graph to the canvas again (EditorPage has it)."""
        raise NotImplementedError

    def on_selection_values(self, nodes: list[str], edges: list[str]) -> None:
        """Remember a selection (EditorPage has it)."""
        raise NotImplementedError

    def set_label(self, node_id: str, label: str) -> None:
        """Set a node's label (EditorPage has it)."""
        raise NotImplementedError

    def select_new(self, node_ids: list[str]) -> None:
        """Select nodes just added, on the canvas and in the params panel."""
        self.canvas.select(node_ids, [])
        self.on_selection_values(node_ids, [])

    def place_node(self, component: str, x: float, y: float, edge: str | None = None) -> str:
        """Add a node; dropped on a wire (``edge``), it goes in between, in the same undo step.

        Returns:
            The new node's id.
        """
        node_id = self.doc.add_node(component, x, y)
        reason = self.doc.splice(node_id, edge, new_step=False) if edge else None
        self.redraw()
        self.select_new([node_id])
        if reason:
            self.canvas.refuse(f"{node_id} was added but not put on the wire: {reason}")
        return node_id

    def on_node_spliced(self, e: Any) -> None:
        """A node without wires was dragged onto a wire: move it and put it in between."""
        node_id, edge = str(e.args["node"]), str(e.args["edge"])
        self.doc.move_nodes({node_id: (e.args["x"], e.args["y"])})
        reason = self.doc.splice(node_id, edge, new_step=False)
        self.redraw()
        if reason:
            self.canvas.refuse(f"not put on the wire: {reason}")

    def on_quick_add(self, e: Any) -> None:
        """A component was picked for a wire dropped on empty canvas: add it there, wired."""
        args = e.args
        if self.doc.registry.get(args["component"]) is None:
            return
        node_id, reason = self.doc.add_wired(args["component"], args["x"], args["y"],
                                             args["port"], args["direction"])
        self.redraw()
        self.select_new([node_id])
        if reason:
            self.canvas.refuse(f"{node_id} was added but not wired: {reason}")

    def paste_clipboard(self, x: Any = None, y: Any = None) -> None:
        """Paste the clipboard, its top-left at (x, y) when given (the pointer)."""
        at = (float(x), float(y)) if isinstance(x, int | float) and isinstance(
            y, int | float) else None
        new = self.doc.paste(self.clipboard, at=at)
        if new:
            self.redraw()
            self.select_new(new)

    async def edit_command(self, name: str, args: dict[str, Any]) -> None:
        """Commands of the canvas's context menu that the keys do not have."""
        nodes = [str(n) for n in args.get("nodes", [])]
        if name == "duplicate" and nodes:
            new = self.doc.paste(self.doc.copy(nodes), offset=DUPLICATE_OFFSET)
            if new:
                self.redraw()
                self.select_new(new)
        elif name == "rename" and len(nodes) == 1:
            self.rename_dialog_for(nodes[0])
        elif name == "rerun" and len(nodes) == 1:
            self.on_selection_values(nodes, [])
            await self.runs.replay()

    def rename_dialog_for(self, node_id: str) -> None:
        """Ask for a node's label (its display name); an empty one shows the id."""
        node = self.doc.node(node_id)
        if node is None:
            return
        with ui.dialog() as dialog, ui.card().props('data-testid="rename-dialog"'):
            ui.label(f"Label of {node_id}").classes("text-subtitle1")
            field = ui.input("label", value=str(node.get("label") or "")).props(
                'autofocus data-testid="rename-input"').classes("w-64")

            def confirm() -> None:
                self.set_label(node_id, (field.value or "").strip())
                dialog.close()

            field.on("keydown.enter", confirm)
            with ui.row():
                ui.button("OK", on_click=confirm).props('data-testid="rename-ok"')
                ui.button("Cancel", on_click=dialog.close).props("flat")
        dialog.open()
