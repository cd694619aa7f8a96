"""The ``runs`` command: list kept runs, marking damaged and interrupted ones; prune them."""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from runtime._errors import UsageError
from runtime._record import DamagedRunError, RunStore, list_runs, runs_root
from runtime._terminal import plain
from runtime.cli.common import out as _out
from runtime.cli.common import safe as _safe
from runtime.cli.common import workspace_of
from runtime.cli.exits import EXIT_ERRORS, EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    """List kept runs, or prune old ones.

    A damaged run is listed with status ``damaged`` and what is wrong with it; the others
    are listed as usual.
    """
    runs = list_runs(workspace_of(args))
    if args.action == "prune":
        return _prune(args, runs)
    rows: list[dict[str, Any]] = []
    for run in runs:
        damage = run.damage
        if damage is not None:
            rows.append({"run": run.id, "flow": None, "status": "damaged", "started": None,
                         "seconds": None, "messages": None, "bytes": None, "replay_of": None,
                         "problem": damage})
            continue
        m = run.manifest()
        status = run.status()
        rec = m.get("recording", {})
        messages = rec.get("messages_indexed")
        if messages is None and status in ("running", "interrupted"):
            messages = run.message_count()
        run.close()
        rows.append({"run": run.id, "flow": m["flow"].get("name"), "status": status,
                     "started": m.get("started"), "seconds": m.get("seconds"),
                     "messages": messages, "bytes": rec.get("bytes"),
                     "replay_of": m.get("replay_of"), "problem": rec.get("failure")})
    if args.json:
        print(json.dumps(rows))
        return EXIT_OK
    if not rows:
        print(f"no kept runs in {plain(runs_root(workspace_of(args)))}")
        return EXIT_OK
    table = Table(box=None)
    for col in ("run", "flow", "status", "started", "messages", "size"):
        table.add_column(col, no_wrap=True)
    for r in rows:
        size = f"{(r['bytes'] or 0) / 1e6:.1f} MB" if r["bytes"] is not None else ""
        status = f"[red]{r['status']}[/]" if r["status"] == "damaged" else _safe(r["status"])
        table.add_row(_safe(r["run"]), _safe(r["flow"] or ""), status,
                      _safe(str(r["started"] or "")[:19]), str(r["messages"] or ""), size)
    console = _out()
    console.print(table)
    for r in rows:
        if r["problem"]:
            console.print(_safe(r["problem"]) if r["status"] == "damaged" else
                          _safe(f"run {r['run']} is incomplete: {r['problem']}"))
    return EXIT_OK


def _started(run: RunStore) -> datetime.datetime | None:
    """When a run started: from its manifest, or from its id if the manifest is damaged."""
    try:
        return datetime.datetime.fromisoformat(run.manifest()["started"])
    except DamagedRunError:
        pass
    try:
        return datetime.datetime.strptime(run.id[:15], "%Y%m%d-%H%M%S").replace(
            tzinfo=datetime.UTC)
    except ValueError:
        return None


def _delete(run: RunStore, root: Path) -> str:
    """Delete one run folder, never anything outside the runs folder; say what was done.

    A run folder that is a symbolic link is unlinked: the link goes, what it points at stays.
    """
    folder = run.folder
    if folder.is_symlink():
        target = folder.readlink()
        folder.unlink()
        return (f"{run.id} (a symbolic link to {target}: the link was removed, "
                "its target left alone)")
    if folder.resolve().parent != root.resolve():
        msg = f"{folder} is not inside {root}; not deleted"
        raise OSError(msg)
    shutil.rmtree(folder)
    return run.id


def _prune(args: argparse.Namespace, runs: list[RunStore]) -> int:
    if args.older_than is None and args.keep is None:
        raise UsageError("runs prune needs --older-than DAYS or --keep N")  # noqa: EM101
    if (args.keep is not None and args.keep < 0) or (args.older_than is not None
                                                     and args.older_than < 0):
        raise UsageError("--keep and --older-than take numbers of 0 or more")  # noqa: EM101
    doomed: list[RunStore] = []
    unknown: list[RunStore] = []
    if args.keep is not None:
        doomed += runs[:max(0, len(runs) - args.keep)]
    if args.older_than is not None:
        limit = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=args.older_than)
        for run in runs:
            started = _started(run)
            if started is None:
                unknown.append(run)
            elif started < limit and run not in doomed:
                doomed.append(run)
    root = runs_root(workspace_of(args))
    deleted, failed = [], []
    for run in doomed:
        try:
            deleted.append(_delete(run, root))
        except OSError as exc:
            failed.append(f"{run.id}: {exc.strerror or exc}")
    if args.json:
        answer: dict[str, list[str]] = {"deleted": [d.split(" ", 1)[0] for d in deleted]}
        if failed:
            answer["failed"] = failed
        if unknown:
            answer["age_unknown"] = [r.id for r in unknown]
        print(json.dumps(answer))
    else:
        print(plain(f"deleted {len(deleted)} run(s)" + "".join(f"\n  {d}" for d in deleted)))
        for run in unknown:
            print(plain(f"kept {run.id}: its start time cannot be read"), file=sys.stderr)
    for line in failed:
        print(plain(f"edgewise runs: could not delete {line}"), file=sys.stderr)
    return EXIT_ERRORS if failed else EXIT_OK
