"""Find what a kept-run command names: the run (id, prefix, ``latest``, folder) and the message."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from runtime._errors import RunLookupError
from runtime._record import MessageInfo, RunStore, list_runs, runs_root
from runtime._terminal import plain
from runtime.cli.common import workspace_of


def open_run(args: argparse.Namespace, ref: str) -> RunStore:
    """Find a run by id, unique id prefix, ``latest``, ``latest~N`` or folder path.

    Raises:
        RunLookupError: no run, or several, answer to ``ref``.
    """
    path = Path(ref)
    if any((path / name).exists() for name in ("manifest.json", "index.sqlite")):
        return RunStore(path)
    runs = list_runs(workspace_of(args))
    if not runs:
        msg = f"no kept runs in {runs_root(workspace_of(args))}; run a flow with --record first"
        raise RunLookupError(msg)
    if ref == "latest":
        return runs[-1]
    if ref.startswith("latest~") and ref[7:].isdigit():
        back = int(ref[7:])
        if back >= len(runs):
            msg = f"there are only {len(runs)} kept runs"
            raise RunLookupError(msg)
        return runs[-1 - back]
    matches = [r for r in runs if r.id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        msg = f"no run '{ref}' in {runs_root(workspace_of(args))} (see `edgewise runs`)"
        raise RunLookupError(msg)
    msg = f"'{ref}' matches {len(matches)} runs; give more of the id"
    raise RunLookupError(msg)


def pick_message(store: RunStore, origin: str, args: argparse.Namespace) -> MessageInfo:
    """The message named by ``--id``, ``--row`` or ``--message`` (position; default: the last).

    Raises:
        RunLookupError: ``origin`` is not ``NODE.PORT``, or the run holds no such message.
    """
    if "." not in origin:
        msg = f"'{origin}' must name an output port as NODE.PORT, e.g. predict.data"
        raise RunLookupError(msg)
    if getattr(args, "id", None) is not None:
        found = store.message(args.id)
        if found is None or found.origin != origin:
            msg = f"run {store.id} has no message {args.id} on {origin}"
            raise RunLookupError(msg)
        return found
    total = store.count(origin)
    if getattr(args, "row", None) is not None and args.message is None and total:
        return _message_with_row(store, origin, args.row)
    if total == 0:
        known = ", ".join(sorted(store.origins()))
        msg = f"no message was recorded on {origin} in run {store.id} (ports: {known})"
        raise RunLookupError(msg)
    position = args.message if args.message is not None else -1
    found = store.message_at(origin, position)
    if found is None:
        msg = (f"{origin} has {total} message(s) in run {store.id}; --message {position} "
               "is out of range")
        raise RunLookupError(msg)
    return found


def _message_with_row(store: RunStore, origin: str, row: str) -> MessageInfo:
    """The message on a port whose DataFrame holds a row id (the newest, if several do)."""
    from runtime._record.lineage import match_label

    holders = []
    labels: list[Any] = []
    for message, value in store.values(origin):
        if message.kept is None or not hasattr(value, "index"):  # not kept: not searched
            continue
        labels += [value.index.min(), value.index.max()] if len(value) else []
        if match_label(value.index, row) is not None:
            holders.append(message)
    if not holders:
        span = ""
        try:
            span = f"; its row ids run from {min(labels)} to {max(labels)}" if labels else ""
        except TypeError:  # ids of mixed kinds
            pass
        msg = f"no message on {origin} in run {store.id} has a row with id {row!r}{span}"
        raise RunLookupError(msg)
    if len(holders) > 1:
        print(plain(f"note: {len(holders)} messages on {origin} hold row {row} "
                    f"({', '.join(str(h.id) for h in holders[:10])}); using the newest, "
                    f"{holders[-1].id}; pick one with --id"), file=sys.stderr)
    return holders[-1]
