"""The manifest a recorder writes: the flow, versions and times, then how the run ended.

Readers check its shape with ``runtime._record.health.check_manifest``.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Any

from runtime._engine import RunResult
from runtime._graph import Plan
from runtime._record.health import this_process
from runtime._record.identity import flow_hash, versions


def started_fields(run_id: str, plan: Plan, flow: dict[str, Any], started: float,
                   policy: dict[str, Any]) -> dict[str, Any]:
    """What the manifest says from the start: the run, its flow, versions and process."""
    return {
        "run": run_id,
        "status": "running",
        "flow": flow,
        "flow_hash": flow_hash(flow),
        "base_dir": str(plan.base_dir),
        "versions": dict(versions()),
        "started": datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat(),
        "ended": None,
        "policy": policy,
        "process": this_process(),
    }


def ended_fields(result: RunResult) -> dict[str, Any]:
    """What the manifest adds when the run ends: time, and what each node and edge did."""
    fields: dict[str, Any] = {
        "ended": datetime.datetime.now(datetime.UTC).isoformat(),
        "seconds": round(result.seconds, 6),
        "nodes": {n: {"fired": r.fired, "errors": r.errors, "state": r.state,
                      **({"taken": [list(run) for run in r.taken]} if r.taken else {})}
                  for n, r in result.nodes.items()},
        "edges": {e: {"count": c} for e, c in result.edges.items()},
    }
    if result.first_error is not None:
        fields["first_error"] = result.first_error.to_json()
    return fields


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` whole under a temporary name, then rename it into place."""
    path = folder / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    try:
        tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def folder_bytes(folder: Path) -> int:
    """The bytes of every file under a folder."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
