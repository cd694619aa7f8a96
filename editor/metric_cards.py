"""The Results strip: one rounded card per metric of a run, with its change since the last run.

It sits at the top of the Debug tab, the tab a finished run shows, so that a run's metrics
are the first thing seen after it, without another tab to find and open.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

import runtime
import runtime.runs
from editor.node_status import numbers, round_number

Records = dict[str, dict[str, float]]  # "node.port" -> metric -> value


def metric_ports(doc_nodes: list[dict[str, Any]], registry: runtime.Registry) -> set[str]:
    """The output ports (``node.port``) of the flow that send metrics records."""
    ports = set()
    for node in doc_nodes:
        spec = registry.get(str(node.get("component")))
        if spec is None:
            continue
        ports |= {f"{node.get('id')}.{name}" for name, port in spec.outputs.items()
                  if port.type == "Metrics"}
    return ports


def kept_records(store: runtime.runs.RunStore, ports: set[str]) -> Records:
    """The last metrics a kept run sent on the given ports; nothing from a damaged run."""
    found: Records = {}
    try:
        summary = store.port_summary()
        for port in sorted(ports & set(summary)):
            last = summary[port]["last"]
            info = store.message(last) if last is not None else None
            metrics = numbers(info.preview if info else None)
            if metrics:
                found[port] = metrics
    except (LookupError, OSError):
        return {}
    return found


def delta(value: float, before: float | None) -> tuple[str, str]:
    """The change from ``before`` to ``value``, signed and rounded, and its direction.

    Returns:
        ``("first run", "none")`` without an earlier value, else the signed change
        (``+0.013``, ``-0.004``) and ``up`` or ``down``; ``("±0", "same")`` when both
        round to the same number.
    """
    if before is None:
        return "first run", "none"
    change = value - before
    shown = round_number(change)
    if round_number(value) == round_number(before) or shown in ("0", "-0"):
        return "±0", "same"  # the cards would show the same number
    return (f"+{shown}" if change > 0 else shown), ("up" if change > 0 else "down")


LOWER_IS_BETTER = ("error", "loss", "mse", "mae", "rmse", "mape", "deviance", "brier",
                   "hinge", "log_loss", "max_error")


def verdict(name: str, direction: str) -> str:
    """Whether a change of a metric is ``better`` or ``worse`` (``""`` when it did not move).

    Errors and losses (``mean_squared_error``, ``log_loss``…) are better when they go down;
    scikit-learn's negated scorers (``neg_mean_squared_error``) and scores when they go up.
    """
    if direction not in ("up", "down"):
        return ""
    low = name.lower()
    lower_better = not low.startswith("neg_") and any(w in low for w in LOWER_IS_BETTER)
    return "better" if (direction == "down") == lower_better else "worse"


class ResultCards:
    """The cards of the last run's metrics, compared with the run before it."""

    def __init__(self) -> None:
        self.strip = ui.row().classes("w-full gap-2 ew-results").props(
            'data-testid="results"')
        self.strip.set_visibility(False)

    def show(self, records: Records, previous: Records | None, titles: dict[str, str]) -> None:
        """Draw one card per metric of each record.

        Args:
            records: this run's metrics, by output port (``node.port``).
            previous: the metrics of the previous kept run of the flow, or None if none.
            titles: what to call each node (its label, or id).
        """
        self.strip.clear()
        self.strip.set_visibility(bool(records))
        with self.strip:
            if records:
                ui.label("Results").classes("text-caption text-weight-bold ew-results-title")
            for port, metrics in records.items():
                node = port.split(".", 1)[0]
                before = (previous or {}).get(port, {})
                for name, value in metrics.items():
                    text, direction = delta(value, before.get(name))
                    with ui.element("div").classes("ew-card").props(
                            f'data-testid="metric-card" data-node-id="{node}" '
                            f'data-port="{port}" data-metric="{name}"'):
                        ui.label(f"{titles.get(node, node)} · {name}").classes(
                            "ew-card-name").props('data-testid="metric-name"')
                        ui.label(round_number(value)).classes("ew-card-value").props(
                            f'data-testid="metric-value" title="{value!r}"')
                        judged = verdict(name, direction)
                        ui.label(text).classes(
                            f"ew-card-delta ew-delta-{direction} ew-delta-{judged}").props(
                            f'data-testid="metric-delta" data-direction="{direction}" '
                            f'data-verdict="{judged}"')

    def clear(self) -> None:
        """Show no cards (a new run started)."""
        self.strip.clear()
        self.strip.set_visibility(False)
