"""File actions of the editor page: save, new, save as, rename and delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from nicegui import ui

from editor.document import FlowDocument
from editor.workspace import Workspace, WorkspaceError

# A name dialog is built by the server, a round trip after the click that asks for it: keys
# typed in between would be lost. TYPE_AHEAD keeps them (run in the browser on the click),
# and TYPED_AHEAD puts them in the dialog's field once it is there, and focuses it.
TYPE_AHEAD = """() => {
  const keys = [];
  const grab = (e) => {
    const field = document.querySelector("[data-testid=name-input]");
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
    const field = document.querySelector("[data-testid=name-input]");
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


class FileActions:
    """Mixed into EditorPage: what the page does with its flow's file."""

    workspace: Workspace
    name: str
    doc: FlowDocument
    sign: Callable[[str], None]  # TrustActions: trust what a trusted page saved

    def refresh_title(self) -> None:
        """Show the flow's name and the unsaved marker (EditorPage has it)."""
        raise NotImplementedError

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
                'autofocus data-testid="name-input"').classes("w-64")
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

