"""The Runs panel: a table of this flow's kept runs; show one, compare two, replay, trace."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nicegui import ui

import runtime
import runtime.runs
from editor.kept_values import reader
from editor.replay_rule import KeptFacts, replay_blocker
from editor.replay_rule import facts_of as kept_facts
from editor.runs_table import RunFacts, facts_of, sort_runs, with_changes
from editor.worker import RunWorker

SHOWN_RUNS = 50
RULE_EVERY = 0.4  # seconds: how often the re-run button checks whether it can work
HEADINGS = (("run", None), ("time", "started"), ("duration", "seconds"), ("status", "status"),
            ("changed params", None), ("metrics", None), ("", None))
FINISHED = ("ok", "errors", "aborted", "stopped")


class RunsPanel:
    """Lists the kept runs of the flow being edited and acts on them."""

    def __init__(self, workspace: Path, flow_name: str,
                 on_show: Callable[[runtime.runs.RunStore | None], None],
                 selected_node: Callable[[], str | None],
                 current_flow: Callable[[], dict[str, Any]],
                 on_compared: Callable[[dict[str, Any]], None],
                 on_replayed: Callable[[str, runtime.runs.RunStore, dict[str, Any]], None],
                 confirm_code: Callable[[], Awaitable[bool]], *,
                 replay_worker: Callable[[], tuple[RunWorker, bool]] | None = None,
                 plugins: Callable[[], bool] = lambda: False,
                 busy: Callable[[], str | None] = lambda: None,
                 ask: Callable[..., Awaitable[Any]] | None = None) -> None:
        self.workspace = workspace
        self.confirm_code = confirm_code
        self.flow_name = flow_name
        self.on_show = on_show
        self.selected_node = selected_node
        self.current_flow = current_flow
        self.on_compared = on_compared
        self.on_replayed = on_replayed
        self.replay_worker = replay_worker
        self.plugins = plugins
        self.busy = busy
        self.ask = ask or reader().ask
        self.shown: runtime.runs.RunStore | None = None
        self.report: dict[str, Any] | None = None  # the last comparison, while it is shown
        self.replaying = False
        self.sort_key, self.descending = "started", True
        self._facts: dict[str, RunFacts] = {}
        self._kept: dict[str, KeptFacts] = {}
        self._rule: tuple[Any, ...] = ()
        with ui.column().classes("w-full gap-1").props('data-testid="runs-panel"'):
            with ui.row().classes("items-center gap-2"):
                ui.button("Live", icon="sensors", on_click=lambda: self.show(None)).props(
                    'flat dense data-testid="runs-live"')
                self.replay_button = ui.button(
                    "Re-run from selected node", icon="replay", on_click=self.replay).props(
                    'flat dense data-testid="run-replay"')
                with self.replay_button:
                    self.replay_tip = ui.tooltip("").props('data-testid="run-replay-tip"')
                self.status = ui.label().classes("text-caption text-grey-8").props(
                    'data-testid="runs-status"')
            self.table = ui.column().classes("w-full gap-0").props('data-testid="runs-table"')
        self.refresh()
        self.update_replay()
        ui.timer(RULE_EVERY, self.update_replay)

    # -- the kept runs -------------------------------------------------------------------

    def runs(self) -> list[runtime.runs.RunStore]:
        """Kept runs of this flow, newest first."""
        found = []
        for store in reversed(runtime.runs.list_runs(self.workspace)):
            try:
                manifest = store.manifest()
            except LookupError:  # damaged: an unreadable manifest cannot say which flow ran
                continue
            if manifest.get("flow_file") in (self.flow_name, str(self.workspace /
                                                                 self.flow_name)):
                found.append(store)
        return found

    def facts(self, store: runtime.runs.RunStore) -> RunFacts:
        """The table's facts of a run (kept once the run has finished: it no longer changes)."""
        known = self._facts.get(store.id)
        if known is not None:
            return known
        try:
            found = facts_of(store)
        except LookupError as exc:
            return RunFacts(id=store.id, status="damaged", changes=[str(exc)])
        if found.status in FINISHED:
            self._facts[store.id] = found
        return found

    def sort_by(self, key: str) -> None:
        """Sort the table by a column; a second click on it reverses the order."""
        self.descending = not self.descending if key == self.sort_key else key != "status"
        self.sort_key = key
        self.refresh()

    def refresh(self) -> None:
        """Redraw the table: newest first unless sorted otherwise."""
        self.table.clear()
        stores = {s.id: s for s in self.runs()[:SHOWN_RUNS]}
        rows = with_changes([self.facts(s) for s in stores.values()])
        rows = sort_runs(rows, self.sort_key, self.descending)
        with self.table:
            if not rows:
                ui.label("No kept runs of this flow yet: press Run.").classes(
                    "text-caption text-grey-7")
                return
            with ui.element("div").classes("ew-runs-grid ew-runs-head text-caption"):
                for title, key in HEADINGS:
                    if key is None:
                        ui.label(title)
                        continue
                    arrow = ("▼" if self.descending else "▲") if key == self.sort_key else ""
                    ui.label(f"{title} {arrow}".strip()).classes("cursor-pointer").props(
                        f'data-testid="runs-sort" data-key="{key}"').on(
                        "click", lambda _e, k=key: self.sort_by(k))
            for facts in rows:
                self._row(stores[facts.id], facts)

    def _row(self, store: runtime.runs.RunStore, facts: RunFacts) -> None:
        damage = store.damage
        shown = self.shown is not None and self.shown.id == store.id
        with ui.element("div").classes("ew-runs-grid text-caption q-px-xs" +
                                       (" bg-blue-1" if shown else "")).props(
                f'data-testid="run-row" data-run="{store.id}"'):
            with ui.column().classes("gap-0 ew-runs-cell"):
                ui.label(store.id).classes("font-mono")
                if facts.replay_of:
                    ui.label(f"replay of {facts.replay_of} from {facts.replay_from}").classes(
                        "text-grey-7")
            ui.label(facts.time_text).props('data-testid="run-time"')
            ui.label(facts.duration_text).props('data-testid="run-duration"')
            if damage:
                ui.label("damaged").classes("text-negative").props(
                    'data-testid="run-damaged"').tooltip(damage)
            else:
                ui.label(facts.status).classes(
                    "text-positive" if facts.status == "ok" else "text-warning").props(
                    'data-testid="run-status"')
            changes = ui.label("; ".join(facts.changes[:3]) + (
                f" (+{len(facts.changes) - 3})" if len(facts.changes) > 3 else "")).classes(
                "ew-runs-cell").props('data-testid="run-changes"')
            if facts.changes:
                changes.tooltip("\n".join(facts.changes)).props("max-width=480px")
            ui.label(facts.metrics_text).classes("ew-runs-cell font-mono").props(
                'data-testid="run-metrics"')
            with ui.row().classes("gap-0 no-wrap"):
                ui.button("Show", on_click=lambda s=store: self.show(s)).props(
                    'flat dense size=sm data-testid="run-show"')
                ui.button("Compare", on_click=lambda s=store: self.compare(s)).props(
                    'flat dense size=sm data-testid="run-compare"').tooltip(
                    "Compare the run shown on the canvas (run A) with this one (run B)")

    def show(self, store: runtime.runs.RunStore | None) -> None:
        """Show a kept run on the canvas (None: back to live runs)."""
        self.shown = store
        self.report = None
        self.on_show(store)
        self.status.set_text(f"showing run {store.id}" if store else "live")
        self.refresh()

    async def compare(self, other: runtime.runs.RunStore) -> None:
        """Compare the shown run (or the newest other one) with ``other``."""
        base = self.shown
        if base is None or base.id == other.id:
            candidates = [s for s in self.runs() if s.id != other.id]
            if not candidates:
                ui.notify("there is no other run to compare with", type="warning")
                return
            base = candidates[0]
        self.status.set_text(f"comparing {base.id} with {other.id}…")
        try:  # the values are read in another process, never in the editor's
            report = await self.ask("diff", str(base.folder), str(other.folder))
        except LookupError as exc:
            self.status.set_text("")
            ui.notify(f"cannot compare {base.id} with {other.id}: {exc.args[0]}",
                      type="negative", multi_line=True)
            return
        self.compared(report)

    # -- re-run from the selected node ---------------------------------------------------

    def replay_base(self) -> runtime.runs.RunStore | None:
        """The kept run a re-run takes its values from: the one shown, else the newest.

        A replay recorded only its own part of the flow, so re-running from a replay takes
        the values of the run it replays.
        """
        runs = self.runs()
        base = self.shown or next((s for s in runs if self.facts(s).status in FINISHED), None)
        seen: set[str] = set()
        while base is not None and base.id not in seen:
            seen.add(base.id)
            origin = self.facts(base).replay_of
            original = next((s for s in runs if s.id == origin), None) if origin else None
            if original is None:
                break
            base = original
        return base

    def _kept_facts(self, store: runtime.runs.RunStore) -> KeptFacts:
        known = self._kept.get(store.id)
        if known is None:
            known = kept_facts(store)
            if known.status in FINISHED or known.damage:
                self._kept[store.id] = known
        return known

    def replay_blocker(self) -> tuple[str | None, runtime.runs.RunStore | None]:
        """Why a re-run cannot work now (None when it can), and the run it would use."""
        if self.replaying:
            return "A re-run is going on.", None
        busy = self.busy()
        if busy:
            return busy, None
        base = self.replay_base()
        try:
            facts = self._kept_facts(base) if base is not None else None
        except LookupError as exc:
            return str(exc), None
        return replay_blocker(self.current_flow(), self.selected_node(), facts), base

    def update_replay(self) -> None:
        """Enable the re-run button only when a re-run can work; the tooltip says why not."""
        node = self.selected_node()
        key = (node, json.dumps(self.current_flow(), sort_keys=True, default=str),
               self.shown.id if self.shown else None, self.replaying, self.busy(),
               len(runtime.runs.list_runs(self.workspace)))
        if key == self._rule:
            return
        self._rule = key
        reason, base = self.replay_blocker()
        if reason is None and base is not None:
            self.replay_button.enable()
            self.replay_tip.set_text(f"Re-run '{node}' and what follows it on the values "
                                     f"kept in run {base.id}")
        else:
            self.replay_button.disable()
            self.replay_tip.set_text(reason or "")
        self.replay_button.props(f'data-reason="{(reason or "").replace(chr(34), "")}"')

    async def replay(self) -> None:
        """Re-run the selected node and what is downstream, on the kept run's values."""
        reason, base = self.replay_blocker()
        node = self.selected_node()
        if reason is not None or base is None or node is None:
            ui.notify(reason or "select a node to re-run from", type="warning")
            return
        # the page asks about code it has not trusted; what it lets run, the replay may run
        if not await self.confirm_code() or self.replay_worker is None:
            return
        self.replaying = True
        self.update_replay()
        self.status.set_text(f"re-running from '{node}' on run {base.id}…")
        worker, disposable = self.replay_worker()
        try:
            answer = await worker.replay(base.folder, node, self.current_flow(),
                                         self.workspace, plugins=self.plugins())
        finally:
            if disposable:
                worker.close()
            self.replaying = False
        if "error" in answer:
            self.status.set_text("")
            ui.notify(f"cannot re-run from '{node}': {answer['error']}", type="negative",
                      multi_line=True)
            self.update_replay()
            return
        self.status.set_text(f"replayed as run {answer['run']}")
        self.on_replayed(answer["run"], base, answer["report"])
        self.update_replay()

    def compared(self, report: dict[str, Any]) -> None:
        """Show a comparison made elsewhere (a replay compares itself with its original)."""
        if "error" in report:
            ui.notify(f"cannot compare the runs: {report['error']}", type="negative",
                      multi_line=True)
            return
        first = report["first_changed"]
        self.status.set_text(f"{report['run_a']} → {report['run_b']}: " + (
            f"first changed: {', '.join(first)}" if first else "the runs carry the same data"))
        self.report = report
        self.on_compared(report)
