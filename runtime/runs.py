"""The face for run-store readers: kept runs, their lineage, diffs and replays.

A run recorded with ``Run.record`` (or ``edgewise run --record``) is kept under the
workspace's ``.edgewise/runs``. Everything needed to list those runs, read what flowed on each
edge, answer the audit questions (which model scored this record, which records trained this
model, why did the output change) and replay part of a run is here.
"""

from runtime.record import MessageInfo, Recorder, RunStore, StoragePolicy, list_runs
from runtime.record.diff import diff_runs, run_edges
from runtime.record.lineage import Lineage, scorer
from runtime.record.replay import ReplayPlan, ReplayRefusedError, plan_replay, replay, run_replay

__all__ = [
    "Lineage",
    "MessageInfo",
    "Recorder",
    "ReplayPlan",
    "ReplayRefusedError",
    "RunStore",
    "StoragePolicy",
    "diff_runs",
    "list_runs",
    "plan_replay",
    "replay",
    "run_edges",
    "run_replay",
    "scorer",
]
