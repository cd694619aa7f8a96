"""A supervisor's decisions on a timeline in the inspector; a click lights up their evidence.

When one supervisor node (a component tagged ``runtime.DECISIONS_TAG``, such as
``model.supervisor``) is selected, the Inspector lists the decisions it made in the run shown
(the kept run on the canvas, or else the last run of this page), oldest first: the window,
the action in its own colour, from and to, the metric values and the reason. Clicking one
highlights on the canvas the edges its evidence travelled, traced back to their sources as
``edgewise trace`` does. The values are read in the kept-values helper process.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nicegui import ui

import runtime
import runtime.runs
from editor.canvas import FlowCanvas
from editor.document import FlowDocument
from editor.kept_runs import KeptRuns
from editor.kept_values import reader
from editor.panels import Inspector
from editor.runs_panel import RunsPanel
from editor.scorer_models import SERVE
from editor.selection import Selection
from editor.worker import Message

COLOURS = {"promote": "positive", "rollback": "warning", "quarantine": "negative"}
ICONS = {"promote": "trending_up", "rollback": "undo", "quarantine": "block"}


def _number(value: Any) -> str:
    """A metric value for a person: four significant digits, ``-`` for none."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _attr(value: Any) -> str:
    """A value fit for a data attribute in ``props`` (no quotes)."""
    return str("" if value is None else value).replace('"', "'")


def decision_lines(made: dict[str, Any]) -> list[str]:
    """What a decision says under its title: from and to, the metric values, the reason.

    Args:
        made: one decision, as ``runtime.runs.run_decisions`` lists it.
    """
    if "action" not in made:
        return [str(made.get("note", ""))]
    target = made.get("to") or "nothing (quarantined)"
    lines = [f"{made.get('from')} → {target}",
             f"{made.get('metric')}: champion {_number(made.get('champion_value'))}, "
             f"challenger {_number(made.get('challenger_value'))}, "
             f"{made.get('rows')} rows",
             str(made.get("reason", ""))]
    evidence = made.get("evidence") or []
    if evidence:
        lines.append(f"evidence: {len(evidence)} message(s), "
                     + ", ".join(f"#{e['message']}" for e in evidence[:6])
                     + (" …" if len(evidence) > 6 else ""))
    return lines


