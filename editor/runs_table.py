"""The facts the runs table shows for each kept run: time, duration, status, changes, metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SORT_KEYS = ("started", "seconds", "status")
METRIC_SKIP = {"name", "rows"}  # a metrics message names its node and counts rows


@dataclass
class RunFacts:
    """One kept run as the runs table shows it."""

    id: str
    started: str = ""
    seconds: float | None = None
    status: str = ""
    flow: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    replay_of: str | None = None
    replay_from: str | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def time_text(self) -> str:
        """When it started, in local time (``Nov 29 19:15:22``)."""
        try:
            when = datetime.fromisoformat(self.started).astimezone()
        except ValueError:
            return self.started
        return when.strftime("%b %d %H:%M:%S")

    @property
    def duration_text(self) -> str:
        """How long it ran (``0.14 s``, ``2 min 5 s``), or empty when unknown."""
        if self.seconds is None:
            return ""
        if self.seconds < 60:
            return f"{self.seconds:.2f} s"
        minutes, seconds = divmod(round(self.seconds), 60)
        return f"{minutes} min {seconds} s"

    @property
    def metrics_text(self) -> str:
        """The metrics, rounded: ``accuracy 0.974 · f1_macro 0.973``."""
        return " · ".join(f"{k} {_round(v)}" for k, v in self.metrics.items())


def _round(value: float) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def metrics_of(previews: dict[str, Any]) -> dict[str, float]:
    """The numeric metrics of a run, from the last preview on each ``*.metrics`` port."""
    found: dict[str, float] = {}
    for origin in sorted(previews):
        if origin.rsplit(".", 1)[-1] != "metrics":
            continue
        value = (previews[origin] or {}).get("value")
        if not isinstance(value, dict):
            continue
        for key, number in value.items():
            if key not in METRIC_SKIP and isinstance(number, int | float) \
                    and not isinstance(number, bool):
                found[key if key not in found else f"{origin.split('.')[0]}.{key}"] = number
    return found


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def param_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed from one flow to the next, a line per param (``fit.C 1 → 0.01``).

    Nodes added or removed, or given another component, are one line each.
    """
    nodes_a = {str(n.get("id")): n for n in before.get("nodes") or [] if isinstance(n, dict)}
    nodes_b = {str(n.get("id")): n for n in after.get("nodes") or [] if isinstance(n, dict)}
    lines = []
    for node in sorted(nodes_a.keys() | nodes_b.keys()):
        a, b = nodes_a.get(node), nodes_b.get(node)
        if a is None or b is None:
            lines.append(f"{node} {'added' if a is None else 'removed'}")
            continue
        if a.get("component") != b.get("component"):
            lines.append(f"{node} {a.get('component')} → {b.get('component')}")
            continue
        pa, pb = a.get("params") or {}, b.get("params") or {}
        for key in sorted(pa.keys() | pb.keys()):
            if pa.get(key) != pb.get(key):
                lines.append(f"{node}.{key} {_short(pa.get(key))} → {_short(pb.get(key))}")
    return lines


def with_changes(runs: list[RunFacts]) -> list[RunFacts]:
    """Fill each run's ``changes`` against the run before it (``runs`` newest first)."""
    for newer, older in zip(runs, runs[1:], strict=False):
        newer.changes = param_changes(older.flow, newer.flow)
    if runs:
        runs[-1].changes = []
    return runs


def sort_runs(runs: list[RunFacts], key: str, descending: bool) -> list[RunFacts]:
    """The runs sorted by ``started``, ``seconds`` or ``status`` (ties: newest first)."""
    if key not in SORT_KEYS:
        msg = f"cannot sort runs by '{key}'; use one of {', '.join(SORT_KEYS)}"
        raise ValueError(msg)
    newest = sorted(runs, key=lambda r: (r.started, r.id), reverse=True)
    if key == "started":
        return newest if descending else newest[::-1]
    if key == "seconds":
        known = [r for r in newest if r.seconds is not None]
        unknown = [r for r in newest if r.seconds is None]
        return sorted(known, key=lambda r: r.seconds or 0.0, reverse=descending) + unknown
    return sorted(newest, key=lambda r: r.status, reverse=descending)


def facts_of(store: Any) -> RunFacts:
    """Read the table's facts of a kept run (``store`` is a runtime.runs.RunStore, not damaged)."""
    manifest = store.manifest()
    previews: dict[str, Any] = {}
    for origin, info in store.port_summary().items():
        if origin.rsplit(".", 1)[-1] == "metrics" and info.get("last") is not None:
            message = store.message(info["last"])
            previews[origin] = message.preview if message is not None else None
    flow = manifest.get("replay_flow") or manifest.get("flow") or {}
    seconds = manifest.get("seconds")
    return RunFacts(id=store.id, started=str(manifest.get("started") or ""),
                    seconds=float(seconds) if isinstance(seconds, int | float) else None,
                    status=store.status(), flow=flow if isinstance(flow, dict) else {},
                    metrics=metrics_of(previews), replay_of=manifest.get("replay_of"),
                    replay_from=manifest.get("replay_from"))
