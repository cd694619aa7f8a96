"""Firing rules that follow a replay's schedule: the record's latest values, the record's order.

An ordinary run fires a stream message with whatever its ``latest`` inputs hold when it
arrives, so which rows a new model answers depends on timing. A replay knows, from the
record, which latest message each recorded call used, and hands that to the engine as a
:class:`LatestSchedule`: "from message 19 of ``pace.data`` on, fire with message 1 of
``supervisor.champion``" (:class:`ScheduledRule`). Likewise a node that takes messages one
by one from several stream edges takes them in the recorded order (:class:`OrderedRule`).
Messages are named by their output port and position there (:data:`Name`), since a
replay's message ids differ from the record's. Both are kept in runs, not per message: a
latest value changes seldom, and consecutive messages often come from one port.

A scheduled node holds a stream message back until the named value has arrived, even when
it comes on a feedback edge from a live loop; the node stays open meanwhile. If the run goes
quiet first (``runtime._quiet``), the engine puts :data:`GIVE_UP` in the node's inbox, and the
messages waiting on a value that never came end as one error record per value, naming it.
Nodes without a schedule use the plain :class:`~runtime._firing.FiringRule`, at no cost.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from runtime._collector import Collector, Outputs, RunContext
from runtime._firing import FiringRule
from runtime._graph import PlanNode
from runtime._messages import Batch, Envelope
from runtime._spec import UNPAIRED_TAG
from runtime._taken import NotingRule, TakenLog, merges_streams

Name = tuple[str, int]  # a message: the output port that made it, and its position there
GIVE_UP_PORT = "\0give up"  # not a port name a component can have
GIVE_UP = Batch(GIVE_UP_PORT, (), (), [])  # the run went quiet: stop waiting


class ReplayDivergedError(RuntimeError):
    """A replayed node waited for a message the record names, which the run never made."""


@dataclass
class NodeSchedule:
    """Which latest message each stream message of one node fires with."""

    # stream origin -> [(first position, {latest input port: the message it fires with})],
    # by position: each applies up to the next ({} for "whatever the input holds")
    calls: dict[str, list[tuple[int, dict[str, Name]]]] = field(default_factory=dict)
    # an origin of this run -> the origin of the recorded run it stands for (for messages)
    shown: dict[str, str] = field(default_factory=dict)
    # the order in which the node took its stream messages, when several edges bring them:
    # runs of (origin, first position, count)
    order: list[tuple[str, int, int]] = field(default_factory=list)


@dataclass
class LatestSchedule:
    """The schedules of a run's nodes, by node id (from ``runtime._record.schedule``)."""

    nodes: dict[str, NodeSchedule]


def rule_for(pn: PlanNode, context: RunContext,
             schedule: LatestSchedule | None) -> FiringRule:
    """The firing rule of one node: a scheduled one if ``schedule`` has calls for it.

    In a recorded run, a node fed by several stream edges notes the order it took their
    messages in (``runtime._taken``), which its replay follows.
    """
    node = schedule.nodes.get(pn.id) if schedule is not None else None
    if node is not None and node.calls and UNPAIRED_TAG not in pn.spec.tags:
        rule = ScheduledRule(pn, context, node)
        if rule.stream_ports and rule.latest_ports:
            return rule
    if node is not None and node.order:
        return OrderedRule(pn, context, node.order)
    if context.run_id is not None and merges_streams(pn):
        return NotingRule(pn, context)
    return FiringRule(pn, context)


