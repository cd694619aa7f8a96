"""The order in which a node fed by several stream edges took their messages, kept for replay.

A node that takes messages one by one from several stream edges (``ml.monitor``'s
predictions and later labels) computes what it emits from the order they came in, and that
order depends on timing. Message ids do not give it: a node hands out ids when it makes
messages, often in a worker thread that delivers them later (a chain reporting a slice of
work at once), after messages that other nodes made meanwhile. So a recorded run notes the
order as the node takes its messages (:class:`TakenLog`): runs of ``(origin, first
position, count)``, one per stretch of consecutive messages from one output port. The engine
puts it in the node's result (``NodeResult.taken``), the recorder in the manifest
(``nodes.<id>.taken``), and a replay takes the messages in that order
(``runtime._schedule.OrderedRule``).
"""

from __future__ import annotations

from array import array
from collections.abc import Container, Sequence

from runtime._collector import Outputs, RunContext
from runtime._firing import FiringRule
from runtime._graph import PlanNode
from runtime._messages import Batch
from runtime._spec import UNPAIRED_TAG

Taken = list[tuple[str, int, int]]  # runs of (origin, first position, count), in order


def merges_streams(pn: PlanNode) -> bool:
    """Whether a node takes messages one by one from several stream edges.

    That is a node of unpaired stream inputs (a join of its own) fed by more than one
    edge, or a stream input that more than one edge feeds.
    """
    inputs = pn.spec.inputs
    edges = [len(ids) for port, ids in pn.incoming.items() if inputs[port].mode == "stream"]
    return (UNPAIRED_TAG in pn.spec.tags and sum(edges) > 1) or any(n > 1 for n in edges)


class TakenLog:
    """The stream messages a node took, in the order it took them, as runs per origin.

    Each run starts where the last run of its origin ended, so only the origin (by index)
    and the count are kept: two integers a run, in an array, however long the run goes.
    """

    __slots__ = ("origins", "index", "flat")

    def __init__(self) -> None:
        self.origins: list[str] = []
        self.index: dict[str, int] = {}
        self.flat = array("q")  # origin index, count, origin index, count, ...

    def note(self, origin: str, count: int) -> None:
        """The node took the next ``count`` messages of ``origin``."""
        if count <= 0:
            return
        at = self.index.get(origin)
        if at is None:
            at = self.index[origin] = len(self.origins)
            self.origins.append(origin)
        flat = self.flat
        if flat and flat[-2] == at:
            flat[-1] += count
        else:
            flat.extend((at, count))

    def note_items(self, items: Sequence[tuple[str, Batch]], streams: Container[str]) -> None:
        """Note the messages of ``items`` that came on a stream input (in ``streams``)."""
        for port, batch in items:
            if port in streams:
                self.note(batch.origin, len(batch))

    @property
    def runs(self) -> Taken:
        """The runs, as ``(origin, first position, count)``."""
        seen = [0] * len(self.origins)
        runs: Taken = []
        flat = self.flat
        for k in range(0, len(flat), 2):
            at, count = flat[k], flat[k + 1]
            runs.append((self.origins[at], seen[at], count))
            seen[at] += count
        return runs


class NotingRule(FiringRule):
    """The plain firing rule, noting the order in which it takes its stream messages."""

    def __init__(self, pn: PlanNode, context: RunContext) -> None:
        super().__init__(pn, context)
        self.taken = TakenLog()

    def process(self, items: Sequence[tuple[str, Batch]]) -> Outputs:
        """Note the stream messages of ``items``, then handle them as the plain rule does."""
        self.taken.note_items(items, self.pending)
        return super().process(items)


def taken_order(rule: FiringRule) -> Taken | None:
    """The order a rule took its stream messages in, if it noted it and took any."""
    log = getattr(rule, "taken", None)
    return log.runs if isinstance(log, TakenLog) and log.flat else None
