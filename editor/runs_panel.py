"""The Runs panel: kept runs of this flow; show one on the canvas, compare, replay, trace."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nicegui import ui

import runtime
from editor.kept_values import reader


class RunsPanel:
    """Lists the kept runs of the flow being edited and acts on them."""

    def __init__(self, workspace: Path, flow_name: str,
                 on_show: Callable[[runtime.RunStore | None], None],
                 selected_node: Callable[[], str | None],
                 current_flow: Callable[[], dict[str, Any]],
                 on_compared: Callable[[dict[str, Any]], None],
                 on_replayed: Callable[[str], Awaitable[None]],
                 confirm_code: Callable[[], Awaitable[bool]]) -> None:
        self.workspace = workspace
        self.confirm_code = confirm_code
        self.flow_name = flow_name
        self.on_show = on_show
        self.selected_node = selected_node
        self.current_flow = current_flow
        self.on_compared = on_compared
        self.on_replayed = on_replayed
        self.shown: runtime.RunStore | None = None
        with ui.column().classes("w-full gap-1").props('data-testid="runs-panel"'):
            with ui.row().classes("items-center gap-2"):
                ui.button("Live", icon="sensors", on_click=lambda: self.show(None)).props(
                    'flat dense data-testid="runs-live"')
                self.replay_button = ui.button(
                    "Re-run from selected node", icon="replay", on_click=self.replay).props(
                    'flat dense data-testid="run-replay"')
                self.status = ui.label().classes("text-caption text-grey-8").props(
                    'data-testid="runs-status"')
            self.table = ui.column().classes("w-full gap-0")
        self.refresh()

    def runs(self) -> list[runtime.RunStore]:
        """Kept runs of this flow, newest first."""
        found = []
        for store in reversed(runtime.list_runs(self.workspace)):
            try:
                manifest = store.manifest()
            except LookupError:  # damaged: an unreadable manifest cannot say which flow ran
                continue
            if manifest.get("flow_file") in (self.flow_name, str(self.workspace /
                                                                 self.flow_name)):
                found.append(store)
        return found

    def refresh(self) -> None:
        """Redraw the list."""
        self.table.clear()
        with self.table:
            runs = self.runs()
            if not runs:
                ui.label("No kept runs of this flow yet: press Run.").classes(
                    "text-caption text-grey-7")
            for store in runs[:50]:
                m = store.manifest()
                damage = store.damage
                shown = self.shown is not None and self.shown.id == store.id
                with ui.row().classes("w-full items-center gap-2 q-px-xs" +
                                      (" bg-blue-1" if shown else "")).props(
                        f'data-testid="run-row" data-run="{store.id}"'):
                    ui.label(store.id).classes("font-mono text-caption")
                    if damage:
                        ui.label("damaged").classes("text-caption text-negative").props(
                            'data-testid="run-damaged"').tooltip(damage)
                    else:
                        ui.label(store.status()).classes("text-caption").props(
                            'data-testid="run-status"')
                    if m.get("replay_of"):
                        ui.label(f"replay of {m['replay_of']} from {m.get('replay_from')}"
                                 ).classes("text-caption text-grey-7")
                    ui.button("Show", on_click=lambda s=store: self.show(s)).props(
                        'flat dense size=sm data-testid="run-show"')
                    ui.button("Compare", on_click=lambda s=store: self.compare(s)).props(
                        'flat dense size=sm data-testid="run-compare"').tooltip(
                        "Compare the run shown on the canvas (run A) with this one (run B)")

    def show(self, store: runtime.RunStore | None) -> None:
        """Show a kept run on the canvas (None: back to live runs)."""
        self.shown = store
        self.on_show(store)
        self.status.set_text(f"showing run {store.id}" if store else "live")
        self.refresh()

    async def compare(self, other: runtime.RunStore) -> None:
        """Compare the shown run (or the newest other one) with ``other``."""
        base = self.shown
        if base is None or base.id == other.id:
            candidates = [s for s in self.runs() if s.id != other.id]
            if not candidates:
                ui.notify("there is no other run to compare with", type="warning")
                return
            base = candidates[0]
        self.status.set_text(f"comparing {base.id} with {other.id}…")
        try:  # the values are read in a helper process, never in the editor's
            report = await reader().ask("diff", str(base.folder), str(other.folder))
        except LookupError as exc:
            self.status.set_text("")
            ui.notify(f"cannot compare {base.id} with {other.id}: {exc.args[0]}",
                      type="negative", multi_line=True)
            return
        first = report["first_changed"]
        self.status.set_text(f"{base.id} → {other.id}: " + (
            f"first changed: {', '.join(first)}" if first else "the runs carry the same data"))
        self.on_compared(report)

    async def replay(self) -> None:
        """Re-run the selected node and what is downstream, on the shown run's inputs."""
        node = self.selected_node()
        if self.shown is None or node is None:
            ui.notify("show a kept run and select a node to re-run from", type="warning")
            return
        # the page asks about code it has not trusted; what it lets run, the replay may run
        if not await self.confirm_code():
            return
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(self.current_flow(), handle)
        self.status.set_text(f"re-running from '{node}'…")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "runtime.cli", "replay", self.shown.id, "--from", node,
            "--flow", handle.name, "-w", str(self.workspace), "--json", "--trust",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await process.communicate()
        Path(handle.name).unlink(missing_ok=True)
        if process.returncode not in (0, 1):
            self.status.set_text("")
            ui.notify(err.decode(errors="replace").strip() or "the replay failed",
                      type="negative", multi_line=True)
            return
        answer = json.loads(out.decode().strip().splitlines()[-1])
        self.status.set_text(f"replayed as run {answer['run']}")
        await self.on_replayed(answer["run"])
