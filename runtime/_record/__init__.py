"""Recorded runs: keep a run on disk, then query its lineage, replay it, and compare runs.

A host keeps a run with ``record_run(run, workspace)`` before starting it; the engine's
``run_ended`` hook finishes the recording. ``runtime._api`` knows nothing of this package.
Everything a reader of kept runs needs is importable from here.
"""

from runtime._record.diff import (
    PSI_BINS,
    compare_replay,
    diff_runs,
    ks_test,
    numeric_values,
    psi,
    run_edges,
)
from runtime._record.health import DamagedRunError
from runtime._record.identity import flow_hash, new_run_id
from runtime._record.index import MessageInfo
from runtime._record.keeping import StoragePolicy
from runtime._record.lineage import Lineage, Step, scorer
from runtime._record.recorder import Recorder, record_run
from runtime._record.replay import (
    ReplayPlan,
    ReplayRefusedError,
    plan_replay,
    replay,
    run_replay,
    stored_flow_problem,
)
from runtime._record.safeload import UnsafeModelError, dump_model, load_model, refused_types
from runtime._record.store import RunStore, list_runs, runs_root

__all__ = ["PSI_BINS", "DamagedRunError", "Lineage", "MessageInfo", "Recorder", "ReplayPlan",
           "ReplayRefusedError", "RunStore", "Step", "StoragePolicy", "UnsafeModelError",
           "compare_replay", "diff_runs", "dump_model", "flow_hash", "ks_test", "list_runs",
           "load_model", "new_run_id", "numeric_values", "plan_replay", "psi", "record_run",
           "refused_types", "replay", "run_edges", "run_replay", "runs_root", "scorer",
           "stored_flow_problem"]
