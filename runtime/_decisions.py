"""A kept run's supervisor decisions, each with the evidence messages behind it.

A supervisor node (a component tagged ``decisions``, such as ``model.supervisor``) emits one
row per decision on its ``decisions`` output, naming the metrics and drift messages that made
it. :func:`run_decisions` reads those rows back from a run, and each evidence message with its
values and the ``edgewise trace`` command that walks it back to its sources. The
``edgewise decisions`` command and the editor's timeline both show what it returns.
"""

from __future__ import annotations

import math
from typing import Any

from runtime._api import DECISIONS_TAG
from runtime._errors import RunLookupError
from runtime._record import RunStore
from runtime._registry import Registry, default_registry

DECISIONS_PORT = "decisions"
SHOWN = ("window", "model", "rows", "unlabelled", "first_row", "last_row", "drift",
         "drifted")
"""The columns of an evidence message shown first; its metric or statistic columns follow."""


def decision_nodes(store: RunStore, registry: Registry | None = None) -> list[str]:
    """The ids of the run's nodes whose component records decisions, in flow order.

    Args:
        store: the kept run.
        registry: where the components are looked up (the installed ones by default).
    """
    registry = registry or default_registry()
    found = []
    for node in store.flow().get("nodes", []):
        spec = registry.get(str(node.get("component", "")))
        if spec is not None and DECISIONS_TAG in spec.tags:
            found.append(str(node["id"]))
    return found


def _plain(value: Any) -> Any:
    """A value as JSON has it: numpy scalars as numbers, NaN as None, lists as lists."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _evidence(store: RunStore, message_id: int) -> dict[str, Any]:
    """One evidence message: where it came from, its values, and how to trace it."""
    info = store.message(message_id)
    if info is None:
        return {"message": message_id, "origin": None, "values": None,
                "note": f"run {store.id} holds no message {message_id}"}
    found: dict[str, Any] = {"message": message_id, "origin": info.origin, "values": None,
                             "trace": f"edgewise trace {store.id} {info.origin} "
                                      f"--id {message_id}"}
    try:
        value = store.value(message_id)
    except KeyError:
        found["note"] = "its value was not kept (the run's storage policy)"
        return found
    if hasattr(value, "to_dict") and hasattr(value, "columns") and len(value):
        first = value.iloc[0]
        order = [c for c in SHOWN if c in value.columns]
        order += [c for c in value.columns if c not in order and c != "model_message"]
        found["values"] = {str(c): _plain(first[c]) for c in order}
    return found


def run_decisions(store: RunStore, registry: Registry | None = None) -> list[dict[str, Any]]:
    """Every decision recorded in the run, oldest first, each with its evidence.

    Args:
        store: the kept run.
        registry: where the components are looked up (the installed ones by default).

    Returns:
        One dict per decision: ``node``, ``message`` (the decision message's id), ``t``, the
        decision's columns, and ``evidence``, a list of dicts with ``message``, ``origin``,
        ``values`` and ``trace`` (or a ``note`` saying why a value is missing).

    Raises:
        RunLookupError: the run has no node that records decisions.
    """
    nodes = decision_nodes(store, registry)
    if not nodes:
        msg = (f"run {store.id} has no supervisor node (no component tagged "
               f"'{DECISIONS_TAG}', such as model.supervisor), so it made no decisions")
        raise RunLookupError(msg)
    listed: list[dict[str, Any]] = []
    for node in nodes:
        for message, frame in store.values(f"{node}.{DECISIONS_PORT}"):
            if message.kept is None:
                listed.append({"node": node, "message": message.id, "t": message.t,
                               "note": "its value was not kept (the run's storage policy)"})
                continue
            for _index, row in frame.iterrows():
                made = {str(k): _plain(v) for k, v in row.items()}
                made["evidence"] = [_evidence(store, int(i)) for i in made.get("evidence", [])]
                listed.append({"node": node, "message": message.id, "t": message.t, **made})
    listed.sort(key=lambda d: (d["t"], d["message"]))
    return listed
