"""The engine interface, and the result of a run that every engine returns."""

from __future__ import annotations

import abc
import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from runtime._graph import Plan
from runtime._hooks import Hooks
from runtime._messages import ErrorRecord

if TYPE_CHECKING:
    from runtime._schedule import LatestSchedule

RunStatus = Literal["ok", "errors", "aborted", "stopped"]


@dataclass
class NodeResult:
    """What one node did in a run."""

    fired: int = 0
    errors: int = 0
    state: str = "idle"
    # a recorded node fed by several stream edges: the order it took their messages in, as
    # runs of (origin, first position, count) (``runtime._taken``); a replay follows it
    taken: list[tuple[str, int, int]] | None = None


@dataclass
class RunResult:
    """The outcome of a run: its status and the counts for each node and edge."""

    status: RunStatus
    nodes: dict[str, NodeResult]
    edges: dict[str, int]
    seconds: float
    first_error: ErrorRecord | None = None
    messages: int = 0
    # A run stopped before its end: per node, the messages it had received but not handled.
    undone: dict[str, int] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 when every firing succeeded; 1 when some failed or the run was cut short."""
        return 0 if self.status == "ok" else 1

    def to_json(self) -> dict[str, Any]:
        """The summary that ``edgewise run --json`` prints as its last line."""
        return {
            "status": self.status,
            "nodes": {n: {"fired": r.fired, "errors": r.errors} for n, r in self.nodes.items()},
            "edges": {e: {"count": c} for e, c in self.edges.items()},
            "seconds": round(self.seconds, 6),
        }


@dataclass
class RunOptions:
    """How to run a plan."""

    fail_fast: bool = False
    # The most plain messages a source hands over at once (a slice also ends after
    # source_slice_seconds, and frames at MAX_BATCH_ROWS rows): larger batches cost less
    # per message to run, observe and record.
    batch_size: int = 4096
    queue_batches: int = 4
    source_slice_seconds: float = 0.05
    # Run chains of single-input, single-consumer nodes as one task (see runtime._fusion).
    fuse: bool = True
    # The kept run's id, set by the recorder; components see it in ``call_context()``.
    run_id: str | None = None
    # A replay's: which latest message each stream message fires with, and in which order
    # a node takes messages from several stream edges (runtime._schedule).
    schedule: LatestSchedule | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Engine(abc.ABC):
    """Runs a checked plan with the firing rule, lineage and error semantics of Edgewise.

    Every engine calls the hooks in ``runtime._hooks`` and honours ``stop``; a later engine
    (Ray actors) must give the same results as the local one for the same flow, which it
    does by driving the same ``runtime._firing.FiringRule`` for each node (and
    ``runtime._sources`` for its sources) instead of writing the rule again.
    """

    name: str = "engine"

    @abc.abstractmethod
    async def execute(self, plan: Plan, hooks: Hooks, options: RunOptions,
                      stop: asyncio.Event, drain: asyncio.Event | None = None) -> RunResult:
        """Run the plan to its end (or until ``stop`` is set) and return the result.

        When ``drain`` is set, every source ends at its next slice (its iterator is
        closed), and the messages already in flight flow on to the end as usual.
        """
