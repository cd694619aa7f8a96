"""What each replayed call's ``latest`` inputs held in the record, as a schedule for the engine.

Which model answered which rows depends on when the model reached the scorer; the record
keeps it, because every message keeps its parents: the inputs of the call that made it. A
call of a node with stream and latest inputs has one parent per input, so its outputs'
parents say which latest message each stream message was fired with. This module reads
that into a :class:`~runtime._schedule.LatestSchedule`, naming every message by its port
and position (ids differ from run to run), and the port by what feeds it in the replay: a
stand-in source for a recorded input, the live node itself inside the replayed part. A
value that comes round a loop is then the live loop's, and the scorer waits for it. A node
fed by several stream edges gets the order the recorded node took their messages in, which
the manifest keeps (``runtime._taken``).
"""

from __future__ import annotations

import bisect
import json

from runtime._graph import Plan
from runtime._model import Flow
from runtime._record.store import RunStore
from runtime._schedule import LatestSchedule, Name, NodeSchedule
from runtime._spec import UNPAIRED_TAG
from runtime._taken import merges_streams

# A call has one parent per input; more means a value made from many (``MadeFrom``).
MAX_CALL_PARENTS = 64


def same_part(recorded: Flow, replayed: Flow, part: set[str]) -> bool:
    """Whether the replayed part, and every edge into it, is as recorded (no edit to it)."""
    def shape(flow: Flow) -> tuple[object, ...]:
        nodes = sorted((n.id, n.component, json.dumps(n.params, sort_keys=True, default=str))
                       for n in flow.nodes if n.id in part)
        return tuple(nodes), tuple(sorted(e.id for e in flow.edges if e.target_node in part))

    return shape(recorded) == shape(replayed)


def recorded_schedule(store: RunStore, plan: Plan,
                      stand_ins: dict[str, str]) -> LatestSchedule | None:
    """The schedule of every replayed node with stream and latest inputs, read from ``store``.

    Args:
        store: The recorded run.
        plan: The replay's checked plan.
        stand_ins: A recorded port (``node.port``) -> the port of the replay that emits its
            recorded values.

    Returns:
        The schedule, or None when no call needs one.
    """
    shown = {here: recorded for recorded, here in stand_ins.items()}
    taken = {nid: node.get("taken") for nid, node in
             (store.manifest().get("nodes") or {}).items() if isinstance(node, dict)}
    sources = {e.id: e.source for e in plan.flow.edges}
    nodes: dict[str, NodeSchedule] = {}
    for nid, pn in plan.nodes.items():
        modes = {p: pn.spec.inputs[p].mode for p in pn.incoming}
        streams = {p for p, m in modes.items() if m == "stream"}
        feeds: dict[str, tuple[str, str]] = {}  # recorded port -> (input port, replay port)
        for port, edge_ids in pn.incoming.items():
            for edge_id in edge_ids:
                here = sources[edge_id]
                feeds.setdefault(shown.get(here, here), (port, here))
        unpaired = UNPAIRED_TAG in pn.spec.tags
        calls = _calls(store, nid, feeds, streams) if (
            streams and len(streams) < len(modes) and not unpaired) else {}
        # arrival order matters where several edges bring stream messages to be taken one
        # by one: a join of its own (unpaired), or edges merged into one port
        stream_feeds = {o: f for o, f in feeds.items() if f[0] in streams}
        order = (_taken(taken.get(nid), stream_feeds) or _order(store, stream_feeds)) if (
            merges_streams(pn) and not calls) else []
        if calls or order:
            nodes[nid] = NodeSchedule(calls=calls, shown=shown, order=order)
    return LatestSchedule(nodes) if nodes else None


