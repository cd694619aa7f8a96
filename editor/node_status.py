"""The one-line status a node shows under its title after (and during) a run, as Node-RED does.

``status_text`` words it from what the run sends about a node and its edges ("fitted on 112
rows", "acc 0.974 · f1 0.97", "3 errors", "150 rows", "stopped"); ``RunFacts`` gathers those
facts from the run's snapshots, its end summary, or a kept run.
"""

from __future__ import annotations

import math
from typing import Any

from editor.scorer_models import serve_models

MAX_METRICS = 2  # metrics worded in a status
# a metric's short name: whole names first, then parts of names
SHORT_NAMES = {"accuracy": "acc", "balanced_accuracy": "bal acc", "roc_auc": "auc",
               "average_precision": "ap", "neg_mean_squared_error": "-mse",
               "neg_root_mean_squared_error": "-rmse", "neg_mean_absolute_error": "-mae",
               "mean_squared_error": "mse", "mean_absolute_error": "mae", "precision": "prec"}
SHORT_SUFFIXES = ("_macro", "_weighted", "_micro", "_mean")
SKIPPED_KEYS = {"rows"}  # a metrics record's size, not a metric


def plural(count: int, noun: str) -> str:
    """``1 row``, ``3 rows``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def round_number(value: float) -> str:
    """A number for a person: three decimals at most, trailing zeros dropped.

    Whole numbers stay whole, numbers of 1000 and more lose their decimals, and numbers
    smaller than 0.001 keep three significant digits.
    """
    if isinstance(value, bool) or not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    if abs(value) >= 1000:
        return str(round(value))
    text = f"{value:.3f}" if abs(value) >= 0.001 else f"{value:.3g}"
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text


def short_metric(name: str) -> str:
    """A metric's short name: ``accuracy`` is ``acc``, ``f1_macro`` is ``f1``."""
    for suffix in SHORT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[:-len(suffix)]
            break
    return SHORT_NAMES.get(name, name)


def numbers(preview: dict[str, Any] | None) -> dict[str, float]:
    """The metrics of a record's preview: its numbers, without ``rows`` and spreads (``_std``)."""
    if not preview or preview.get("kind") != "dict" or not isinstance(preview.get("value"), dict):
        return {}
    return {str(k): float(v) for k, v in preview["value"].items()
            if isinstance(v, int | float) and not isinstance(v, bool)
            and str(k) not in SKIPPED_KEYS and not str(k).endswith("_std")}


def _frame_rows(info: dict[str, Any]) -> int | None:
    """Rows of the last message of an edge, if it was a DataFrame."""
    preview = info.get("preview") or {}
    shape = preview.get("shape")
    return int(shape[0]) if preview.get("kind") == "dataframe" and shape else None


def _rows(info: dict[str, Any]) -> str:
    """What an edge carried: ``150 rows``, ``450 rows in 3 msgs`` or ``3 msgs``."""
    count, rows = int(info.get("count") or 0), info.get("rows")
    if rows is None:
        return plural(count, "msg")
    return plural(int(rows), "row") + (f" in {plural(count, 'msg')}" if count > 1 else "")


def status_text(component: str, node: dict[str, Any], inputs: list[dict[str, Any]],
                outputs: dict[str, dict[str, Any]]) -> str:
    """A node's one-line status.

    Args:
        component: the node's component id.
        node: its state in the run: ``state`` and ``errors`` (and ``fired``).
        inputs: what its incoming edges carried: ``count``, ``rows`` and the ``preview`` of
            their last message.
        outputs: the same for its output ports (one edge per port), by port name.

    Returns:
        The status, most telling first: errors, a stop, metrics, a model's training rows,
        the rows or messages it sent, or (for a node that sends nothing) received;
        ``''`` before it did anything.
    """
    errors = int(node.get("errors") or 0)
    if errors:
        return plural(errors, "error")
    if node.get("state") == "stopped":
        return "stopped"
    sent = {p: i for p, i in outputs.items() if p != "error" and i.get("count")}
    for info in sent.values():
        metrics = numbers(info.get("preview"))
        if metrics:
            return " · ".join(f"{short_metric(k)} {round_number(v)}"
                              for k, v in list(metrics.items())[:MAX_METRICS])
    models = [i for i in sent.values() if (i.get("preview") or {}).get("kind") == "model"]
    if models:
        trained = [r for r in (_frame_rows(i) for i in inputs if i.get("count")) if r is not None]
        if trained:
            return f"fitted on {plural(max(trained), 'row')}"
        return str((models[0].get("preview") or {}).get("summary", "model"))
    if len(sent) > 1 and all(i.get("rows") is not None for i in sent.values()):
        return " · ".join(f"{p} {i['rows']}" for p, i in sent.items())
    if sent:
        return _rows(next(iter(sent.values())))
    got = [i for i in inputs if i.get("count")]
    if got:
        done = "wrote " if component.endswith(".write") or component == "model.save" else ""
        if all(i.get("rows") is not None for i in got):
            return done + plural(sum(int(i["rows"]) for i in got), "row")
        return done + plural(sum(int(i["count"]) for i in got), "msg")
    return ""


