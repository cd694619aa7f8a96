"""The face for run-store readers: kept runs, their lineage, diffs and replays.

A run kept with ``runtime.record_run`` (or ``edgewise run --record``) lives under the
workspace's ``.edgewise/runs``. Everything needed to list those runs, read what flowed on
each edge, answer the audit questions (which model scored this record, which records
trained this model, why did the output change) and replay part of a run is here.
"""

from runtime._decisions import run_decisions
from runtime._record import (
    PSI_BINS,
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
    ks_test,
    list_runs,
    new_run_id,
    numeric_values,
    plan_replay,
    psi,
    replay,
    run_edges,
    run_replay,
    runs_root,
    scorer,
    stored_flow_problem,
)
from runtime._trace_render import TraceLine, render_trace

__all__ = [
    "PSI_BINS",
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
    "ks_test",
    "list_runs",
    "new_run_id",
    "numeric_values",
    "plan_replay",
    "psi",
    "render_trace",
    "replay",
    "run_decisions",
    "run_edges",
    "run_replay",
    "runs_root",
    "scorer",
    "stored_flow_problem",
]