class ScheduledRule(FiringRule):
    """Fires each stream message with the latest values its schedule names, in order."""

    def __init__(self, pn: PlanNode, context: RunContext, schedule: NodeSchedule) -> None:
        super().__init__(pn, context)
        self.fast = False
        self.calls = {origin: ([start for start, _need in runs], [need for _s, need in runs])
                      for origin, runs in schedule.calls.items()}
        self.shown = schedule.shown
        self.needed: dict[str, set[Name]] = {p: set() for p in self.latest_ports}
        for runs in schedule.calls.values():
            for _start, need in runs:
                for port, name in need.items():
                    self.needed.setdefault(port, set()).add(name)
        self.held: dict[str, dict[Name, Envelope]] = {p: {} for p in self.latest_ports}
        self.seen: dict[str, int] = {}  # origin -> messages received from it
        self.needs: dict[int, dict[str, Name]] = {}  # id of a waiting message -> its values
        self.abandoned: set[Name] = set()

    def process(self, items: Sequence[tuple[str, Batch]]) -> Outputs:
        """Handle a run of ``(input port, Batch)`` items, firing what its schedule allows."""
        out = Collector()
        for port, batch in items:
            if port == GIVE_UP_PORT:
                self.abandoned |= self._missing(everyone=True)
                continue
            if self.track:
                self._consume_ids(batch.ids)
            first = self.seen.get(batch.origin, 0)
            self.seen[batch.origin] = first + len(batch)
            if port in self.pending:
                self._schedule(batch, first)
                self.pending[port].extend(batch)
            elif len(batch):
                needed, held = self.needed.get(port, set()), self.held.setdefault(port, {})
                for index in range(len(batch)):
                    if (batch.origin, first + index) in needed:
                        held[(batch.origin, first + index)] = batch.envelope(index)
                self.latest[port] = batch.envelope(len(batch) - 1)
        self._fire_ready(out)
        return self.batches(out)

    def _schedule(self, batch: Batch, first: int) -> None:
        """Note the values the schedule names for each stream message of ``batch``."""
        runs = self.calls.get(batch.origin)
        if runs is None:
            return
        starts, needs = runs
        for index, message_id in enumerate(batch.ids):
            at = bisect_right(starts, first + index) - 1
            if at >= 0 and needs[at]:
                self.needs[message_id] = needs[at]

    def _need(self, heads: list[Envelope]) -> dict[str, Name]:
        """The latest messages the schedule names for the next call, if it names any."""
        for env in heads:
            need = self.needs.get(env.id)
            if need is not None:
                return need
        return {}

    def _missing(self, *, everyone: bool = False) -> set[Name]:
        """Named values not here yet that the next waiting message (or any) fires with."""
        queues = [q for q in self.pending.values() if q]
        if len(queues) < len(self.stream_ports) and not everyone:
            return set()
        rows = zip(*queues, strict=False) if everyone else [tuple(q[0] for q in queues)]
        return {name for heads in rows for port, name in self._need(list(heads)).items()
                if name not in self.held.get(port, {}) and name not in self.abandoned}

    @property
    def held_open(self) -> bool:
        """Whether the next stream message waits for a value its schedule names."""
        return bool(self._missing())

    def _fire_ready(self, out: Collector) -> None:
        pending = self.pending
        never: dict[tuple[str, Name], list[int]] = {}
        while all(pending[p] for p in self.stream_ports):
            heads = [pending[p][0] for p in self.stream_ports]
            need = self._need(heads)
            chosen: dict[str, Envelope] = {}
            lost: tuple[str, Name] | None = None
            for port in self.latest_ports:
                name = need.get(port)
                env = self.held[port].get(name) if name else self.latest.get(port)
                if env is None and name in self.abandoned:
                    lost = (port, name)
                elif env is not None:
                    chosen[port] = env
                elif name is not None or port in self.awaited:
                    break  # wait for it (a latest input that does not wait gets None)
            else:
                envs = {p: pending[p].popleft() for p in self.stream_ports}
                for env in envs.values():
                    self.needs.pop(env.id, None)
                if lost is not None:
                    never.setdefault(lost, []).extend(e.id for e in envs.values())
                    continue
                kwargs = dict.fromkeys(self.defaults)
                kwargs.update({p: e.value for p, e in {**envs, **chosen}.items()})
                envs.update(chosen)
                parents = next(iter(envs.values())).id if len(envs) == 1 else tuple(
                    e.id for e in envs.values())
                self._call(kwargs, parents, out, envs)
                continue
            break
        for (port, (origin, position)), ids in never.items():
            shown = self.shown.get(origin, origin)
            error = ReplayDivergedError(
                f"the replay expected message {position + 1} of {shown} on input '{port}', "
                f"which the live loop never produced, so {len(ids)} message(s) that the "
                "recorded run answered with it were not processed; the replay went "
                "otherwise than the record from there (compare the two runs with "
                "`edgewise diff`)")
            self.fail(error, tuple(ids), out)

    def finish(self) -> Outputs:
        """End: messages still waiting for a named value give error records, then as usual."""
        out = Collector()
        self.abandoned |= self._missing(everyone=True)
        self._fire_ready(out)
        return _joined(self.batches(out), super().finish())


def _joined(first: Outputs, then: Outputs) -> Outputs:
    """One node's outputs of two steps as one, ``first``'s messages before ``then``'s."""
    for port, batch in then.items():
        before = first.get(port)
        first[port] = batch if before is None else Batch(
            batch.origin, [*before.ids, *batch.ids], [*before.parents, *batch.parents],
            before.values + batch.values)
    return first


