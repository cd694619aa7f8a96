"""Running the flow from the page: Run and Stop, the run's phase, and its live labels."""

from __future__ import annotations

import queue
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui

from editor.canvas import FlowCanvas, edge_label
from editor.engine_choice import EngineChoice
from editor.flow_file import OpenFlow
from editor.kept_runs import UNENDED, KeptRuns, stopped
from editor.node_errors import NodeErrors
from editor.panels import DebugPanel
from editor.params_panel import ParamsPanel
from editor.problems_panel import ProblemsPanel
from editor.results_actions import Results
from editor.run_workers import Workers
from editor.runs_panel import RunsPanel
from editor.selection import Selection
from editor.worker import Message, RunWorker

__all__ = ["RunBar", "RunController", "run_blocker", "settled", "stopped"]


def settled(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The states to show once a run is over: none stays ``starting`` or ``running``.

    A node still ``starting`` never ran (the flow was refused, or the worker died before
    it began): it is ``idle`` again. One still ``running`` was cut short: ``stopped``.
    """
    return {n: {**s, "state": "idle" if s.get("state") == "starting" else "stopped"}
            for n, s in states.items() if s.get("state") in UNENDED}


def run_blocker(workers: Workers, problems: ProblemsPanel) -> str | None:
    """Why nothing can be run now (a run is going on, the flow has problems), or None."""
    if workers.running:
        return "A run is going on: stop it or wait for its end."
    if problems.problems:
        return f"The flow has {len(problems.problems)} problem(s): see Problems."
    return None


class RunBar:
    """The header's run controls: the "starting" indicator, Run, its engine, and Stop."""

    def __init__(self, flow_name: str = "") -> None:
        """Build the controls where the header wants them (their actions come later).

        Args:
            flow_name: the flow file's name (the engine chosen is remembered for it).
        """
        with ui.row().classes("items-center gap-1 no-wrap q-mr-sm").props(
                'data-testid="run-starting"') as self.starting_badge:
            ui.spinner(size="20px", color="white", thickness=3)
            ui.label("starting…").classes("text-body2 text-white")
        self.starting_badge.tooltip("The run's worker is preparing the flow; the first "
                                    "labels follow")
        self.starting_badge.set_visibility(False)
        self.run_button = ui.button("Run", icon="play_arrow").props(
            'color=positive data-testid="run"')
        self.engine = EngineChoice(flow_name)
        self.stop_button = ui.button("Stop", icon="stop").props(
            'color=negative data-testid="stop"')
        self.stop_button.disable()

    def worker_state(self, state: str) -> None:
        """Say how ready the next run's worker is (``none``, ``warming``, ``ready``)."""
        self.run_button.props(f'data-worker="{state}"')

    def running(self, running: bool) -> None:
        """Run is pressable when no run goes on; Stop only while one does."""
        self.run_button.set_enabled(not running)
        self.stop_button.set_enabled(running)


class RunController:
    """Runs the flow in a worker process and shows what it sends, batched per tick."""

    def __init__(self, flow: OpenFlow, bar: RunBar, workers: Workers, canvas: FlowCanvas, *,
                 debug: DebugPanel, runs: RunsPanel, results: Results, kept: KeptRuns,
                 params: ParamsPanel, problems: ProblemsPanel, node_errors: NodeErrors,
                 selection: Selection, confirm_code: Callable[[], Awaitable[bool]]) -> None:
        """Run one page's flow.

        Args:
            flow: the page's flow.
            bar: the header's run controls (their clicks come here).
            workers: the page's workers.
            canvas: the page's canvas.
            debug: the Debug panel.
            runs: the Runs panel.
            results: the run's results (node statuses and metric cards).
            kept: the inspector and the kept run shown.
            params: the Params tab.
            problems: the flow's validation.
            node_errors: what the nodes of the live run failed with.
            selection: the page's selection.
            confirm_code: asks before the flow's foreign code runs; True when it may.
        """
        self.flow = flow
        self.bar = bar
        self.workers = workers
        self.canvas = canvas
        self.debug = debug
        self.runs = runs
        self.results = results
        self.kept = kept
        self.params = params
        self.problems = problems
        self.node_errors = node_errors
        self.selection = selection
        self.confirm_code = confirm_code
        self.pending_labels: dict[str, dict[str, Any]] = {}
        self.pending_states: dict[str, dict[str, Any]] = {}
        self.shown_states: dict[str, dict[str, Any]] = {}
        self.stopping = False
        self.ended = 0  # runs ended on this page: a new number marks this run's results
        self.listeners: list[Callable[[Message], None]] = []  # also told every message
        bar.run_button.on_click(self.start_run)
        bar.stop_button.on_click(self.stop_run)

    async def start_run(self) -> None:
        """Run the flow as it is now, in a worker process."""
        await self.launch(lambda worker: worker.run(
            self.flow.data(), self.flow.workspace.root, self.flow.name,
            plugins=self.flow.plugins, engine=self.bar.engine.engine))

    async def launch(self, start: Callable[[RunWorker], None]) -> bool:
        """Start the flow as it is now in a worker (``start`` tells it how); False if not."""
        if self.workers.running:
            return False
        problems = await self.problems.revalidate()  # of the flow as it is now
        if problems:
            ui.notify(f"the flow has {len(problems)} problem(s); see Problems", type="warning")
            return False
        if not await self.confirm_code():
            return False
        self.kept.back_to_live()
        self.canvas.clear_run()
        self.pending_labels.clear()
        self.pending_states.clear()
        self.shown_states.clear()
        self.node_errors.clear()
        self.params.show_node_error()
        self.results.new_facts()
        self.debug.start_run()
        self.stopping = False
        start(self.workers.for_run())
        self.bar.running(True)
        self._phase("starting")
        return True

    def stop_run(self) -> None:
        """Stop the running flow."""
        if self.workers.worker is not None:
            self.stopping = True
            self.workers.worker.stop()

    def _phase(self, phase: str) -> None:
        """The run's phase changed: ``starting`` (Run pressed), ``started``, or ``ready``."""
        if phase == "ready":
            self.workers.ready()
            return
        starting = phase == "starting"
        self.bar.starting_badge.set_visibility(starting)
        self.bar.run_button.props(f'data-phase="{phase}"')
        if starting:  # every node waits for the worker, visibly: shown now, not at the next
            # tick, which may already bring the worker's "started"
            waiting = {str(n.get("id")): {"state": "starting", "errors": 0}
                       for n in self.flow.doc.nodes}
            self.shown_states.update(waiting)
            self.canvas.set_states(waiting)
        else:  # the flow runs: nodes are idle until the first snapshot says otherwise
            self.pending_states.update({n: {"state": "idle", "errors": 0}
                                        for n, s in {**self.shown_states,
                                                     **self.pending_states}.items()
                                        if s.get("state") == "starting"})

    def pump(self) -> None:
        """Every tick: merge what the worker sent and push it to the browser in one batch."""
        debug: list[dict[str, Any]] = []
        while True:
            try:
                message = self.workers.inbox.get_nowait()
            except queue.Empty:
                break
            kind = message[0]
            for listen in self.listeners:
                listen(message)
            if kind == "snapshot":
                self._merge(message[1])
            elif kind == "debug":
                debug.extend(message[1])
            elif kind == "failure":
                debug.append(self.node_errors.take(message[1], message[2], message[3]))
                if self.selection.nodes == [message[1]]:
                    self.params.show_node_error()
            elif kind == "debug_dropped":
                self.debug.add_dropped(message[1])
            elif kind in ("started", "ready"):
                self._phase(kind)
            elif kind == "ended":
                summary = message[1]
                self.pending_states.update(self.results.facts.take_states(
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
                self.results.show_results(summary.get("run"))
                self._run_finished()
            elif kind == "invalid":
                ui.notify("the flow is invalid: " + "; ".join(p["message"] for p in message[1]),
                          type="negative", multi_line=True)
                self._run_finished()
            elif kind == "refused":  # a deployed flow could not serve, or no engine to run on
                ui.notify(message[1], type="negative", multi_line=True)
                self._run_finished()
            elif kind == "crashed" and self.stopping:  # it did not stop in time: ended
                self.pending_states.update(self.results.facts.take_states(
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

    def _merge(self, snap: dict[str, Any]) -> None:
        for edge, info in snap["edges"].items():
            self.pending_labels[edge] = edge_label(info["count"], info.get("rows"),
                                                   info.get("preview"))
        self.pending_states.update(self.results.facts.take(snap))  # states, with status texts

    def _run_finished(self) -> None:
        self.bar.running(False)
        self.ended += 1
        self.bar.run_button.props(f'data-ended="{self.ended}"')
        self._phase("ended")
        self.pending_states.update(self.results.facts.take_states(
            settled({**self.shown_states, **self.pending_states})))
        self.workers.prepare()
        self.params.refresh_columns()  # the run's columns, in the open form's pickers
        self.kept.after_run()
