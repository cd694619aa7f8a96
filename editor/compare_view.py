"""Compare view: the legend of compared edges, and one edge's values in run A beside run B.

The details are those of ``edgewise diff`` (``runtime.runs.diff_runs``): message and row counts,
schema changes, PSI and KS per numeric column, changed params and metric deltas.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

LEGEND = (("first", "first changed: data changed here while nothing upstream did"),
          ("changed", "changed, following a change upstream"),
          ("same", "same data in both runs"))


def edge_entry(report: dict[str, Any], edge: str) -> dict[str, Any] | None:
    """The diff of one edge in a ``diff_runs`` report, or None if neither run has it."""
    return next((e for e in report.get("edges", []) if e.get("edge") == edge), None)


def edge_mark(report: dict[str, Any], edge: str) -> str:
    """How an edge is coloured: ``first``, ``changed``, ``same``, or ``one`` (in one run)."""
    entry = edge_entry(report, edge)
    if entry is None or not (entry["in_a"] and entry["in_b"]):
        return "one"
    if edge in report.get("first_changed", []):
        return "first"
    return "changed" if edge in report.get("changed", []) else "same"


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _params(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def edge_details(report: dict[str, Any], edge: str) -> list[tuple[str, str]]:
    """What ``edgewise diff`` says about one edge, as (topic, text) lines."""
    entry = edge_entry(report, edge)
    if entry is None:
        return [("edge", f"neither run {report.get('run_a')} nor {report.get('run_b')} has "
                         f"data on {edge}")]
    lines = [("status", {"first": "first changed", "changed": "changed", "same": "same",
                         "one": "in one run only"}[edge_mark(report, edge)])]
    count = entry["count"]
    if entry["in_a"] and entry["in_b"]:
        lines.append(("messages", f"{count[0]} → {count[1]}"))
    else:
        lines.append(("messages", f"{count[0] if entry['in_a'] else count[1]} (only in run "
                                  f"{'A' if entry['in_a'] else 'B'})"))
    rows = entry.get("rows") or [None, None]
    if rows[0] is not None:
        lines.append(("rows", f"{rows[0]} → {rows[1]}"))
    lines.append(("values", str(entry.get("values"))))
    schema = entry.get("schema") or {}
    for key, title in (("added", "columns added"), ("removed", "columns removed")):
        if schema.get(key):
            lines.append((title, ", ".join(schema[key])))
    for column, (was, now) in (schema.get("dtype_changed") or {}).items():
        lines.append(("dtype", f"{column}: {was} → {now}"))
    columns = entry.get("columns") or {}
    for column in sorted(columns, key=lambda c: (not columns[c].get("shifted"),
                                                 -columns[c]["psi"], c)):
        stats = columns[column]
        shifted = ", shifted" if stats.get("shifted") else ""
        lines.append(("drift", f"{column}: PSI {stats['psi']:.3f} · KS {stats['ks']:.3f} "
                               f"(p={stats['ks_pvalue']:.2g}{shifted})"))
    for key, change in (entry.get("metrics") or {}).items():
        delta = change["change"]
        lines.append(("metric", f"{key}: {_number(change['a'])} → {_number(change['b'])} "
                                f"({'+' if delta >= 0 else ''}{_number(delta)})"))
    source = edge.split("->")[0].split(".")[0]
    for change in report.get("param_changes", []):
        where = "" if change["node"] != source else " (makes this edge)"
        if change["change"] == "params":
            a, b = change.get("a") or {}, change.get("b") or {}
            for key in sorted(a.keys() | b.keys()):
                if a.get(key) != b.get(key):
                    lines.append(("param", f"{change['node']}.{key}: {_params(a.get(key))} → "
                                           f"{_params(b.get(key))}{where}"))
        else:
            lines.append(("param", f"node {change['node']} {change['change']}{where}"))
    lines.extend(("why", reason) for reason in entry.get("reasons", []))
    return lines


def legend(run_a: str, run_b: str) -> None:
    """Draw the legend of the compared edges' colours (in the current NiceGUI context)."""
    with ui.column().classes("ew-compare-legend gap-0").props(
            'data-testid="compare-legend" data-fit-avoid'):
        ui.label(f"run A {run_a} → run B {run_b}").classes("text-caption font-mono")
        for mark, text in LEGEND:
            with ui.row().classes("items-center gap-1 no-wrap").props(
                    f'data-testid="legend-item" data-change="{mark}"'):
                ui.element("span").classes(f"ew-legend-swatch ew-legend-{mark}")
                ui.label(text).classes("text-caption")
        ui.label("click an edge to see both runs' values").classes("text-caption text-grey-7")


def side_by_side(container: ui.column, edge: str, report: dict[str, Any],
                 samples: tuple[list[dict[str, Any]], list[dict[str, Any]]],
                 render: Callable[[ui.column, dict[str, Any]], None], *,
                 wide: bool = True) -> None:
    """Show an edge's newest value in run A beside run B, under the diff details.

    With ``wide``, a button opens the same view in a dialog as wide as the window.
    """
    container.clear()
    with container:
        with ui.row().classes("w-full items-center no-wrap gap-1"):
            ui.label(edge).classes("text-subtitle2 font-mono col")
            if wide:
                with ui.dialog() as dialog, ui.card().classes("ew-compare-wide").props(
                        'data-testid="compare-dialog"'):
                    inner = ui.column().classes("w-full gap-2")
                    side_by_side(inner, edge, report, samples, render, wide=False)
                ui.button(icon="open_in_full", on_click=dialog.open).props(
                    'flat dense round size=sm data-testid="compare-wide"').tooltip(
                    "Both runs side by side, as wide as the window")
        with ui.column().classes("w-full gap-0").props('data-testid="compare-details"'):
            for topic, text in edge_details(report, edge):
                with ui.row().classes("gap-2 no-wrap items-baseline").props(
                        f'data-testid="compare-detail" data-topic="{topic}"'):
                    ui.label(topic).classes("text-caption text-grey-7 ew-compare-topic")
                    ui.label(text).classes("text-caption")
        with ui.row().classes("w-full no-wrap gap-2 items-start"):
            for side, run, found in (("a", report.get("run_a"), samples[0]),
                                     ("b", report.get("run_b"), samples[1])):
                with ui.column().classes("col gap-1 ew-compare-side").props(
                        f'data-testid="compare-side" data-side="{side}"'):
                    ui.label(f"run {side.upper()} · {run}").classes(
                        "text-caption text-weight-bold font-mono")
                    if not found:
                        ui.label("no value kept on this edge").classes("text-grey-7")
                        continue
                    body = ui.column().classes("w-full gap-2")
                    render(body, found[0])
