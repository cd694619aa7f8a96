"""A supervisor's decisions in a kept run and its evidence path; a scorer's last rows.

Both are read in the helper process (the kept-values reader).

The editor's timeline asks for the decisions through ``editor.kept_values``, whose helper process
reads the run's values, so the editor server never loads one. The decisions are those of
``edgewise decisions`` (``runtime.runs.run_decisions``); each evidence message is traced back
to its sources as ``edgewise trace`` does, and the edges it took into the supervisor are
added, so the canvas can light up the whole path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import runtime.runs

TraceItems = Callable[[runtime.runs.RunStore, list[runtime.runs.Step]], list[str]]


def evidence_items(store: runtime.runs.RunStore, lineage: runtime.runs.Lineage,
                   decision: dict[str, Any], trace_items: TraceItems) -> list[str]:
    """The node and edge ids a decision's evidence travelled, up to the supervisor.

    Args:
        store: the kept run.
        lineage: the run's lineage.
        decision: one decision as ``run_decisions`` lists it.
        trace_items: the ids on a lineage path (``editor.kept_values.trace_items``).

    Returns:
        Sorted ids: each evidence message's trace back to its sources, the edges from the
        evidence's ports into the supervisor node, and the supervisor node itself.
    """
    node = str(decision["node"])
    edges = [f"{e['source']}->{e['target']}" for e in store.flow().get("edges", [])]
    ids = {node}
    for item in decision.get("evidence", []):
        if item.get("origin") is None:
            continue
        try:
            ids.update(trace_items(store, lineage.trace(int(item["message"]))))
        except LookupError:  # a message the run does not hold: its edge into the node still
            pass
        ids.update(e for e in edges if e.startswith(f"{item['origin']}->")
                   and e.split("->")[1].split(".")[0] == node)
    return sorted(ids)


def node_decisions(folder: str, node: str, trace_items: TraceItems) -> list[dict[str, Any]]:
    """The decisions of one supervisor node of a kept run, oldest first, with their paths.

    Args:
        folder: the kept run's folder.
        node: the supervisor node's id.
        trace_items: the ids on a lineage path (``editor.kept_values.trace_items``).

    Returns:
        The node's decisions (``run_decisions``'s dicts), each with ``items``: what to light
        up on the canvas. An empty list when the node made none.
    """
    store = runtime.runs.RunStore(Path(folder))
    lineage = runtime.runs.Lineage(store)
    found = []
    for decision in runtime.runs.run_decisions(store):
        if decision["node"] == node:
            found.append({**decision, "items": evidence_items(store, lineage, decision,
                                                                   trace_items)})
    return found


def scorer_previews(folder: str, nodes: list[str]) -> dict[str, dict[str, Any]]:
    """Full previews of the last messages scorer nodes sent on ``data`` and ``shadow``.

    A kept run's index keeps only the shape of a table; the rows (and their ``model``
    column, which names the model that answered) need the value.

    Args:
        folder: the kept run's folder.
        nodes: the ids of its ``ml.serve`` nodes.

    Returns:
        ``{node: {port: preview}}``, for the ports that sent something whose value was kept.
    """
    store = runtime.runs.RunStore(Path(folder))
    summary = store.port_summary()
    found: dict[str, dict[str, Any]] = {}
    for node in nodes:
        for port in ("data", "shadow"):
            info = summary.get(f"{node}.{port}")
            if not info or info.get("last") is None:
                continue
            try:
                value = store.value(int(info["last"]))
            except (KeyError, LookupError):  # not kept, or refused: nothing to show
                continue
            found.setdefault(node, {})[port] = runtime.preview(value)
    return found
