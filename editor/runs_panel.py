"""The Runs panel: kept runs of this flow; show one on the canvas, compare, replay, trace."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nicegui import run, ui

import runtime
from runtime.record.lineage import scorer


def run_samples(store: runtime.RunStore, origin: str, keep: int = 20) -> list[dict[str, Any]]:
    """The last values recorded on a port, newest first, as the inspector shows them."""
    messages = list(store.messages(origin))[-keep:]
    samples = []
    for message in reversed(messages):
        try:
            info = runtime.detail(store.value(message.id))
        except KeyError:
            info = dict(message.preview or {"kind": "text", "summary": "(value not kept)",
                                            "value": "(value not kept)"})
        samples.append({"id": message.id, **info})
    return samples


def trace_items(store: runtime.RunStore, steps: list[runtime.record.lineage.Step],
                ) -> list[str]:
    """The node and edge ids on a lineage path, for highlighting on the canvas."""
    edges = [f"{e['source']}->{e['target']}" for e in store.flow().get("edges", [])]
    ids: set[str] = set()
    nodes = {step.message.id: step.message for step in steps}
    nodes.update({side.id: side for step in steps for side in step.side_inputs})
    for side in (side for step in steps for side in step.side_inputs):
        ids.add(side.node)
    for step in steps:
        message = step.message
        ids.add(message.node)
        for a, b in message.parent_ranges:
            for parent_id in range(a, min(b, a + 500)):
                parent = nodes.get(parent_id)
                if parent is None:
                    continue
                ids.update(e for e in edges if e.startswith(parent.origin + "->")
                           and e.split("->")[1].split(".")[0] == message.node)
    return sorted(ids)


def scored_by_lines(store: runtime.RunStore, steps: list[runtime.record.lineage.Step],
                    ) -> list[str]:
    """Which model scored a traced row: its estimator, params, when and what it was fitted on."""
    found = scorer(steps)
    if found is None:
        return []
    step, model = found
    facts = runtime.Lineage(store).model_facts(model)
    trained = facts["trained"]
    data = ", ".join(f"#{d['message']} {d['node']} ({d['rows']} rows)"
                     for d in facts["training_data"][:5])
    more = len(facts["training_data"]) - 5
    return [f"scored at {step.message.node} by {facts['estimator']} (model #{facts['message']}"
            f" from {facts['node']})",
            f"params: {json.dumps(facts['params'], default=str)}",
            f"trained {trained['seconds_into_run']:.3f} s into the run started "
            f"{trained['run_started']}",
            "fitted on: " + (data or "nothing recorded") + (f" and {more} more"
                                                            if more > 0 else "")]


class RunsPanel:
    """Lists the kept runs of the flow being edited and acts on them."""

    def __init__(self, workspace: Path, flow_name: str,
                 on_show: Callable[[runtime.RunStore | None], None],
                 selected_node: Callable[[], str | None],
                 current_flow: Callable[[], dict[str, Any]],
                 on_compared: Callable[[dict[str, Any]], None],
                 on_replayed: Callable[[str], Awaitable[None]]) -> None:
        self.workspace = workspace
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
            manifest = store.manifest()
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
                shown = self.shown is not None and self.shown.id == store.id
                with ui.row().classes("w-full items-center gap-2 q-px-xs" +
                                      (" bg-blue-1" if shown else "")).props(
                        f'data-testid="run-row" data-run="{store.id}"'):
                    ui.label(store.id).classes("font-mono text-caption")
                    ui.label(str(m.get("status"))).classes("text-caption")
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
        report = await run.io_bound(runtime.diff_runs, base, other)
        if report is None:
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
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(self.current_flow(), handle)
        self.status.set_text(f"re-running from '{node}'…")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "runtime.cli", "replay", self.shown.id, "--from", node,
            "--flow", handle.name, "-w", str(self.workspace), "--json",
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
