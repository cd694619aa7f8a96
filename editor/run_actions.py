"""Run actions of the editor page: run and stop, live labels, and kept runs."""

from __future__ import annotations

import asyncio
import json
import queue
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

import runtime
from editor.canvas import FlowCanvas, edge_label
from editor.compare_view import edge_entry, legend, side_by_side
from editor.document import FlowDocument
from editor.kept_values import reader
from editor.known_fields import KnownFields
from editor.node_errors import NodeErrors
from editor.panels import DebugPanel, Inspector
from editor.results_actions import ResultActions
from editor.runs_panel import RunsPanel
from editor.warm_up import flow_hints
from editor.worker import Message, RunWorker
from editor.workspace import Workspace
from runtime.record.diff import run_edges

UNENDED = ("starting", "running")


def stopped(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The node states of a stopped run: a node that had not ended shows ``stopped``."""
    return {n: {**s, "state": "stopped"} if s.get("state") in UNENDED else s
            for n, s in states.items()}


def settled(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The states to show once a run is over: none stays ``starting`` or ``running``.

    A node still ``starting`` never ran (the flow was refused, or the worker died before
    it began): it is ``idle`` again. One still ``running`` was cut short: ``stopped``.
    """
    return {n: {**s, "state": "idle" if s.get("state") == "starting" else "stopped"}
            for n, s in states.items() if s.get("state") in UNENDED}


class RunActions(ResultActions):
    """Mixed into EditorPage: running the flow, its live data, and kept runs."""

    workspace: Workspace
    name: str
    doc: FlowDocument
    canvas: FlowCanvas
    inspector: Inspector
    debug: DebugPanel
    runs: RunsPanel
    tabs: Any
    inspect_tab: Any
    run_button: Any
    stop_button: Any
    worker: RunWorker | None
    standby: RunWorker | None
    plugins: bool  # EditorPage: the workspace's plugins/ may be imported for this flow
    inbox: queue.SimpleQueue[Message]
    pending_labels: dict[str, dict[str, Any]]
    pending_states: dict[str, dict[str, Any]]
    shown_states: dict[str, dict[str, Any]]
    stopping: bool
    problems: list[runtime.Problem]
    inspected: str | None
    form: Any  # EditorPage: the open params form, if any
    node_errors: NodeErrors  # EditorPage: what the nodes of the live run failed with
    node_error_box: Any  # EditorPage.render_params: where the selected node's error shows
    selection: dict[str, list[str]]
    past: runtime.RunStore | None
    closed: bool
    confirm_code: Callable[..., Awaitable[bool]]  # TrustActions: ask before foreign code runs

    async def revalidate(self) -> None:
        """Validate the document (EditorPage has it)."""
        raise NotImplementedError

    async def on_edge_clicked(self, e: Any) -> None:
        """Open the inspector on an edge (both runs' values while two runs are compared)."""
        report = self.runs.report
        if report is not None and edge_entry(report, e.args["edge"]) is not None:
            await self.inspect_compared(e.args["edge"], report)
            return
        await self.inspect(e.args["edge"], reveal=True)

    async def inspect_compared(self, edge: str, report: dict[str, Any]) -> None:
        """Show an edge's values in run A beside run B, with what ``edgewise diff`` says."""
        self.inspected = edge
        self.tabs.set_value(self.inspect_tab)
        runs = {s.id: s for s in self.runs.runs()}
        found: list[list[dict[str, Any]]] = []
        for run_id in (report["run_a"], report["run_b"]):
            store = runs.get(run_id)
            try:  # the values are read in a helper process, never in the editor's
                origin = run_edges(store).get(edge) if store is not None else None
                found.append(await self.ask_kept("samples", str(store.folder), origin)
                             if store is not None and origin else [])
            except LookupError as exc:
                found.append([])
                ui.notify(exc.args[0], type="negative", multi_line=True)
        if self.inspected == edge and self.runs.report is report:
            side_by_side(self.inspector.container, edge, report, (found[0], found[1]),
                         self.inspector.render_sample)

    async def inspect(self, edge: str, *, reveal: bool = False) -> None:
        """Show the last values seen on an edge (live, or in the kept run shown).

        Args:
            edge: the edge, as ``source->target``.
            reveal: the user asked (clicked the edge): show the Inspector tab. A run only
                refreshes the values, and never takes the drawer from the form being edited.
        """
        self.inspected = edge
        if reveal:
            self.tabs.set_value(self.inspect_tab)
        if self.past is not None:
            store = self.past
            try:  # the values are read in a helper process, never in the editor's
                samples = await self.ask_kept("samples", str(store.folder),
                                              edge.split("->")[0])
            except LookupError as exc:
                samples = []
                ui.notify(exc.args[0], type="negative", multi_line=True)
            if self.inspected != edge or self.past is not store:
                return
            self.inspector.show(edge, samples or [], f"run {store.id}",
                                on_trace=lambda mid, row: self.trace(store, mid, row),
                                on_trained=lambda mid: self.trained_on(store, mid))
            return
        if self.worker is None:
            self.inspector.show(edge, [], "Run the flow to see the data on this edge.")
            return
        samples = await self.worker.inspect(edge)
        if self.inspected == edge:
            note = "live: click the edge again to refresh" if self.worker.running else ""
            self.inspector.show(edge, samples, note)

    async def start_run(self) -> None:
        """Run the flow as it is now, in a worker process."""
        if self.worker is not None and self.worker.running:
            return
        await self.revalidate()
        if self.problems:
            ui.notify(f"the flow has {len(self.problems)} problem(s); see Problems",
                      type="warning")
            return
        if not await self.confirm_code():
            return
        if self.worker is not None:
            self.worker.close()
        if self.past is not None:
            self.runs.show(None)
        if self.runs.report is not None:  # a comparison of kept runs gives way to the run
            self.runs.report = None
            self.canvas.mark_changes({})
            self.legend_box.clear()
        self.canvas.clear_run()
        self.pending_labels.clear()
        self.pending_states.clear()
        self.shown_states.clear()
        self.node_errors.clear()
        self.show_node_error()
        self.new_facts()
        self.debug.start_run()
        self.stopping = False
        self.worker = self.standby or RunWorker(self.inbox.put)
        self.standby = None
        self.run_button.props('data-worker="none"')
        self.worker.run(json.loads(json.dumps(self.doc.data)), self.workspace.root, self.name,
                        plugins=self.plugins)
        self.run_button.disable()
        self.stop_button.enable()
        self._phase("starting")

    def prepare_worker(self) -> None:
        """Start a worker ahead of time, so that pressing Run starts the flow at once.

        It imports pandas, scikit-learn, the component families and the estimators the
        flow names while it waits, and says ``ready`` (the Run button's ``data-worker``).
        """
        if self.standby is None and not self.closed:
            self.standby = RunWorker(self.inbox.put)
            self.standby.spawn(tuple(flow_hints(self.doc.data)))
            self.run_button.props('data-worker="warming"')

    def run_blocker(self) -> str | None:
        """Why nothing can be run now (a run is going on, the flow has problems), or None."""
        if self.worker is not None and self.worker.running:
            return "A run is going on: stop it or wait for its end."
        if self.problems:
            return f"The flow has {len(self.problems)} problem(s): see Problems."
        return None

    async def ask_kept(self, op: str, *args: Any) -> Any:
        """Ask about kept runs (``samples``, ``diff``) in another process, never this one.

        The warm standby worker answers if it is ready, else the kept-values reader.

        Raises:
            LookupError: the question could not be answered; the message says why.
        """
        worker = self.warm_worker()
        if worker is not None:
            return await worker.ask(op, *args)
        return await reader().ask(op, *args)

    def warm_worker(self) -> RunWorker | None:
        """A worker with everything imported and nothing to do, or None.

        The standby one once it is ready, else the one of the last run (it ran the flow,
        and waits for inspections).
        """
        for worker in (self.standby, self.worker):
            if worker is not None and worker.alive and not worker.running and (
                    worker.ready or worker is self.worker):
                return worker
        return None

    def replay_worker(self) -> tuple[RunWorker, bool]:
        """A warm worker for a re-run, and whether to end it after.

        The last run's worker if it waits (it stays, for inspections), else the standby
        one (a fresh standby takes its place).
        """
        warm = self.warm_worker()
        if warm is not None and warm is self.worker:
            return warm, False
        worker = self.standby or RunWorker(self.inbox.put)
        self.standby = None
        self.run_button.props('data-worker="none"')
        ui.timer(0.5, self.prepare_worker, once=True)
        return worker, True

    def build_run_phase(self) -> None:
        """The toolbar's "starting" indicator: from Run until the worker starts the flow."""
        with ui.row().classes("items-center gap-1 no-wrap q-mr-sm").props(
                'data-testid="run-starting"') as self.starting_badge:
            ui.spinner(size="20px", color="white", thickness=3)
            ui.label("starting…").classes("text-body2 text-white")
        self.starting_badge.tooltip("The run's worker is preparing the flow; the first "
                                    "labels follow")
        self.starting_badge.set_visibility(False)

    def build_compare_legend(self) -> None:
        """Where the legend of a comparison's edge colours goes (over the canvas)."""
        self.legend_box = ui.element("div")

    def _phase(self, phase: str) -> None:
        """The run's phase changed: ``starting`` (Run pressed), ``started``, or ``ready``."""
        if phase == "ready":
            if self.standby is not None and self.standby.ready:
                self.run_button.props('data-worker="ready"')
            return
        starting = phase == "starting"
        self.starting_badge.set_visibility(starting)
        self.run_button.props(f'data-phase="{phase}"')
        if starting:  # every node waits for the worker, visibly: shown now, not at the next
            # tick, which may already bring the worker's "started"
            waiting = {str(n.get("id")): {"state": "starting", "errors": 0}
                       for n in self.doc.nodes}
            self.shown_states.update(waiting)
            self.canvas.set_states(waiting)
        else:  # the flow runs: nodes are idle until the first snapshot says otherwise
            self.pending_states.update({n: {"state": "idle", "errors": 0}
                                        for n, s in {**self.shown_states,
                                                     **self.pending_states}.items()
                                        if s.get("state") == "starting"})

    def stop_run(self) -> None:
        """Stop the running flow."""
        if self.worker is not None:
            self.stopping = True
            self.worker.stop()

    def pump(self) -> None:
        """Every tick: merge what the worker sent and push it to the browser in one batch."""
        debug: list[dict[str, Any]] = []
        while True:
            try:
                message = self.inbox.get_nowait()
            except queue.Empty:
                break
            kind = message[0]
            if kind == "snapshot":
                self._merge(message[1])
            elif kind == "debug":
                debug.extend(message[1])
            elif kind == "failure":
                debug.append(self.node_errors.take(message[1], message[2], message[3]))
                if self.selection["nodes"] == [message[1]]:
                    self.show_node_error()
            elif kind == "debug_dropped":
                self.debug.add_dropped(message[1])
            elif kind in ("started", "ready"):
                self._phase(kind)
            elif kind == "ended":
                summary = message[1]
                self.pending_states.update(self.facts.take_states(
                    stopped(summary["states"]) if summary["status"] == "stopped" else
                    summary["states"]))
                failed = [n for n, s in summary["states"].items()
                          if s.get("state") == "failed" or s.get("errors")]
                ui.notify(f"run {summary['status']} in {summary['seconds']:.2f} s; kept as "
                          f"{summary.get('run')}"
                          + (f". {self.node_errors.toast(failed)}" if failed else ""),
                          type="positive" if summary["status"] == "ok" else "warning",
                          multi_line=bool(failed))
                self.runs.refresh()
                if debug:  # this run's last entries count before its results are shown
                    self.debug.add(debug)
                    debug = []
                self.show_results(summary.get("run"))
                self._run_finished()
            elif kind == "invalid":
                ui.notify("the flow is invalid: " + "; ".join(p["message"] for p in message[1]),
                          type="negative", multi_line=True)
                self._run_finished()
            elif kind == "crashed" and self.stopping:  # it did not stop in time: ended
                self.pending_states.update(self.facts.take_states(
                    stopped({**self.shown_states, **self.pending_states})))
                ui.notify("run stopped; its worker process was ended", type="warning")
                self._run_finished()
            elif kind == "crashed":
                ui.notify(f"the run crashed: {message[1]}", type="negative", multi_line=True)
                self._run_finished()
        if debug:
            self.debug.add(debug)
        self.debug.render()
        if self.pending_labels:
            self.canvas.set_labels(self.pending_labels)
            self.pending_labels = {}
        if self.pending_states:
            self.shown_states.update(self.pending_states)
            self.canvas.set_states(self.pending_states)
            self.pending_states = {}

    def show_node_error(self) -> None:
        """Show the last error of the selected node above its params, if it failed."""
        nodes = self.selection["nodes"]
        if self.node_error_box is not None:
            self.node_errors.render(self.node_error_box, nodes[0] if len(nodes) == 1 else "")

    def _merge(self, snap: dict[str, Any]) -> None:
        for edge, info in snap["edges"].items():
            self.pending_labels[edge] = edge_label(info["count"], info.get("rows"),
                                                   info.get("preview"))
        self.pending_states.update(self.facts.take(snap))  # states, with status texts

    def _run_finished(self) -> None:
        self.run_button.enable()
        self.stop_button.disable()
        self._phase("ended")
        self.pending_states.update(self.facts.take_states(
            settled({**self.shown_states, **self.pending_states})))
        self.prepare_worker()
        if isinstance(self.form, KnownFields):  # the run's columns, in the open form's pickers
            self.form.refresh_columns()
        edges = {f"{e.get('source')}->{e.get('target')}" for e in self.doc.edges}
        if self.inspected and self.inspected not in edges:  # deleted since it was clicked
            self.inspected = None
        if self.inspected:
            asyncio.ensure_future(self.inspect(self.inspected))

    # -- kept runs ---------------------------------------------------------------------

    def show_past(self, store: runtime.RunStore | None) -> None:
        """Show a kept run's counts and states on the canvas, or go back to live."""
        self.past = store
        self.canvas.clear_run()
        self.canvas.highlight([])
        self.canvas.mark_changes({})
        self.legend_box.clear()
        self.node_errors.clear()
        self.show_node_error()
        self.debug.cards.clear()
        if store is None:
            return
        try:
            summary = store.port_summary()
            manifest = store.manifest()
        except LookupError as exc:  # a damaged run: say what is wrong, show nothing
            ui.notify(str(exc), type="negative", multi_line=True)
            return
        labels, carried = {}, {}
        for edge in self.doc.edges:
            edge_id = f"{edge.get('source')}->{edge.get('target')}"
            info = summary.get(str(edge.get("source")))
            if info is None:
                continue
            last = store.message(info["last"]) if info["last"] is not None else None
            labels[edge_id] = edge_label(info["count"], info["rows"],
                                         last.preview if last else None)
            carried[edge_id] = {**info, "preview": last.preview if last else None}
        self.canvas.set_labels(labels)
        states = {n: {"state": s["state"], "errors": s["errors"]}
                  for n, s in manifest.get("nodes", {}).items()}
        self.canvas.set_states(self.new_facts().take(
            {"edges": carried, "nodes": stopped(states) if manifest.get("status") == "stopped"
             else states}))
        self.show_results(store.id, reveal=False)  # its metrics, against the run before it
        for node, state in states.items():  # a kept error record's preview holds the record
            info = summary.get(f"{node}.error")
            last = store.message(info["last"]) if info and info["last"] is not None else None
            record = (last.preview or {}).get("value") if last else None
            if state.get("errors") and isinstance(record, dict):
                self.node_errors.take(node, record, int(state["errors"]))
        self.show_node_error()

    async def trace(self, store: runtime.RunStore, message_id: int,
                    row: str | None = None) -> None:
        """Trace a message (or one of its rows) of a kept run and light up the path.

        A row's trace also names the model that scored it and the source line it came from.
        The values are read in a helper process, never in the editor's.
        """
        try:
            answer = await reader().ask("trace", str(store.folder), message_id, row)
        except LookupError as exc:
            self.inspector.show_trace([exc.args[0] if exc.args else str(exc)])
            return
        if not answer["lines"]:
            return
        self.canvas.highlight(answer["items"])
        self.inspector.show_trace(answer["lines"])

    async def trained_on(self, store: runtime.RunStore, model_id: int) -> None:
        """Which records trained a model of a kept run: list them, light up their path."""
        try:
            answer = await reader().ask("trained_on", str(store.folder), model_id, False)
        except LookupError as exc:
            self.inspector.show_trace([exc.args[0] if exc.args else str(exc)])
            return
        import pandas as pd

        facts, head = answer["facts"], answer["head"]
        rows = pd.DataFrame(head["data"], index=head["index"], columns=head["columns"])
        self.canvas.highlight(answer["items"])
        sources = answer["sources"]
        summary = (f"{facts['estimator']} (message #{model_id} from {facts['node']}) was "
                   f"fitted on {answer['rows']} row(s) from {len(facts['training_data'])} "
                   f"message(s)" + (f"; sources: {', '.join(sources)}" if sources else ""))

        async def export() -> None:
            try:
                found = await reader().ask("trained_on", str(store.folder), model_id, True)
            except LookupError as exc:
                ui.notify(exc.args[0], type="negative", multi_line=True)
                return
            ui.download.content(found["csv"], f"{store.id}-trained-on-{model_id}.csv",
                                "text/csv")

        self.inspector.show_training(summary, rows, export)

    def show_changes(self, report: dict[str, Any]) -> None:
        """Colour the edges by how they changed between two runs."""
        first, changed = set(report["first_changed"]), set(report["changed"])
        compared = {e["edge"] for e in report["edges"] if e["in_a"] and e["in_b"]}
        marks = {}
        for edge in self.doc.edges:
            edge_id = f"{edge.get('source')}->{edge.get('target')}"
            if edge_id in compared:
                marks[edge_id] = ("first" if edge_id in first else
                                  "changed" if edge_id in changed else "same")
        self.canvas.mark_changes(marks)
        self.legend_box.clear()
        with self.legend_box:
            legend(report["run_a"], report["run_b"])

    def replayed(self, run_id: str, original: runtime.RunStore,
                 report: dict[str, Any]) -> None:
        """A replay finished: show it, compared with the run it replays."""
        self.runs.refresh()
        new = next((s for s in self.runs.runs() if s.id == run_id), None)
        if new is None:
            return
        self.runs.show(new)
        self.runs.compared(report)
