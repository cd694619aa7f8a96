"""Comments and groups on the canvas, kept in the flow's ``meta`` with undo.

A comment is a text note at a canvas position: ``meta.comments`` holds
``{"id", "text", "x", "y"}`` objects. A group is a labelled rectangle around some nodes:
``meta.groups`` holds ``{"id", "label", "nodes"}`` objects, and its box follows its nodes,
so moving a group moves its nodes. Entries this editor cannot read are kept as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from editor.canvas import FlowCanvas
from editor.document import FlowDocument
from editor.selection import Selection

COMMENT_W = 200  # px: how far left of the view's centre a new comment starts
MAX_TEXT = 4000  # characters of one comment or group label


def _entries(doc: FlowDocument, key: str) -> list[Any]:
    value = doc.meta(key)
    return list(value) if isinstance(value, list) else []


def _fresh(entries: list[Any], prefix: str) -> str:
    taken = {e.get("id") for e in entries if isinstance(e, dict)}
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def canvas_notes(doc: FlowDocument) -> dict[str, list[dict[str, Any]]]:
    """The comments and groups as the canvas draws them (groups of existing nodes only)."""
    ids = {str(n.get("id")) for n in doc.nodes}
    comments = [{"id": str(c["id"]), "text": str(c.get("text", "")),
                 "x": c.get("x", 0), "y": c.get("y", 0)}
                for c in _entries(doc, "comments")
                if isinstance(c, dict) and "id" in c
                and all(isinstance(c.get(k, 0), int | float) for k in ("x", "y"))]
    groups = []
    for g in _entries(doc, "groups"):
        if isinstance(g, dict) and "id" in g and isinstance(g.get("nodes"), list):
            members = [str(n) for n in g["nodes"] if str(n) in ids]
            if members:
                groups.append({"id": str(g["id"]), "label": str(g.get("label", "")),
                               "nodes": members})
    return {"comments": comments, "groups": groups}


def add_comment(doc: FlowDocument, text: str, x: float, y: float) -> str:
    """Add a comment at a canvas position; return its id."""
    comments = _entries(doc, "comments")
    comment_id = _fresh(comments, "comment")
    doc.set_meta("comments", [*comments, {"id": comment_id, "text": text[:MAX_TEXT],
                                          "x": round(x), "y": round(y)}])
    return comment_id


def add_group(doc: FlowDocument, label: str, nodes: list[str]) -> str:
    """Group some nodes under a label; return the group's id."""
    groups = _entries(doc, "groups")
    group_id = _fresh(groups, "group")
    doc.set_meta("groups", [*groups, {"id": group_id, "label": label[:MAX_TEXT],
                                      "nodes": list(dict.fromkeys(nodes))}])
    return group_id


def _key(kind: str) -> str:
    return "comments" if kind == "comment" else "groups"


def note(doc: FlowDocument, kind: str, note_id: str) -> dict[str, Any] | None:
    """A comment or a group by id, or None."""
    return next((e for e in _entries(doc, _key(kind))
                 if isinstance(e, dict) and e.get("id") == note_id), None)


def update_note(doc: FlowDocument, kind: str, note_id: str, **changes: Any) -> None:
    """Change fields of a comment or a group (one undo step)."""
    entries = [({**e, **changes} if isinstance(e, dict) and e.get("id") == note_id else e)
               for e in _entries(doc, _key(kind))]
    doc.set_meta(_key(kind), entries)


def delete_note(doc: FlowDocument, kind: str, note_id: str) -> None:
    """Delete a comment, or a group (its nodes stay)."""
    entries = [e for e in _entries(doc, _key(kind))
               if not (isinstance(e, dict) and e.get("id") == note_id)]
    doc.set_meta(_key(kind), entries)


