"""Results of a run where the user looks: node statuses, metric cards and the Debug tab."""

from __future__ import annotations

from typing import Any

import runtime
from editor.document import FlowDocument
from editor.layout import Layout
from editor.metric_cards import kept_records, metric_ports
from editor.node_status import RunFacts
from editor.panels import DebugPanel
from editor.runs_panel import RunsPanel

RUNS_TAB, DEBUG_TAB = "Runs", "Debug"


def tab_name(value: Any) -> str:
    """The name of a ``ui.tabs`` value: a tab's name, or the tab itself."""
    props = getattr(value, "_props", None)
    return str(props.get("name")) if isinstance(props, dict) else str(value)


class ResultActions:
    """Mixed into EditorPage: words node statuses, and shows a finished run's results."""

    doc: FlowDocument
    registry: runtime.Registry
    debug: DebugPanel
    runs: RunsPanel
    layout: Layout
    bottom_tabs: Any
    facts: RunFacts

    def new_facts(self) -> RunFacts:
        """Forget the last run's facts: a run starts, or a kept run is shown."""
        order = {}
        for node in self.doc.nodes:
            spec = self.registry.get(str(node.get("component")))
            if spec is not None:
                order[str(node.get("id"))] = list(spec.outputs)
        self.facts = RunFacts({str(n.get("id")): str(n.get("component"))
                               for n in self.doc.nodes}, order)
        return self.facts

    def debug_in_view(self) -> bool:
        """Whether the Debug panel is in view: its tab chosen and the footer open."""
        return self.layout.footer_open and tab_name(self.bottom_tabs.value) == DEBUG_TAB

    def show_results(self, run_id: str | None, reveal: bool = True) -> None:
        """A run ended (or a kept run is shown): its metrics as cards, and the Debug tab.

        The cards compare with the kept run of this flow just before ``run_id``. With
        ``reveal``, the Debug tab is shown (and the footer opened) if the run has anything to
        show, unless the user is reading the Runs tab; its badge then counts what came.
        """
        ports = metric_ports(self.doc.nodes, self.registry)
        records = self.facts.records(ports)
        previous = None
        if records:
            kept = self.runs.runs()  # newest first
            ids = [s.id for s in kept]
            at = ids.index(run_id) + 1 if run_id in ids else 0
            before = next((s for s in kept[at:] if s.id != run_id), None)
            previous = kept_records(before, ports) if before is not None else None
        titles = {str(n.get("id")): str(n.get("label") or n.get("id")) for n in self.doc.nodes}
        self.debug.cards.show(records, previous, titles)
        if not reveal or not (records or self.debug.received):
            return
        if self.layout.footer_open and tab_name(self.bottom_tabs.value) == RUNS_TAB:
            return
        self.bottom_tabs.set_value(DEBUG_TAB)
        self.layout.open_footer()
