"""The local engine: a thin asyncio driver over the firing rule, one task per fused chain.

The firing rule itself (joins, fast path, end, containment, lineage) lives in
``runtime._firing``; source pumping in ``runtime._sources``; which nodes run together in
``runtime._fusion``; the task that runs one chain in ``runtime._chain``. This module wires
the tasks of a plan together and runs them to their end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from runtime._chain import ChainTask, Stage
from runtime._delivery import FeedbackEdge, until_done
from runtime._engine import Engine, NodeResult, RunOptions, RunResult, RunStatus
from runtime._firing import FailFast
from runtime._fusion import chains
from runtime._graph import Plan
from runtime._hooks import Hooks
from runtime._messages import Batch
from runtime._quiet import Quiet
from runtime._schedule import rule_for
from runtime._shared import Shared
from runtime._taken import taken_order

MakeTask = Callable[[list[Stage], Shared], ChainTask]


def _build(plan: Plan, shared: Shared, groups: list[list[str]],
           make: MakeTask = ChainTask) -> tuple[list[ChainTask], dict[str, Stage]]:
    """One task per chain (made by ``make``), with every stage's targets wired."""
    schedule = shared.options.schedule
    stages = {nid: Stage(rule_for(plan.nodes[nid], shared.context, schedule))
              for nid in plan.order}
    tasks: list[ChainTask] = []
    task_of: dict[str, ChainTask] = {}
    for group in groups:
        task = make([stages[nid] for nid in group], shared)
        tasks.append(task)
        task_of[group[0]] = task
        for upstream in group[:-1]:  # its one edge goes to the next node of the chain
            stages[upstream].link = next((port, dport) for port, edges in
                                         plan.nodes[upstream].outgoing.items()
                                         for _eid, _dst, dport in edges)
    for nid, stage in stages.items():
        link = stage.link
        for port, edges in plan.nodes[nid].outgoing.items():
            stage.targets[port] = [
                (eid, None if link is not None else task_of[dst], dport)
                for eid, dst, dport in edges]
            for eid, dst, _dport in edges:
                shared.edge_counts[eid] = 0
                if eid in plan.feedback:
                    shared.feedback[eid] = FeedbackEdge(task_of[dst])
    # A replay's schedule may hold a consumer back until the run goes quiet, which a source
    # lent to it would never let happen: a replay keeps each source in a thread of its own.
    lent: set[ChainTask] = set()  # consumers reading a source already (one each)
    for task in tasks if shared.options.fuse and schedule is None else ():
        _lend(plan, task, lent)
    return tasks, stages


def _undone(task: ChainTask) -> int:
    """Messages a chain received but had not handled: at work, in its inbox, or waiting."""
    queued = getattr(task.inbox, "_queue", ())
    return (task.in_flight + task.stranded
            + sum(len(b.values) for _p, b in queued if isinstance(b, Batch))
            + sum(len(q) for s in task.stages for q in s.rule.pending.values()))


def _lend(plan: Plan, task: ChainTask, lent: set[ChainTask]) -> None:
    """Have a threaded source read by the node it feeds (see ``runtime._feeding``).

    It is when the source's one edge goes to a stream input of a threaded chain's head.
    """
    pn = task.head.pn
    if pn.incoming or not pn.spec.threaded or len(task.stages) != 1:
        return
    targets = [t for ts in task.stages[0].targets.values() for t in ts]
    if len(targets) != 1 or targets[0][0] in plan.feedback:
        return
    _edge, consumer, port = targets[0]
    if (consumer is None or not consumer.threaded or consumer in lent
            or port not in consumer.head.pending):
        return
    lent.add(consumer)
    task.fed_by = consumer
    task.fed_ports = (port, next(p for p, ts in task.stages[0].targets.items() if ts))


class LocalEngine(Engine):
    """Runs a flow in this process on asyncio, with worker threads for heavy components."""

    name = "local"

    def build(self, plan: Plan, shared: Shared) -> tuple[list[ChainTask], dict[str, Stage]]:
        """The plan's tasks, one per chain, wired; another engine makes tasks of its own."""
        return _build(plan, shared, chains(plan, fuse=shared.options.fuse))

    def cut_short(self) -> None:
        """The run stops or aborts, and its tasks are about to be cancelled.

        Nothing to do here: the tasks' work is in this process. An engine whose work runs
        elsewhere ends it there (``RayEngine`` kills the hosts at work).
        """

    async def execute(self, plan: Plan, hooks: Hooks, options: RunOptions,
                      stop: asyncio.Event, drain: asyncio.Event | None = None) -> RunResult:
        """Run every node to its end, or until ``stop`` is set or --fail-fast trips.

        When ``drain`` is set, sources end at their next slice and what is in flight flows
        on; a stop cuts that short, and ``undone`` counts what each node had not handled.
        """
        shared = Shared(hooks, options, drain)
        tasks, stages = self.build(plan, shared)
        started = time.perf_counter()
        status: RunStatus = "ok"
        if options.schedule is not None:
            shared.quiet = Quiet(tasks, shared.feedback)
        running = [asyncio.create_task(t.run(), name=f"node:{t.head.id}") for t in tasks]
        if shared.quiet is not None:
            for task in running:
                task.add_done_callback(shared.quiet.ended)
        stopper = asyncio.create_task(stop.wait(), name="stop")
        finished = asyncio.ensure_future(until_done(running))
        try:
            done, _ = await asyncio.wait({finished, stopper},
                                         return_when=asyncio.FIRST_COMPLETED)
            failed = finished.result() if finished in done else None
            shared.stopping = stopper in done or failed is not None
            if shared.stopping:
                self.cut_short()
            if stopper in done:
                status = "stopped"
            elif failed is not None:
                exc = failed.exception()
                if not isinstance(exc, FailFast):
                    raise exc  # type: ignore[misc]  # a bug in the engine: let it show
                status = "aborted"
        finally:
            stopper.cancel()
            finished.cancel()
            for task in running:
                task.cancel()
            for edge in shared.feedback.values():
                edge.cancel()
            await asyncio.gather(*running, stopper, finished, return_exceptions=True)
        # counted once the work under way has finished and reported what it did
        undone = ({t.head.id: n for t in tasks if (n := _undone(t))} if status == "stopped"
                  else {})
        if status == "ok" and any(s.rule.errors for s in stages.values()):
            status = "errors"
        cut_short = status in ("stopped", "aborted")
        nodes = {nid: NodeResult(fired=s.rule.fired, errors=s.rule.errors,
                                 state="stopped" if cut_short and s.state in ("idle", "running")
                                 else s.state, taken=taken_order(s.rule))
                 for nid, s in stages.items()}
        result = RunResult(status=status, nodes=nodes, edges=dict(shared.edge_counts),
                           seconds=time.perf_counter() - started,
                           first_error=shared.context.first_error,
                           messages=sum(shared.edge_counts.values()), undone=undone)
        hooks.call("run_ended", result)
        return result
