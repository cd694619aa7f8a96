"""The face for run-store readers: kept runs, their lineage, diffs and replays.

A run kept with ``runtime.record_run`` (or ``edgewise run --record``) lives under the
workspace's ``.edgewise/runs``. Everything needed to list those runs, read what flowed on
each edge, answer the audit questions (which model scored this record, which records
trained this model, why did the output change) and replay part of a run is here.
"""

from runtime._record import (
    DamagedRunError,
    Lineage,
    MessageInfo,
    ReplayPlan,
    ReplayRefusedError,
    RunStore,
    Step,
    compare_replay,
    diff_runs,
    flow_hash,
    list_runs,
    new_run_id,
    plan_replay,
    replay,
    run_edges,
    run_replay,
    runs_root,
    scorer,
    stored_flow_problem,
)
from runtime._trace_render import TraceLine, render_trace

__all__ = [
    "DamagedRunError",
    "Lineage",
    "MessageInfo",
    "ReplayPlan",
    "ReplayRefusedError",
    "RunStore",
    "Step",
    "TraceLine",
    "compare_replay",
    "diff_runs",
    "flow_hash",
    "list_runs",
    "new_run_id",
    "plan_replay",
    "render_trace",
    "replay",
    "run_edges",
    "run_replay",
    "runs_root",
    "scorer",
    "stored_flow_problem",
]