class SupervisionView:
    """Shows the selected supervisor's decisions in the inspector, and lights up evidence."""

    def __init__(self, doc: FlowDocument, canvas: FlowCanvas, *, inspector: Inspector,
                 selection: Selection, kept: KeptRuns, runs: RunsPanel) -> None:
        """Watch one page's selection and runs.

        Args:
            doc: the page's document.
            canvas: the page's canvas (its highlight).
            inspector: the Inspector tab (the timeline is drawn in its container).
            selection: the page's selection.
            kept: the kept run shown, if any.
            runs: the Runs panel (the kept runs of this flow).
        """
        self.doc = doc
        self.canvas = canvas
        self.inspector = inspector
        self.selection = selection
        self.kept = kept
        self.runs = runs
        self.live_run: str | None = None  # the run this page ran last
        self.shown: tuple[str, str] | None = None  # (node, run id) on the timeline
        self.entries: list[ui.element] = []

    def connect(self, listeners: list[Any]) -> None:
        """Follow the selection, and the runs' messages (``RunController.listeners``)."""
        self.selection.when_nodes_change(self.refresh)
        listeners.append(self.on_message)

    def on_message(self, message: Message) -> None:
        """A run of this page started or ended: the timeline follows it (once it is kept)."""
        if message[0] in ("started", "ended"):  # a new run has no decisions until it ends
            self.live_run = message[1].get("run") if message[0] == "ended" else None
            if message[0] == "started" and self.entries:  # the last run's evidence is gone
                self.entries = []
                self.canvas.highlight([])
            ui.timer(0.05, self.refresh, once=True)  # after the Runs panel knows it

    def supervisor(self, node: str) -> bool:
        """Whether a node's component records decisions (``runtime.DECISIONS_TAG``)."""
        found = next((n for n in self.doc.nodes if n.get("id") == node), None)
        spec = self.doc.registry.get(str(found.get("component"))) if found else None
        return spec is not None and runtime.DECISIONS_TAG in spec.tags

    def store(self) -> runtime.runs.RunStore | None:
        """The run whose decisions are shown: the kept run on the canvas, or the last one."""
        if self.kept.past is not None:
            return self.kept.past
        if self.live_run is None:
            return None
        return next((s for s in self.runs.runs() if s.id == self.live_run), None)

    def show_kept(self) -> None:
        """A kept run is shown (or live again): its scorers' models, a supervisor's decisions."""
        store = self.kept.past
        scorers = [str(n.get("id")) for n in self.doc.nodes if n.get("component") == SERVE]
        if store is not None and scorers:
            asyncio.ensure_future(self.show_scorers(store, scorers))
        self.refresh()

    async def show_scorers(self, store: runtime.runs.RunStore, scorers: list[str]) -> None:
        """Show which models a kept run's scorers answered with (read from their last rows)."""
        try:
            found = await reader().ask("scorer_previews", str(store.folder), scorers)
        except LookupError:
            return  # the run's counts are shown; its rows cannot be read
        if self.kept.past is not store:
            return
        facts = self.kept.results.facts
        for node, previews in found.items():
            for port, preview in previews.items():
                info = facts.outgoing.get(node, {}).get(port)
                if info is not None:
                    info["preview"] = preview
        self.canvas.set_states({node: facts.state(node) for node in found})

    def refresh(self) -> None:
        """Show the selected supervisor's decisions (nothing happens for another node)."""
        node = self.selection.single()
        if node is None or not self.supervisor(node):
            self.shown = None
            return
        store = self.store()
        if store is None:
            self.shown = None
            self.inspector.container.clear()
            with self.inspector.container:
                ui.label(f"{node}: run the flow (or show a kept run) to see its decisions."
                         ).classes("text-grey-7").props('data-testid="decisions-waiting"')
            return
        asyncio.ensure_future(self.show(node, store))

    async def show(self, node: str, store: runtime.runs.RunStore) -> None:
        """Read a supervisor's decisions in a kept run and draw them as a timeline."""
        self.shown = (node, store.id)
        try:
            found = await reader().ask("decisions", str(store.folder), node)
        except LookupError as exc:
            found, problem = [], runtime.exception_text(exc)
        else:
            problem = ""
        if self.shown != (node, store.id):  # another node or run was chosen meanwhile
            return
        self.draw(node, store.id, found, problem)

    def draw(self, node: str, run_id: str, decisions: list[dict[str, Any]],
             problem: str = "") -> None:
        """Draw the timeline of one supervisor's decisions, oldest first."""
        box = self.inspector.container
        box.clear()
        self.entries = []
        with box:
            ui.label(f"decisions of {node}").classes("text-subtitle2").props(
                'data-testid="decisions-title"')
            ui.label(f"run {run_id}; click a decision to light up its evidence").classes(
                "text-caption text-grey-7")
            if problem:
                ui.label(problem).classes("text-negative").props(
                    'data-testid="decisions-problem"')
                return
            if not decisions:
                ui.label("no decisions").classes("text-grey-7").props(
                    'data-testid="decisions-none"')
                return
            with ui.timeline(side="right").props('data-testid="decision-timeline"'):
                for made in decisions:
                    self._entry(made)

    def _entry(self, made: dict[str, Any]) -> None:
        action = str(made.get("action", "unread"))
        title = f"{action} · window {made.get('window', '?')}"
        entry = ui.timeline_entry(title=title, subtitle=str(made.get("time", ""))[11:19],
                                  color=COLOURS.get(action, "grey"),
                                  icon=ICONS.get(action, "help_outline"))
        entry.props(f'data-testid="decision" data-action="{_attr(action)}" '
                    f'data-from="{_attr(made.get("from"))}" data-to="{_attr(made.get("to"))}" '
                    f'data-window="{_attr(made.get("window"))}" data-lit="false"')
        entry.classes("cursor-pointer ew-decision")
        with entry:
            for line in decision_lines(made):
                ui.label(line).classes("text-caption").props('data-testid="decision-line"')
        items = [str(i) for i in made.get("items", [])]
        entry.on("click", lambda _e, e=entry, i=items: self.light(e, i))
        self.entries.append(entry)

    def light(self, entry: ui.element, items: list[str]) -> None:
        """Highlight a decision's evidence path on the canvas, and mark the decision."""
        for other in self.entries:
            other.props('data-lit="false"')
        entry.props('data-lit="true"')
        self.canvas.highlight(items)
