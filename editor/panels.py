"""The debug panel and the edge inspector."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from nicegui import ui

from editor.chart_views import distribution_options, importance_bars, show_chart
from editor.metric_cards import ResultCards
from editor.node_errors import readable

DEBUG_HISTORY = 100
DEBUG_CHARTS = 5  # the newest charts are drawn; older ones keep their one-line summary


class DebugPanel:
    """What debug nodes received and what nodes failed with, newest first, bounded.

    An entry of kind ``error`` is a node's error (wired or not), shown in red. The last run's
    metrics lead the panel as cards; the Debug tab's badge counts the entries that came while
    the panel was not in view.
    """

    def __init__(self, on_reveal: Callable[[str], None]) -> None:
        self.on_reveal = on_reveal
        self.entries: deque[dict[str, Any]] = deque(maxlen=DEBUG_HISTORY)
        self.paused = False
        self.dropped = 0
        self.unseen = 0
        self.received = 0  # entries taken since the last ``start_run``
        self.in_view: Callable[[], bool] = lambda: True
        self.badge: ui.badge | None = None
        self._dirty = False
        with ui.column().classes("w-full gap-1").props('data-testid="debug-panel"'):
            self.cards = ResultCards()
            with ui.row().classes("items-center gap-2"):
                self.pause_button = ui.button("Pause", icon="pause", on_click=self.toggle).props(
                    'flat dense data-testid="debug-pause"')
                ui.button("Clear", icon="delete_sweep", on_click=self.clear).props(
                    'flat dense data-testid="debug-clear"')
                self.note = ui.label().classes("text-caption text-grey-7")
            self.list = ui.column().classes("w-full gap-0")

    def add(self, entries: list[dict[str, Any]]) -> None:
        """Take new entries (unless paused)."""
        if self.paused:
            return
        self.entries.extendleft(entries)
        self.received += len(entries)
        if not self.in_view():
            self.unseen += len(entries)
        self._dirty = True

    def attach(self, tab: ui.tab, in_view: Callable[[], bool]) -> None:
        """Put the count of unseen entries on the Debug tab.

        Args:
            tab: the Debug tab.
            in_view: whether the panel is in view now (its tab chosen, the footer open).
        """
        self.in_view = in_view
        with tab:
            self.badge = ui.badge(color="negative").props(
                'floating data-testid="debug-badge"')
        self.badge.set_visibility(False)

    def start_run(self) -> None:
        """A run starts: count its entries afresh."""
        self.received = 0
        self.cards.clear()

    def _show_unseen(self) -> None:
        """Clear the badge while the panel is in view, else show how many entries it missed."""
        if self.badge is None:
            return
        if self.unseen and self.in_view():
            self.unseen = 0
        text = str(self.unseen) if self.unseen < 1000 else "999+"
        if self.badge.visible != bool(self.unseen) or self.badge.text != text:
            self.badge.set_text(text)
            self.badge.set_visibility(bool(self.unseen))

    def add_dropped(self, count: int) -> None:
        """Count entries the worker did not send, to keep the browser responsive."""
        self.dropped += count
        self._dirty = True

    def toggle(self) -> None:
        """Pause or resume."""
        self.paused = not self.paused
        self.pause_button.set_text("Resume" if self.paused else "Pause")
        self.pause_button.props(f"icon={'play_arrow' if self.paused else 'pause'}")

    def clear(self) -> None:
        """Forget every entry."""
        self.entries.clear()
        self.dropped = 0
        self.unseen = 0
        self._dirty = True
        self.render()

    def render(self) -> None:
        """Redraw the list if anything changed since the last time; update the badge."""
        self._show_unseen()
        if not self._dirty:
            return
        self._dirty = False
        self.list.clear()
        self.note.set_text(f"{self.dropped} message(s) skipped at high rates"
                           if self.dropped else "")
        charts = 0
        with self.list:
            for entry in self.entries:
                stamp = time.strftime("%H:%M:%S", time.localtime(entry["t"]))
                error = entry.get("kind") == "error"
                with ui.row().classes("w-full items-start gap-2 cursor-pointer "
                                      "hover:bg-grey-2 q-px-xs"
                                      + (" ew-debug-error" if error else "")).props(
                        f'data-testid="debug-entry" data-node-id="{entry["node"]}" '
                        f'data-kind="{entry.get("kind", "")}"') as row:
                    ui.label(stamp).classes("text-caption text-grey-6")
                    if error:
                        ui.icon("error", color="negative", size="xs").tooltip("the node failed")
                    ui.label(entry["node"]).classes("text-caption text-primary")
                    ui.label(entry["text"]).classes(
                        "text-caption font-mono" + (" text-negative" if error else "")).style(
                        "white-space: pre-wrap; word-break: break-word")
                if isinstance(entry.get("svg"), str) and charts < DEBUG_CHARTS:
                    charts += 1
                    show_chart(entry["svg"])
                row.on("click", lambda _e, n=entry["node"]: self.on_reveal(n))


class Inspector:
    """Shows the last values seen on one edge: tables, statistics, a plot, trees, records."""

    def __init__(self) -> None:
        self.on_trace: Callable[[int, str | None], Any] | None = None
        self.on_trained: Callable[[int], Any] | None = None
        self.trace_box: ui.column | None = None
        self.container = ui.column().classes("w-full gap-2").props('data-testid="inspector"')
        with self.container:
            ui.label("Click an edge to see the data on it.").classes("text-grey-7")

    def show(self, edge: str, samples: list[dict[str, Any]], note: str = "",
             on_trace: Callable[[int, str | None], Any] | None = None,
             on_trained: Callable[[int], Any] | None = None) -> None:
        """Show the samples of an edge (newest first).

        With ``on_trace`` (a kept run), offer tracing; with ``on_trained``, offer a model's
        training rows.
        """
        self.container.clear()
        self.on_trace = on_trace
        self.on_trained = on_trained
        with self.container:
            ui.label(edge).classes("text-subtitle2 font-mono")
            if note:
                ui.label(note).classes("text-caption text-grey-7")
            if not samples:
                ui.label("No message has passed along this edge yet.").classes("text-grey-7")
                return
            options = {i: f"#{s['id']} · {s.get('summary', '')}" for i, s in enumerate(samples)}
            body: ui.column
            ui.select(options, value=0, label=f"last {len(samples)} message(s), newest first",
                      on_change=lambda e: self._render(body, samples[e.value or 0])).classes(
                "w-full").props('data-testid="inspector-message"')
            body = ui.column().classes("w-full gap-2")
            self._render(body, samples[0])

    def render_sample(self, body: ui.column, sample: dict[str, Any]) -> None:
        """Draw one value into ``body``, without the tracing actions (a compared run's)."""
        self.on_trace = self.on_trained = None
        self._render(body, sample)

    def _render(self, body: ui.column, sample: dict[str, Any]) -> None:
        body.clear()
        with body:
            if self.on_trace is not None:
                trace = self.on_trace
                with ui.row().classes("items-center gap-2 w-full"):
                    ui.button("Trace to its sources", icon="account_tree",
                              on_click=lambda: trace(int(sample["id"]), None)).props(
                        'flat dense data-testid="inspector-trace"')
                    if sample.get("kind") == "dataframe":
                        row = ui.input("row id").props(
                            'dense data-testid="trace-row"').classes("w-24")
                        ui.button("Trace row", icon="linear_scale",
                                  on_click=lambda: trace(int(sample["id"]),
                                                         row.value or None)).props(
                            'flat dense data-testid="inspector-trace-row"').tooltip(
                            "Follow one row back to its source line, and see which model "
                            "scored it")
                    if sample.get("kind") == "model" and self.on_trained is not None:
                        trained = self.on_trained
                        ui.button("Training rows", icon="dataset",
                                  on_click=lambda: trained(int(sample["id"]))).props(
                            'flat dense data-testid="inspector-trained-on"').tooltip(
                            "Which records trained this model: list and export them")
                self.trace_box = ui.column().classes("w-full gap-0").props(
                    'data-testid="trace-path"')
            kind = sample.get("kind")
            if kind == "dataframe":
                self._frame(sample)
            elif kind == "model":
                ui.label(sample["class"]).classes("font-mono")
                if sample.get("features"):
                    ui.label("trained on: " + ", ".join(sample["features"])).classes(
                        "text-caption")
                ui.json_editor({"content": {"json": sample.get("params", {})}},
                               ).props("read-only").classes("w-full")
                if sample.get("importance"):
                    importance_bars(sample["importance"])
            elif kind == "errorrecord":
                value = sample.get("value", {})
                # the message in plain words: no exception class name, no pydantic prefix
                ui.label(readable(str(value.get("message", "")))).classes(
                    "text-negative").props('data-testid="error-record"')
                ui.label(f"node {value.get('node')} ({value.get('component')}), input "
                         f"messages {value.get('inputs')}").classes("text-caption")
            elif kind == "chart":
                ui.label(str(sample.get("summary", ""))).classes("text-caption")
                show_chart(str(sample.get("svg", "")))
            elif kind in ("dict", "list", "tuple"):
                ui.json_editor({"content": {"json": sample.get("value")}}).props(
                    "read-only").classes("w-full")
            else:
                ui.label(str(sample.get("value", sample.get("summary")))).classes("font-mono")

    def show_trace(self, lines: list[str]) -> None:
        """List a lineage path under the message it starts from."""
        if self.trace_box is None:
            return
        self.trace_box.clear()
        with self.trace_box:
            for line in lines:
                ui.label(line).classes("text-caption font-mono").props(
                    'data-testid="trace-step"')

    def show_training(self, summary: str, frame: Any, export: Callable[[], Any]) -> None:
        """List a model's training rows (the first 20) under the message, with an export."""
        if self.trace_box is None:
            return
        self.trace_box.clear()
        with self.trace_box:
            ui.label(summary).classes("text-caption").props('data-testid="trained-on-summary"')
            head = frame.head(20)
            _rows_table([str(i) for i in head.index], [str(c) for c in head.columns],
                        [[_cell(v) for v in row] for row in head.itertuples(index=False)],
                        "trained-on-table")
            ui.button("Export all as CSV", icon="download", on_click=export).props(
                'flat dense data-testid="trained-on-export"')

    def _frame(self, sample: dict[str, Any]) -> None:
        rows, cols = sample["shape"]
        ui.label(f"{rows} rows × {cols} columns").classes("text-body2").props(
            'data-testid="inspector-shape"')
        ui.label(", ".join(f"{c}: {t}" for c, t in sample["dtypes"].items())).classes(
            "text-caption text-grey-7")
        _rows_table(sample["index"], sample["columns"], sample["head"], "inspector-table")
        stats = sample.get("stats")
        if stats:
            ui.label("summary statistics").classes("text-caption")
            scol = [{"name": f"s{i}", "label": c, "field": f"s{i}", "align": "left"}
                    for i, c in enumerate(stats["columns"])]
            srows = [{f"s{i}": (round(v, 4) if isinstance(v, float) else v)
                      for i, v in enumerate(r)} for r in stats["rows"]]
            ui.table(columns=scol, rows=srows, row_key="s0").props("dense flat bordered").classes(
                "w-full")
        spread = sample.get("distribution") or {}
        if spread:
            names = list(spread)

            def plot(column: str) -> None:
                chart.options.update(distribution_options(spread[column]))
                chart.props(f'data-column="{column}"')
                chart.update()

            ui.select(names, value=names[0], label="distribution of column",
                      on_change=lambda e: plot(e.value)).classes("w-full").props(
                'data-testid="column-plot-select"')
            chart = ui.echart(distribution_options(spread[names[0]]), renderer="svg").classes(
                "w-full h-48").props(f'data-testid="column-plot" data-column="{names[0]}"')


def _rows_table(index: list[Any], names: list[str], rows: list[list[Any]], testid: str) -> None:
    """A table of DataFrame rows, led by their row ids."""
    columns = [{"name": "_row", "label": "row id", "field": "_row", "align": "left"}]
    columns += [{"name": f"c{i}", "label": c, "field": f"c{i}", "align": "left"}
                for i, c in enumerate(names)]
    table_rows = [{"_row": idx, **{f"c{i}": v for i, v in enumerate(row)}}
                  for idx, row in zip(index, rows, strict=False)]
    ui.table(columns=columns, rows=table_rows, row_key="_row").props(
        f'dense flat bordered data-testid="{testid}"').classes("w-full")


def _cell(value: Any) -> Any:
    """A table cell: numbers and text as they are, anything else (NaN, None) as text."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return round(value, 6) if value == value else "NaN"
    return "" if value is None else str(value)
