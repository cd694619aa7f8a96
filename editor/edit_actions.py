"""Editing on the canvas: drops, wires, keys, undo, splice, quick-add and the context menu."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from editor.canvas import FlowCanvas
from editor.flow_file import OpenFlow
from editor.selection import Selection

DUPLICATE_OFFSET = 40  # canvas units right and down from the original


class EditController:
    """Turns what the canvas asks for into edits of the document, and shows them."""

    def __init__(self, flow: OpenFlow, canvas: FlowCanvas, selection: Selection, *,
                 redraw: Callable[[], None], refresh_title: Callable[[], None],
                 set_label: Callable[[str, str], None], save: Callable[[], Awaitable[None]],
                 undone: Callable[[], None], rerun: Callable[[], Awaitable[None]]) -> None:
        """Edit one page's flow.

        Args:
            flow: the page's flow.
            canvas: the page's canvas.
            selection: the page's selection.
            redraw: sends the whole graph to the canvas and validates again.
            refresh_title: shows whether the flow has unsaved changes.
            set_label: sets a node's label (display name).
            save: saves the flow (Ctrl+S).
            undone: an undo or redo changed the document (the params form is drawn again).
            rerun: re-runs the kept run from the selected node.
        """
        self.doc = flow.doc
        self.canvas = canvas
        self.selection = selection
        self.redraw = redraw
        self.refresh_title = refresh_title
        self.set_label = set_label
        self.save = save
        self.undone = undone
        self.rerun = rerun
        self.clipboard: dict[str, Any] = {}

    def connect(self) -> None:
        """Listen to the canvas's editing events."""
        self.canvas.on("node_dropped", self.on_drop)
        self.canvas.on("nodes_moved", self.on_moved)
        self.canvas.on("edge_added", self.on_edge_added)
        self.canvas.answer_wires(lambda port, side: self.doc.fitting_ports(port, side))
        self.canvas.on("command", self.on_command)
        self.canvas.on("node_spliced", self.on_node_spliced)
        self.canvas.on("quick_add", self.on_quick_add)

    # -- canvas events -------------------------------------------------------------------

    def on_drop(self, e: Any) -> None:
        """A component was dropped from the palette."""
        args = e.args
        if self.doc.registry.get(args["component"]) is None:
            return
        self.place_node(args["component"], args["x"], args["y"], args.get("edge"))

    def on_moved(self, e: Any) -> None:
        """Nodes were dragged to new places (which cannot change what validation says)."""
        self.doc.move_nodes({p["id"]: (p["x"], p["y"]) for p in e.args["positions"]})
        self.refresh_title()

    def on_edge_added(self, e: Any) -> None:
        """The user drew an edge; the runtime has the final word on it."""
        reason = self.doc.add_edge(e.args["source"], e.args["target"])
        if reason:
            self.canvas.refuse(reason)
            return
        self.redraw()

    async def on_command(self, e: Any) -> None:
        """Keyboard commands from the canvas."""
        name = e.args["name"]
        if name == "save":
            await self.save()
        elif name == "undo":
            self.undo()
        elif name == "redo":
            self.redo()
        elif name in ("copy", "cut"):
            self.clipboard = self.doc.copy(e.args.get("nodes", []))
            if name == "cut":
                self.delete(e.args.get("nodes", []), e.args.get("edges", []))
        elif name == "paste":
            self.paste_clipboard(e.args.get("x"), e.args.get("y"))
        elif name == "delete":
            self.delete(e.args.get("nodes", []), e.args.get("edges", []))
        else:
            await self.edit_command(name, e.args)

    # -- edits -----------------------------------------------------------------------------

    def delete(self, nodes: list[str], edges: list[str]) -> None:
        """Delete the selection."""
        if not nodes and not edges:
            return
        self.doc.delete(nodes, edges)
        self.selection.set([], [])
        self.redraw()

    def undo(self) -> None:
        """Undo one edit."""
        if self.doc.undo():
            self.redraw()
            self.undone()

    def redo(self) -> None:
        """Redo one edit."""
        if self.doc.redo():
            self.redraw()
            self.undone()

    def select_new(self, node_ids: list[str]) -> None:
        """Select nodes just added, on the canvas and in the params panel."""
        self.selection.select(node_ids, [])

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
            self.selection.set(nodes, [])
            await self.rerun()

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