def _ends(edge: str) -> tuple[str, str, str]:
    """The source node, source port and target node of an edge id ``a.p->b.q``."""
    source, _, target = edge.partition("->")
    node, _, port = source.partition(".")
    return node, port, target.split(".", 1)[0]


class RunFacts:
    """What one run said so far about its nodes and edges; words each node's status."""

    def __init__(self, components: dict[str, str],
                 outputs: dict[str, list[str]] | None = None,
                 params: dict[str, Any] | None = None) -> None:
        """Start with nothing known.

        Args:
            components: the component id of every node, by node id.
            outputs: the output ports of nodes, in the order the status names them (the
                component's order); others follow in the order they were seen.
            params: the params of nodes, by node id (a scorer's mode).
        """
        self.components = components
        self.order = outputs or {}
        self.params = params or {}
        self.models: dict[str, dict[str, str]] = {}  # a scorer's models, by node
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[str, dict[str, Any]] = {}
        self.incoming: dict[str, dict[str, dict[str, Any]]] = {}  # node -> edge -> info
        self.outgoing: dict[str, dict[str, dict[str, Any]]] = {}  # node -> port -> info

    def take(self, snap: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Take a snapshot (``edges`` and ``nodes``, possibly only what changed).

        Returns:
            The state, errors and status text of every node the snapshot may have changed.
        """
        touched = set(snap.get("nodes", {}))
        for edge, info in snap.get("edges", {}).items():
            self.edges[edge] = info
            source, port, target = _ends(edge)
            self.incoming.setdefault(target, {})[edge] = info
            self.outgoing.setdefault(source, {})[port] = info  # a fan-out carries the same
            touched |= {source, target}
        for node, info in snap.get("nodes", {}).items():
            self.nodes[node] = {**self.nodes.get(node, {}), **info}
        return {n: self.state(n) for n in sorted(touched) if n in self.nodes}

    def take_states(self, states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Take the nodes' final states (of the run's end, or a stop); return them with texts."""
        return self.take({"nodes": states})

    def state(self, node: str) -> dict[str, Any]:
        """A node's state, errors and status text (and a scorer's models), as shown."""
        info = self.nodes.get(node, {"state": "idle", "errors": 0})
        inputs = list(self.incoming.get(node, {}).values())
        seen = self.outgoing.get(node, {})
        order = [p for p in self.order.get(node, []) if p in seen]
        outputs = {p: seen[p] for p in [*order, *(p for p in seen if p not in order)]}
        shown = {"state": info.get("state", "idle"), "errors": int(info.get("errors") or 0),
                 "text": status_text(self.components.get(node, ""), info, inputs, outputs)}
        models = serve_models(self.components.get(node, ""), self.params.get(node), seen,
                              self.models.get(node))
        if models:
            self.models[node] = shown["models"] = models
        return shown

    def records(self, ports: set[str]) -> dict[str, dict[str, float]]:
        """The last metrics sent on the given output ports (``node.port``), by port."""
        found: dict[str, dict[str, float]] = {}
        for edge, info in self.edges.items():
            source = edge.partition("->")[0]
            if source in ports and source not in found:
                metrics = numbers(info.get("preview"))
                if metrics:
                    found[source] = metrics
        return found
