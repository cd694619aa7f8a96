"""``edgewise decisions``: a kept run's supervisor decisions, each with the evidence behind it.

A supervisor node (a component tagged ``decisions``, such as ``model.supervisor``) emits one
row per decision on its ``decisions`` output, naming the metrics and drift messages that made
it. This command reads those rows back from the run, and each evidence message with its
values and the ``edgewise trace`` command that walks it back to its sources.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from runtime._api import DECISIONS_TAG
from runtime._errors import RunLookupError
from runtime._record import RunStore
from runtime._registry import default_registry
from runtime.cli.common import out, safe
from runtime.cli.exits import EXIT_OK
from runtime.cli.finding import open_run

DECISIONS_PORT = "decisions"
SHOWN = ("window", "model", "rows", "unlabelled", "first_row", "last_row", "drift",
         "drifted")
"""The columns of an evidence message shown first; its metric or statistic columns follow."""


def decision_nodes(store: RunStore) -> list[str]:
    """The ids of the run's nodes whose component records decisions, in flow order."""
    registry = default_registry()
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


def run_decisions(store: RunStore) -> list[dict[str, Any]]:
    """Every decision recorded in the run, oldest first, each with its evidence.

    Raises:
        RunLookupError: the run has no node that records decisions.
    """
    nodes = decision_nodes(store)
    if not nodes:
        msg = (f"run {store.id} has no supervisor node (no component tagged "
               f"'{DECISIONS_TAG}', such as model.supervisor), so it made no decisions")
        raise RunLookupError(msg)
    listed: list[dict[str, Any]] = []
    for node in nodes:
        for message in store.messages(f"{node}.{DECISIONS_PORT}"):
            try:
                frame = store.value(message.id)
            except KeyError:
                listed.append({"node": node, "message": message.id, "t": message.t,
                               "note": "its value was not kept (the run's storage policy)"})
                continue
            for _index, row in frame.iterrows():
                made = {str(k): _plain(v) for k, v in row.items()}
                made["evidence"] = [_evidence(store, int(i)) for i in made.get("evidence", [])]
                listed.append({"node": node, "message": message.id, "t": message.t, **made})
    listed.sort(key=lambda d: (d["t"], d["message"]))
    return listed


def _values_text(values: dict[str, Any] | None) -> str:
    if not values:
        return ""
    return ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in values.items())


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)


def cmd_decisions(args: argparse.Namespace) -> int:
    """List a kept run's supervisor decisions, each with its evidence."""
    store = open_run(args, args.run)
    listed = run_decisions(store)
    if args.json:
        print(json.dumps({"run": store.id, "decisions": listed}, default=str))
        return EXIT_OK
    console = out()
    if not listed:
        console.print(safe(f"run {store.id}: its supervisor made no decision"))
        return EXIT_OK
    console.print(safe(f"run {store.id}: {len(listed)} decision(s)"))
    for number, made in enumerate(listed, 1):
        console.print()
        if "action" not in made:
            console.print(safe(f"{number}. node '{made['node']}', message {made['message']}: "
                               f"{made['note']}"))
            continue
        target = made.get("to") or "nothing (quarantined)"
        console.print(f"[bold]{number}. {safe(made['action'])}[/] "
                      f"{safe(made.get('from'))} -> {safe(target)}, window "
                      f"{safe(made.get('window'))}, node '{safe(made['node'])}' "
                      f"({safe(made.get('time'))})")
        console.print(safe(f"   {made.get('metric')}: champion "
                           f"{_number(made.get('champion_value'))}, challenger "
                           f"{_number(made.get('challenger_value'))}, "
                           f"{made.get('rows')} rows"))
        console.print(safe(f"   why: {made.get('reason')}"))
        console.print(safe(f"   evidence ({len(made['evidence'])} message(s)):"))
        for item in made["evidence"]:
            where = f" on {item['origin']}" if item.get("origin") else ""
            text = _values_text(item.get("values")) or item.get("note", "")
            console.print(safe(f"     message {item['message']}{where}: {text}"))
            if item.get("trace"):
                console.print(safe(f"       trace: {item['trace']}"))
    return EXIT_OK
