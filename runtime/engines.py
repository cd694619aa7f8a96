"""The face for engine writers: what an engine needs to run a plan the way every engine must.

An engine turns a validated ``Plan`` into a ``RunResult``. The local engine
(``LocalEngine``) is the reference; another engine (Ray) gives the same results by driving
the same firing rule and firing the same hooks. Flow hosts do not need this module:
``runtime.run_flow`` picks the engine.
"""

from runtime.engine import Engine, NodeResult, RunOptions, RunResult
from runtime.graph import PATH_KEY, Plan
from runtime.hooks import HOOK_NAMES, Hooks
from runtime.local import LocalEngine
from runtime.messages import END, Batch, Envelope, ErrorRecord
from runtime.taps import LiveStats, Snapshot

__all__ = [
    "END",
    "HOOK_NAMES",
    "PATH_KEY",
    "Batch",
    "Engine",
    "Envelope",
    "ErrorRecord",
    "Hooks",
    "LiveStats",
    "LocalEngine",
    "NodeResult",
    "Plan",
    "RunOptions",
    "RunResult",
    "Snapshot",
]
