"""What the page shows of an edge or a kept run: the inspector, traces, comparisons."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from nicegui import ui

import runtime
import runtime.runs
from editor.canvas import FlowCanvas, edge_label
from editor.compare_view import edge_entry, legend, side_by_side
from editor.document import FlowDocument
from editor.kept_values import reader
from editor.node_errors import NodeErrors
from editor.panels import DebugPanel, Inspector
from editor.params_panel import ParamsPanel
from editor.results_actions import Results
from editor.run_workers import Workers
from editor.runs_panel import RunsPanel
from runtime.runs import run_edges

UNENDED = ("starting", "running")


def stopped(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The node states of a stopped run: a node that had not ended shows ``stopped``."""
    return {n: {**s, "state": "stopped"} if s.get("state") in UNENDED else s
            for n, s in states.items()}


class KeptRuns:
    """Shows an edge's values (live or kept), a kept run on the canvas, traces and diffs."""

    def __init__(self, doc: FlowDocument, canvas: FlowCanvas, *, inspector: Inspector,
                 debug: DebugPanel, runs: RunsPanel, results: Results, workers: Workers,
                 node_errors: NodeErrors, params: ParamsPanel, legend_box: ui.element,
                 show_inspector: Callable[[], object]) -> None:
        """Show one page's runs.

        Args:
            doc: the page's document.
            canvas: the page's canvas.
            inspector: the Inspector tab.
            debug: the Debug panel (its metric cards).
            runs: the Runs panel.
            results: the run's results (node statuses and metric cards).
            workers: the page's workers (the live run's values, and kept values).
            node_errors: what the nodes of the run shown failed with.
            params: the Params tab (it shows the selected node's error).
            legend_box: where the legend of a comparison goes.
            show_inspector: brings the Inspector tab to the front.
        """
        self.doc = doc
        self.canvas = canvas
        self.inspector = inspector
        self.debug = debug
        self.runs = runs
        self.results = results
        self.workers = workers
        self.node_errors = node_errors
        self.params = params
        self.legend_box = legend_box
        self.show_inspector = show_inspector
        self.past: runtime.runs.RunStore | None = None  # the kept run shown, None while live
        self.inspected: str | None = None  # the edge in the inspector

    def connect(self) -> None:
        """Listen to clicks on the canvas's edges."""
        self.canvas.on("edge_clicked", self.on_edge_clicked)

    # -- the inspector ---------------------------------------------------------------------

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
        self.show_inspector()
        runs = {s.id: s for s in self.runs.runs()}
        found: list[list[dict[str, Any]]] = []
        for run_id in (report["run_a"], report["run_b"]):
            store = runs.get(run_id)
            try:  # the values are read in a helper process, never in the editor's
                origin = run_edges(store).get(edge) if store is not None else None
                found.append(await self.workers.ask_kept("samples", str(store.folder), origin)
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
            self.show_inspector()
        if self.past is not None:
            store = self.past
            try:  # the values are read in a helper process, never in the editor's
                samples = await self.workers.ask_kept("samples", str(store.folder),
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
        worker = self.workers.worker
        if worker is None:
            self.inspector.show(edge, [], "Run the flow to see the data on this edge.")
            return
        samples = await worker.inspect(edge)
        if self.inspected == edge:
            note = "live: click the edge again to refresh" if worker.running else ""
            self.inspector.show(edge, samples, note)

    def after_run(self) -> None:
        """A run ended: the edge in the inspector shows its values (if it still exists)."""
        edges = {f"{e.get('source')}->{e.get('target')}" for e in self.doc.edges}
        if self.inspected and self.inspected not in edges:  # deleted since it was clicked
            self.inspected = None
        if self.inspected:
            asyncio.ensure_future(self.inspect(self.inspected))

    # -- kept runs -------------------------------------------------------------------------

    def back_to_live(self) -> None:
        """A run starts: the kept run or comparison shown gives way to it."""
        if self.past is not None:
            self.runs.show(None)
        if self.runs.report is not None:
            self.runs.report = None
            self.canvas.mark_changes({})
            self.legend_box.clear()

    def show_past(self, store: runtime.runs.RunStore | None) -> None:
        """Show a kept run's counts and states on the canvas, or go back to live."""
        self.past = store
        self.canvas.clear_run()
        self.canvas.highlight([])
        self.canvas.mark_changes({})
        self.legend_box.clear()
        self.node_errors.clear()
        self.params.show_node_error()
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
        self.canvas.set_states(self.results.new_facts().take(
            {"edges": carried, "nodes": stopped(states) if manifest.get("status") == "stopped"
             else states}))
        self.results.show_results(store.id, reveal=False)  # its metrics, against the one before
        for node, state in states.items():  # a kept error record's preview holds the record
            info = summary.get(f"{node}.error")
            last = store.message(info["last"]) if info and info["last"] is not None else None
            record = (last.preview or {}).get("value") if last else None
            if state.get("errors") and isinstance(record, dict):
                self.node_errors.take(node, record, int(state["errors"]))
        self.params.show_node_error()

    async def trace(self, store: runtime.runs.RunStore, message_id: int,
                    row: str | None = None) -> None:
        """Trace a message (or one of its rows) of a kept run and light up the path.

        A row's trace also names the model that scored it and the source line it came from.
        The values are read in a helper process, never in the editor's.
        """
        try:
            answer = await reader().ask("trace", str(store.folder), message_id, row)
        except LookupError as exc:
            self.inspector.show_trace([runtime.exception_text(exc)])
            return
        if not answer["lines"]:
            return
        self.canvas.highlight(answer["items"])
        self.inspector.show_trace(answer["lines"])

    async def trained_on(self, store: runtime.runs.RunStore, model_id: int) -> None:
        """Which records trained a model of a kept run: list them, light up their path."""
        try:
            answer = await reader().ask("trained_on", str(store.folder), model_id, False)
        except LookupError as exc:
            self.inspector.show_trace([runtime.exception_text(exc)])
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

    def replayed(self, run_id: str, original: runtime.runs.RunStore,
                 report: dict[str, Any]) -> None:
        """A replay finished: show it, compared with the run it replays."""
        self.runs.refresh()
        new = next((s for s in self.runs.runs() if s.id == run_id), None)
        if new is None:
            return
        self.runs.show(new)
        self.runs.compared(report)
