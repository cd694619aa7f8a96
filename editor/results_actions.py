"""Results of a run where the user looks: node statuses, metric cards and the Debug tab."""

from __future__ import annotations

from typing import Any

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


def in_view(layout: Layout, bottom_tabs: Any, name: str) -> bool:
    """Whether a footer tab is in view: it is chosen and the footer is open."""
    return layout.footer_open and tab_name(bottom_tabs.value) == name


class Results:
    """Words node statuses, and shows a finished run's results in the Debug tab."""

    def __init__(self, doc: FlowDocument, debug: DebugPanel, runs: RunsPanel, layout: Layout,
                 bottom_tabs: Any) -> None:
        """Show one page's results.

        Args:
            doc: the page's document.
            debug: the Debug panel (its metric cards).
            runs: the Runs panel (the kept run a result is compared with).
            layout: the page's frame (the footer is opened to show results).
            bottom_tabs: the footer's tabs.
        """
        self.doc = doc
        self.debug = debug
        self.runs = runs
        self.layout = layout
        self.bottom_tabs = bottom_tabs
        self.facts = RunFacts({})

    def new_facts(self) -> RunFacts:
        """Forget the last run's facts: a run starts, or a kept run is shown."""
        order = {}
        for node in self.doc.nodes:
            spec = self.doc.registry.get(str(node.get("component")))
            if spec is not None:
                order[str(node.get("id"))] = list(spec.outputs)
        self.facts = RunFacts({str(n.get("id")): str(n.get("component"))
                               for n in self.doc.nodes}, order,
                              {str(n.get("id")): n.get("params") for n in self.doc.nodes})
        return self.facts

    def show_results(self, run_id: str | None, reveal: bool = True) -> None:
        """A run ended (or a kept run is shown): its metrics as cards, and the Debug tab.

        The cards compare with the kept run of this flow just before ``run_id``. With
        ``reveal``, the Debug tab is shown (and the footer opened) if the run has anything to
        show, unless the user is reading the Runs tab; its badge then counts what came.
        """
        ports = metric_ports(self.doc.nodes, self.doc.registry)
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
        if in_view(self.layout, self.bottom_tabs, RUNS_TAB):
            return
        self.bottom_tabs.set_value(DEBUG_TAB)
        self.layout.open_footer()