class OrderedRule(FiringRule):
    """Takes its stream messages in the order the record names, whatever order they come in.

    A node fed by several stream edges (a join of predictions and later labels) takes their
    messages as they arrive, so what it emits, and when, depends on timing. A replay
    names the order the recorded node took them in (``runtime._taken``); a message that
    comes early waits for those before it. When the streams end, or the run goes quiet
    first, what waits is taken in that order. The order this rule takes them in is noted
    in turn, so that a replay of the replay follows it too.
    """

    def __init__(self, pn: PlanNode, context: RunContext,
                 order: list[tuple[str, int, int]]) -> None:
        super().__init__(pn, context)
        # origin -> (first positions, their ranks, counts) of its runs, by position
        self.runs: dict[str, tuple[list[int], list[int], list[int]]] = {}
        rank = 0
        for origin, start, count in order:
            starts, ranks, counts = self.runs.setdefault(origin, ([], [], []))
            starts.append(start)
            ranks.append(rank)
            counts.append(count)
            rank += count
        for starts, ranks, counts in self.runs.values():  # by position, as bisect needs
            ordered = sorted(zip(starts, ranks, counts, strict=True))
            starts[:] = [s for s, _r, _c in ordered]
            ranks[:] = [r for _s, r, _c in ordered]
            counts[:] = [c for _s, _r, c in ordered]
        self.due = 0
        self.early: dict[int, tuple[str, Batch]] = {}  # rank -> (port, one message)
        self.seen: dict[str, int] = {}
        self.released = False
        self.taken = TakenLog()

    def _take(self, items: list[tuple[str, Batch]]) -> Outputs:
        """Handle ``items`` in their turn as the plain rule does, noting their order."""
        items = _coalesced(items)
        self.taken.note_items(items, self.pending)
        return super().process(items)

    def process(self, items: Sequence[tuple[str, Batch]]) -> Outputs:
        """Handle a run of ``(input port, Batch)`` items, each message in its recorded turn."""
        ready: list[tuple[str, Batch]] = []
        for port, batch in items:
            if port == GIVE_UP_PORT:
                self.released = True
            elif port not in self.pending:
                ready.append((port, batch))
            else:
                first = self.seen.get(batch.origin, 0)
                self.seen[batch.origin] = first + len(batch)
                for index in range(len(batch)):
                    one = Batch(batch.origin, [batch.ids[index]], [batch.parents[index]],
                                [batch.values[index]])
                    rank = self._rank(batch.origin, first + index)
                    if rank is None or rank < self.due:
                        ready.append((port, one))
                    else:
                        self.early[rank] = (port, one)
            ready.extend(self._due())
        return self._take(ready) if ready else {}

    def _rank(self, origin: str, position: int) -> int | None:
        """Where a message comes in the recorded order, or None if the record had none."""
        runs = self.runs.get(origin)
        if runs is None:
            return None
        starts, ranks, counts = runs
        at = bisect_right(starts, position) - 1
        if at < 0 or position >= starts[at] + counts[at]:
            return None
        return ranks[at] + position - starts[at]

    def _due(self) -> list[tuple[str, Batch]]:
        """The waiting messages whose turn has come (all of them once released)."""
        if self.released:
            taken = [self.early[rank] for rank in sorted(self.early)]
            self.early.clear()
            return taken
        taken = []
        while self.due in self.early:
            taken.append(self.early.pop(self.due))
            self.due += 1
        return taken

    @property
    def held_open(self) -> bool:
        """Whether messages wait for one that comes before them in the record."""
        return bool(self.early) and not self.released

    def finish(self) -> Outputs:
        """The streams ended: take what still waits, in order, then end as usual."""
        self.released = True
        waiting = self._due()
        return _joined(self._take(waiting) if waiting else {}, super().finish())


def _coalesced(items: list[tuple[str, Batch]]) -> list[tuple[str, Batch]]:
    """Neighbouring items of one port and origin as one batch (fewer, larger firings)."""
    runs: list[tuple[str, str, list[int], list[Any], list[Any]]] = []
    for port, batch in items:
        if not runs or runs[-1][0] != port or runs[-1][1] != batch.origin:
            runs.append((port, batch.origin, [], [], []))
        runs[-1][2].extend(batch.ids)
        runs[-1][3].extend(batch.parents)
        runs[-1][4].extend(batch.values)
    return [(port, Batch(origin, ids, parents, values))
            for port, origin, ids, parents, values in runs]
