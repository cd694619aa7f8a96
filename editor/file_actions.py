"""File actions of the editor page: save, new, save as, rename, delete, import and export."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nicegui import events, ui

import runtime
from editor.flow_file import OpenFlow
from editor.workspace import FLOW_SUFFIX, Workspace, WorkspaceError

IMPORT_MAX_BYTES = 10 * 1024 * 1024
NOT_A_FLOW = ("schema", "file")  # problem codes that mean the file is no flow file at all


class ImportRefused(Exception):
    """An uploaded file is not a flow file; the message says why, for the user."""


def check_import(filename: str, content: bytes, registry: runtime.Registry) -> tuple[
        dict[str, Any], list[runtime.Problem]]:
    """Read an uploaded flow file: its document and the problems it has as a flow.

    Problems a user fixes in the editor (an unknown component, a param, a missing data
    file) are returned; a file that is not a flow at all is refused.

    Raises:
        ImportRefused: when the file is not JSON, not a JSON object or not a flow.
    """
    if not filename.lower().endswith(FLOW_SUFFIX):
        msg = f"'{filename}' is not a .json flow file: export a flow from Edgewise and import that"
        raise ImportRefused(msg)
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        msg = f"'{filename}' is not valid JSON ({exc}); nothing was imported"
        raise ImportRefused(msg) from None
    if not isinstance(data, dict):
        msg = (f"'{filename}' holds JSON that is not an object, so it is no flow; "
               "nothing was imported")
        raise ImportRefused(msg)
    problems = runtime.validate(json.loads(json.dumps(data)), registry=registry)
    fatal = [p for p in problems if p.code in NOT_A_FLOW]
    if fatal:
        listed = "; ".join(p.message for p in fatal[:3])
        msg = f"'{filename}' is not a flow file: {listed}; nothing was imported"
        raise ImportRefused(msg)
    return data, problems


def free_name(workspace: Workspace, filename: str, flow_name: str) -> str:
    """A file name for an imported flow that no flow of the workspace has yet."""
    stem = re.sub(r"[^A-Za-z0-9 _.-]", "_", Path(filename).stem).strip(" ._-")
    if not stem:
        stem = re.sub(r"[^A-Za-z0-9 _.-]", "_", flow_name).strip(" ._-") or "imported"
    name, n = f"{stem}{FLOW_SUFFIX}", 2
    while workspace.path(name).exists():
        name, n = f"{stem}-{n}{FLOW_SUFFIX}", n + 1
    return name

# A name dialog is built by the server, a round trip after the click that asks for it: keys
# typed in between would be lost. TYPE_AHEAD keeps them (run in the browser on the click),
# and TYPED_AHEAD puts them in the dialog's field once it is there, and focuses it.
TYPE_AHEAD = """() => {
  const keys = [];
  const grab = (e) => {
    const field = document.querySelector("[data-role=name-input]");
    if (field && document.activeElement === field) return stop();
    if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      keys.push(e.key); e.preventDefault(); e.stopPropagation();
    }
  };
  const stop = () => document.removeEventListener("keydown", grab, true);
  document.addEventListener("keydown", grab, true);
  setTimeout(stop, 5000);
  window.__ewTypeAhead = { keys, stop };
}"""
TYPED_AHEAD = """(async () => {
  for (let i = 0; i < 250; i++) {
    const field = document.querySelector("[data-role=name-input]");
    if (field && field.offsetParent !== null) {
      const ahead = window.__ewTypeAhead;
      window.__ewTypeAhead = null;
      if (ahead) ahead.stop();
      field.focus();
      if (ahead && ahead.keys.length) {
        field.value = ahead.keys.join("");
        field.dispatchEvent(new Event("input", { bubbles: true }));
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
})()"""


def keeps_typed_keys(element: ui.element) -> ui.element:
    """Keep the keys typed after a click on ``element`` for the name dialog it opens."""
    return element.on("click", js_handler=TYPE_AHEAD)


class FileController:
    """What a page does with its flow's file: save, new, save as, rename, delete, import."""

    def __init__(self, flow: OpenFlow, *, sign: Callable[[str], None],
                 refresh_title: Callable[[], None]) -> None:
        """Act on one open flow.

        Args:
            flow: the page's flow.
            sign: trusts what a trusted page saved, given the file's name.
            refresh_title: shows the flow's name and whether it has unsaved changes.
        """
        self.flow = flow
        self.workspace = flow.workspace
        self.doc = flow.doc
        self.sign = sign
        self.refresh_title = refresh_title

    @property
    def name(self) -> str:
        """The open file's name."""
        return self.flow.name

    async def save(self) -> None:
        """Save atomically; a flow with problems is saved too, and they stay listed."""
        try:
            self.workspace.write_json(self.name, self.doc.data)
        except (WorkspaceError, OSError) as exc:
            ui.notify(f"could not save: {exc}", type="negative")
            return
        self.sign(self.name)
        self.doc.mark_saved()
        self.refresh_title()
        ui.notify(f"saved {self.name}", type="positive", timeout=1500)

    def _name_dialog(self, title: str, action: Any, value: str = "") -> None:
        with ui.dialog() as dialog, ui.card().props('data-testid="name-dialog"'):
            ui.label(title).classes("text-subtitle1")
            field = ui.input("file name", value=value).props(
                'autofocus data-testid="name-input" data-role="name-input"').classes("w-64")
            error = ui.label().classes("text-negative text-caption").props(
                'data-testid="name-error"')

            def confirm() -> None:
                try:
                    target = action(field.value or "")
                except WorkspaceError as exc:
                    error.set_text(str(exc))
                    return
                except OSError as exc:  # the file system refused: say what it said
                    error.set_text(f"cannot save there: {exc.strerror or exc}")
                    return
                dialog.close()
                ui.navigate.to(f"/flow/{target}")

            field.on("keydown.enter", confirm)
            with ui.row():
                ui.button("OK", on_click=confirm).props('data-testid="name-ok"')
                ui.button("Cancel", on_click=dialog.close).props("flat")
        dialog.open()
        ui.run_javascript(TYPED_AHEAD)

    def new_dialog(self) -> None:
        """Ask for a name and create an empty flow."""
        self._name_dialog("New flow", self.workspace.create)

    def save_as_dialog(self) -> None:
        """Ask for a name and save a copy there."""
        def save_as(name: str) -> str:
            path = self.workspace.path(name)
            if path.exists():
                msg = f"a flow '{path.name}' exists already"
                raise WorkspaceError(msg)
            self.workspace.write_json(path.name, self.doc.data)
            self.sign(path.name)
            self.doc.mark_saved()
            ui.run_javascript("window.__ewDirty = false;")
            return path.name
        self._name_dialog("Save as", save_as, Path(self.name).stem + "-copy")

    def rename_dialog(self) -> None:
        """Ask for a new name for this flow's file."""
        def rename(name: str) -> str:
            if self.doc.dirty:
                self.workspace.write_json(self.name, self.doc.data)
                self.sign(self.name)
                self.doc.mark_saved()
                ui.run_javascript("window.__ewDirty = false;")
            return self.workspace.rename(self.name, name)
        self._name_dialog("Rename", rename, Path(self.name).stem)

    def delete_dialog(self) -> None:
        """Ask, then delete this flow's file."""
        with ui.dialog() as dialog, ui.card():
            ui.label(f"Delete {self.name}? This cannot be undone.")

            def confirm() -> None:
                try:
                    self.workspace.delete(self.name)
                except WorkspaceError as exc:
                    ui.notify(str(exc), type="negative")
                    return
                self.doc.mark_saved()
                ui.run_javascript("window.__ewDirty = false;")
                dialog.close()
                ui.navigate.to("/")

            with ui.row():
                ui.button("Delete", color="negative", on_click=confirm).props(
                    'data-testid="delete-ok"')
                ui.button("Cancel", on_click=dialog.close).props("flat")
        dialog.open()

    # -- import and export ---------------------------------------------------------------

    def export_flow(self) -> None:
        """Download the flow as the editor holds it (unsaved edits included), as JSON."""
        text = json.dumps(self.doc.data, indent=2) + "\n"
        ui.download.content(text, self.name, media_type="application/json")

    def import_dialog(self) -> None:
        """Upload a .json flow into the workspace, under a name no flow has yet."""
        with ui.dialog() as dialog, ui.card().props('data-testid="import-dialog"'):
            ui.label("Import a flow file").classes("text-subtitle1")
            ui.label("The flow is added to the workspace; this flow and every other file "
                     "stay as they are.").classes("text-caption text-grey-7")
            result = ui.column().classes("w-full gap-1")

            async def received(e: events.UploadEventArguments) -> None:
                result.clear()
                with result:
                    try:
                        data, problems = check_import(e.file.name, await e.file.read(),
                                                      self.flow.registry)
                        name = free_name(self.workspace, e.file.name, str(data.get("name", "")))
                        self.workspace.write(name, json.dumps(data, indent=2) + "\n")
                    except (ImportRefused, WorkspaceError, OSError) as exc:
                        ui.label(str(exc)).classes("text-negative text-caption").props(
                            'data-testid="import-error"')
                        return
                    note = (f" with {len(problems)} problem(s) to fix in the editor"
                            if problems else "")
                    ui.label(f"Imported as {name}{note}.").classes(
                        "text-positive text-caption").props(
                        f'data-testid="import-done" data-flow="{name}"')
                    ui.button("Open it", on_click=lambda: ui.navigate.to(f"/flow/{name}")).props(
                        'flat dense data-testid="import-open"')

            ui.upload(on_upload=received, auto_upload=True, max_file_size=IMPORT_MAX_BYTES,
                      on_rejected=lambda: ui.notify(
                          "the file is larger than 10 MB: a flow file is much smaller",
                          type="negative")).props(
                'accept=".json,application/json" data-testid="import-upload"').classes("w-full")
            ui.button("Close", on_click=dialog.close).props('flat data-testid="import-close"')
        dialog.open()