def _calls(store: RunStore, nid: str, feeds: dict[str, tuple[str, str]],
           stream_ports: set[str]) -> dict[str, list[tuple[int, dict[str, Name]]]]:
    """Per stream port, the latest messages each recorded call used, from its outputs' parents.

    Kept in runs: from a position on, every message fires with the same values. A node
    whose calls all used the only message of each latest input needs no schedule (empty).
    """
    spans = sorted((first, count, origin, position)
                   for origin in feeds for first, count, position in _positions(store, origin))
    starts = [span[0] for span in spans]
    used: dict[str, dict[int, dict[str, Name]]] = {}
    shared: dict[tuple[tuple[str, Name], ...], dict[str, Name]] = {}  # one dict per need
    for origin in store.origins():
        if origin.split(".", 1)[0] != nid:
            continue
        for _message, ranges in store.parents_of_port(origin):
            if sum(b - a for a, b in ranges) > MAX_CALL_PARENTS:
                continue
            streams: list[Name] = []
            latest: dict[str, Name] = {}
            for parent in (i for a, b in ranges for i in range(a, b)):
                at = bisect.bisect_right(starts, parent) - 1
                if at < 0 or parent >= spans[at][0] + spans[at][1]:
                    break  # not an input of this node: a value made from others
                first, _count, recorded, position = spans[at]
                port, here = feeds[recorded]
                if port in stream_ports:
                    streams.append((here, position + parent - first))
                else:
                    latest[port] = (here, position + parent - first)
            else:
                if latest and len(streams) == len(stream_ports):
                    need = shared.setdefault(tuple(sorted(latest.items())), latest)
                    for here, position in streams:
                        used.setdefault(here, {}).setdefault(position, need)
    if len(shared) <= 1 and all(_only_one(store, feeds, port) for need in shared.values()
                                for port in need):
        return {}
    calls: dict[str, list[tuple[int, dict[str, Name]]]] = {}
    for here, by_position in used.items():
        runs = calls.setdefault(here, [])
        for position in sorted(by_position):
            if not runs or runs[-1][1] is not by_position[position]:
                runs.append((position, by_position[position]))
    return calls


def _only_one(store: RunStore, feeds: dict[str, tuple[str, str]], port: str) -> bool:
    """Whether what feeds ``port`` recorded one message in all (a model fed once)."""
    return sum(store.count(origin) for origin, (into, _here) in feeds.items()
               if into == port) == 1


def _taken(runs: object, feeds: dict[str, tuple[str, str]]) -> list[tuple[str, int, int]]:
    """The order the recorded node took its stream messages in, as the replay names them.

    ``runs`` is what the manifest keeps (``runtime._taken``): runs of ``(origin, first
    position, count)``. Empty when the record has none (a run kept before it was noted, or
    one that was killed), or when it names a port that does not feed the node now.
    """
    if not isinstance(runs, list):
        return []
    order: list[tuple[str, int, int]] = []
    for run in runs:
        if not (isinstance(run, list) and len(run) == 3 and run[0] in feeds
                and all(isinstance(n, int) for n in run[1:])):
            return []
        here, first, count = feeds[run[0]][1], run[1], run[2]
        if order and order[-1][0] == here and order[-1][1] + order[-1][2] == first:
            order[-1] = (here, order[-1][1], order[-1][2] + count)
        else:
            order.append((here, first, count))
    return order


def _order(store: RunStore, feeds: dict[str, tuple[str, str]]) -> list[tuple[str, int, int]]:
    """Every recorded stream message into a node, in the order they were made (id order).

    The order of a run kept without the order its nodes took their messages in: as close
    as the record comes, but a message made in a worker thread may have been delivered
    after others made later. As runs of ``(port, first position, count)``: consecutive
    messages of one port.
    """
    spans = sorted((first, count, feeds[origin][1], position)
                   for origin in feeds for first, count, position in _positions(store, origin))
    runs: list[tuple[str, int, int]] = []
    for _first, count, here, position in spans:
        if runs and runs[-1][0] == here and runs[-1][1] + runs[-1][2] == position:
            runs[-1] = (here, runs[-1][1], runs[-1][2] + count)
        else:
            runs.append((here, position, count))
    return runs


def _positions(store: RunStore, origin: str) -> list[tuple[int, int, int]]:
    """``(first id, count, position of the first)`` for each recorded batch of a port."""
    out, position = [], 0
    for first, count in store.spans(origin):
        out.append((first, count, position))
        position += count
    return out
