"""``edgewise decisions``: a kept run's supervisor decisions, each with the evidence behind it.

A supervisor node (a component tagged ``decisions``, such as ``model.supervisor``) emits one
row per decision on its ``decisions`` output, naming the metrics and drift messages that made
it. This command reads those rows back from the run, and each evidence message with its
values and the ``edgewise trace`` command that walks it back to its sources.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from runtime import _decisions
from runtime._record import RunStore
from runtime._registry import default_registry
from runtime.cli.common import out, safe
from runtime.cli.exits import EXIT_OK
from runtime.cli.finding import open_run


def decision_nodes(store: RunStore) -> list[str]:
    """The ids of the run's nodes whose component records decisions, in flow order."""
    return _decisions.decision_nodes(store, default_registry())


def run_decisions(store: RunStore) -> list[dict[str, Any]]:
    """Every decision recorded in the run, oldest first, each with its evidence."""
    return _decisions.run_decisions(store, default_registry())


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
