"""Recorded runs: keep a run on disk, then query its lineage, replay it, and compare runs.

A host keeps a run with ``record_run(run, workspace)`` before starting it; the engine's
``run_ended`` hook finishes the recording. ``runtime.api`` knows nothing of this package.
"""

from runtime.record.health import DamagedRunError
from runtime.record.identity import flow_hash, new_run_id
from runtime.record.keeping import StoragePolicy
from runtime.record.recorder import Recorder, record_run
from runtime.record.store import MessageInfo, RunStore, list_runs, runs_root

__all__ = ["DamagedRunError", "MessageInfo", "Recorder", "RunStore", "StoragePolicy", "flow_hash",
           "list_runs", "new_run_id", "record_run", "runs_root"]