class Annotations:
    """Adds, edits, moves and deletes the comments and groups of a page's flow."""

    def __init__(self, doc: FlowDocument, canvas: FlowCanvas, selection: Selection,
                 redraw: Callable[[], None]) -> None:
        """Annotate one page's flow.

        Args:
            doc: the page's document.
            canvas: the page's canvas (its notes are moved and double-clicked there).
            selection: the page's selection (the nodes a new group holds).
            redraw: sends the whole graph to the canvas and validates again.
        """
        self.doc = doc
        self.canvas = canvas
        self.selection = selection
        self.redraw = redraw
        canvas.on("note", self.on_note)

    def controls(self) -> None:
        """The toolbar buttons that add a comment and group the selected nodes."""
        ui.button(icon="sticky_note_2", on_click=self.add_comment_dialog).props(
            'flat dense color=blue-grey-8 data-testid="add-comment"').tooltip("Add a comment")
        ui.button(icon="select_all", on_click=self.group_dialog).props(
            'flat dense color=blue-grey-8 data-testid="group-selection"').tooltip(
            "Group the selected nodes")

    async def view_centre(self) -> tuple[float, float]:
        """The canvas point at the middle of the view."""
        try:
            got = await ui.run_javascript(
                f"const c = getElement({self.canvas.id}); "
                "const r = c.$el.getBoundingClientRect(); "
                "return [(r.width / 2 - c.tx) / c.k, (r.height / 2 - c.ty) / c.k];", timeout=3)
        except TimeoutError:
            return (0.0, 0.0)
        if (isinstance(got, list) and len(got) == 2
                and all(isinstance(v, int | float) for v in got)):
            return (float(got[0]), float(got[1]))
        return (0.0, 0.0)

    def _text_dialog(self, title: str, value: str, on_ok: Any, *, multiline: bool,
                     on_delete: Any = None, delete_text: str = "Delete") -> None:
        with ui.dialog() as dialog, ui.card().props('data-testid="note-dialog"'):
            ui.label(title).classes("text-subtitle1")
            field = (ui.textarea if multiline else ui.input)(value=value).props(
                'autofocus data-testid="note-text"').classes("w-64")

            def ok() -> None:
                dialog.close()
                on_ok((field.value or "").strip())

            def delete() -> None:
                dialog.close()
                on_delete()

            if not multiline:
                field.on("keydown.enter", ok)
            with ui.row():
                ui.button("OK", on_click=ok).props('data-testid="note-ok"')
                if on_delete is not None:
                    ui.button(delete_text, color="negative", on_click=delete).props(
                        'flat data-testid="note-delete"')
                ui.button("Cancel", on_click=dialog.close).props("flat")
        dialog.open()

    async def add_comment_dialog(self) -> None:
        """Ask for a text and put a comment in the middle of the view."""
        x, y = await self.view_centre()

        def add(text: str) -> None:
            if text:
                add_comment(self.doc, text, x - COMMENT_W / 2, y - 20)
                self.redraw()
        self._text_dialog("New comment", "", add, multiline=True)

    def group_dialog(self) -> None:
        """Ask for a label and group the selected nodes."""
        nodes = list(self.selection.nodes)
        if not nodes:
            ui.notify("Select the nodes to group first (drag a box around them).")
            return

        def add(label: str) -> None:
            add_group(self.doc, label or f"{len(nodes)} nodes", nodes)
            self.redraw()
        self._text_dialog(f"Group {len(nodes)} nodes", "", add, multiline=False)

    def on_note(self, e: Any) -> None:
        """A comment or group was moved or double-clicked on the canvas."""
        args = e.args if isinstance(e.args, dict) else {}
        action, kind, note_id = args.get("action"), args.get("kind"), str(args.get("id"))
        if kind not in ("comment", "group") or note(self.doc, kind, note_id) is None:
            return
        if action == "move" and kind == "comment":
            update_note(self.doc, kind, note_id, x=round(float(args["x"])),
                        y=round(float(args["y"])))
            self.redraw()
        elif action == "move":  # a group: its nodes move, in one undo step
            self.doc.move_nodes({str(p["id"]): (float(p["x"]), float(p["y"]))
                                 for p in args.get("positions", [])})
            self.redraw()
        elif action == "edit":
            self.edit_note(kind, note_id)

    def edit_note(self, kind: str, note_id: str) -> None:
        """Edit a comment's text or a group's label, or delete it."""
        entry = note(self.doc, kind, note_id) or {}
        field = "text" if kind == "comment" else "label"

        def save(value: str) -> None:
            if kind == "comment" and not value:
                delete_note(self.doc, kind, note_id)
            else:
                update_note(self.doc, kind, note_id, **{field: value[:MAX_TEXT]})
            self.redraw()

        def delete() -> None:
            delete_note(self.doc, kind, note_id)
            self.redraw()

        self._text_dialog("Comment" if kind == "comment" else "Group label",
                          str(entry.get(field, "")), save, multiline=kind == "comment",
                          on_delete=delete,
                          delete_text="Delete" if kind == "comment" else "Ungroup")

