"""Recorded runs: keep a run on disk, then query its lineage, replay it, and compare runs."""

from runtime.record.encoding import flow_hash, new_run_id
from runtime.record.health import DamagedRunError
from runtime.record.recorder import Recorder, StoragePolicy
from runtime.record.store import MessageInfo, RunStore, list_runs, runs_root

__all__ = ["DamagedRunError", "MessageInfo", "Recorder", "RunStore", "StoragePolicy", "flow_hash",
           "list_runs", "new_run_id", "runs_root"]
