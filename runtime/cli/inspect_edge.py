"""The ``edgewise inspect`` command: what passed along an edge of a kept run."""

from __future__ import annotations

import argparse
import difflib
import json

from rich.table import Table

from runtime._errors import RunLookupError
from runtime._record import MessageInfo
from runtime.cli.common import out, safe
from runtime.cli.exits import EXIT_OK
from runtime.cli.finding import open_run, pick_message


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print what passed along an edge: every message, or one in full."""
    store = open_run(args, args.run)
    manifest = store.manifest()
    # An interrupted run has no edge statistics; its flow snapshot still names the edges.
    edges = list(manifest.get("edges") or {}) or [
        f"{e['source']}->{e['target']}" for e in manifest["flow"].get("edges", [])]
    ports = sorted(set(store.origins()) | {e.split("->")[0] for e in edges})
    if args.edge not in edges and args.edge not in ports:
        known = edges + [p for p in ports if not any(e.startswith(p + "->") for e in edges)]
        close = [e for e in known if args.edge in e] or difflib.get_close_matches(
            args.edge, known, n=1, cutoff=0.5)
        hint = (f"; did you mean {close[0]}?" if close
                else f"; edges and ports: {', '.join(known)}")
        msg = f"run {store.id} has no edge or output port '{args.edge}'{hint}"
        raise RunLookupError(msg)
    origin = args.edge.split("->")[0]
    if args.message is None:
        listing = [m.to_json() for m in store.messages(origin)]
        if args.json:
            print(json.dumps({"run": store.id, "edge": args.edge, "messages": listing}))
            return EXIT_OK
        table = Table(title=safe(f"{args.edge} in run {store.id}: {len(listing)} message(s)"),
                      title_justify="left", box=None)
        for col in ("#", "id", "t (s)", "rows", "value"):
            table.add_column(col)
        for m in listing:
            summary = ((m["preview"] or {}).get("summary") or "(not kept)").splitlines()[0]
            table.add_row(str(m["position"]), str(m["id"]), f"{m['t']:.3f}",
                          "" if m["rows"] is None else str(m["rows"]), safe(summary))
        out().print(table)
        return EXIT_OK
    message = pick_message(store, origin, args)
    try:
        value = store.value(message.id)
    except KeyError:  # the storage policy did not keep it
        value = None
    if args.json:
        from runtime._previews import detail

        print(json.dumps({"run": store.id, "edge": args.edge, "message": message.to_json(),
                          "value": detail(value) if value is not None else None}))
        return EXIT_OK
    console = out()
    console.print(safe(f"message {message.id} (#{message.position} on {args.edge}), made by "
                       f"{message.origin} at {message.t:.3f} s; parents: "
                       f"{_ranges_text(message)}"))
    if value is None:
        console.print("(its value was not kept by the storage policy)")
    elif hasattr(value, "to_string"):
        console.print(safe(value.to_string(max_rows=30, max_cols=20)))
    else:
        console.print(safe(json.dumps(value, default=str, indent=2)
                           if isinstance(value, dict | list) else repr(value)))
    return EXIT_OK


def _ranges_text(message: MessageInfo) -> str:
    if not message.parent_ranges:
        return "none (a source)"
    parts = [str(a) if b == a + 1 else f"{a}..{b - 1}" for a, b in message.parent_ranges]
    return ", ".join(parts)
