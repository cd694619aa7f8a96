"""The face for engine writers: what an engine needs to run a plan the way every engine must.

An engine turns a validated ``Plan`` into a ``RunResult``. The local engine
(``LocalEngine``) is the reference: a thin asyncio driver over ``FiringRule``, the
engine-neutral firing rule (the input join, the fast path, end of stream, containment,
lineage). ``RayEngine`` gives the same results by driving the same rule in Ray actors, pumping
sources with the same functions and firing the same hooks (Ray is imported only when
a run asks for it: ``pip install 'edgewise[ray]'``). Flow hosts do not need this
module: ``runtime.run_flow`` and ``runtime.Run`` pick the engine.
"""

from runtime._collector import Collector, Outputs, RunContext
from runtime._engine import Engine, NodeResult, RunOptions, RunResult
from runtime._firing import FailFast, FiringRule
from runtime._fusion import chains
from runtime._graph import PATH_KEY, Plan
from runtime._hooks import HOOK_NAMES, Hooks
from runtime._local import LocalEngine
from runtime._messages import END, Batch, Envelope, ErrorRecord
from runtime._previews import is_model
from runtime._ray_engine import EngineUnavailable, RayEngine
from runtime._sources import MAX_BATCH_ROWS, first_call, pull, start_failed
from runtime._taps import LiveStats, Snapshot

__all__ = [
    "END",
    "HOOK_NAMES",
    "MAX_BATCH_ROWS",
    "PATH_KEY",
    "Batch",
    "Collector",
    "Engine",
    "EngineUnavailable",
    "Envelope",
    "ErrorRecord",
    "FailFast",
    "FiringRule",
    "Hooks",
    "LiveStats",
    "LocalEngine",
    "NodeResult",
    "Outputs",
    "Plan",
    "RunContext",
    "RunOptions",
    "RayEngine",
    "RunResult",
    "Snapshot",
    "chains",
    "first_call",
    "is_model",
    "pull",
    "start_failed",
]
