"""The Ray engine: the same flow, its chains run in Ray actors, driven from this process.

The driver (this process) runs the local engine's asyncio tasks, with one change: a
chain's work runs in a Ray actor (``runtime._ray_stage.ChainActor``) instead of in this
process. Sources are pumped here, so files and requests are read where the flow was
started. Every batch comes back through the driver, which calls the hooks (live labels,
the recorder, taps) exactly as the local engine does, then hands it to the next actor.
So results, counts and lineage are the local engine's; only the place of the work moves.

- **Bounded memory:** each chain's inbox holds a few batches, and a chain has one call in
  flight, so a slow stage slows its producers back to the source.
- **Crashes survived:** an actor is restarted by Ray (``max_restarts``); the driver keeps
  each chain's inputs since its last checkpoint, restores the checkpoint in the new
  process and replays those inputs, dropping what they make again, then resends the call
  that failed. Sinks get every message exactly once.
- Ray is imported only here, and only when a run asks for this engine.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from runtime._chain import FEEDBACK_END, ChainTask, InboxItem, Shared, Stage
from runtime._engine import RunOptions, RunResult
from runtime._firing import FailFast
from runtime._fusion import chains
from runtime._graph import Plan, PlanNode
from runtime._hooks import Hooks
from runtime._local import LocalEngine, _build
from runtime._messages import END, Batch
from runtime._ray_slot import Place, RuleView, Slot
from runtime._ray_stage import Host, Reply, Step, ids_base
from runtime._serve.lineage import ANSWER_TAG

RAY_MISSING = "the Ray engine needs Ray, which is not installed: pip install 'edgewise[ray]'"


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here (Ray is not installed, or not reachable)."""


def import_ray() -> ModuleType:
    """Ray, or a one-line error saying how to install it."""
    try:
        import ray  # noqa: PLC0415 - the local engine never imports Ray
    except ImportError as exc:
        raise EngineUnavailable(RAY_MISSING) from exc
    return ray


class GatedInbox(asyncio.Queue[InboxItem]):
    """An inbox that lets no stream batch in before its node has its first latest values.

    The local engine reads a heavy source from its consumer's thread, one message ahead;
    here the source is pumped in the driver, and messages waiting in the host for a value
    (a model, a start signal) would pile up there, then go all at once. So until the values
    came, its producers wait on this inbox; latest values and ends still come in.
    """

    def __init__(self, maxsize: int, streams: set[str]) -> None:
        super().__init__(maxsize)
        self.streams = streams
        self.open = asyncio.Event()
        self.open.set()

    async def put(self, item: InboxItem) -> None:
        """Put an item, a stream batch only while the node is not waiting for a value."""
        if item[0] in self.streams and isinstance(item[1], Batch):
            await self.open.wait()
        await super().put(item)


class RemoteChain(ChainTask):
    """A chain whose work runs in a Ray host; its inbox, hooks and wiring stay here."""

    def __init__(self, stages: list[Stage], shared: Shared, slot: Slot,
                 gated: bool = False) -> None:
        super().__init__(stages, shared)
        self.valued: set[str] = set()  # the latest inputs that have had a value
        if gated:  # closed until every latest input it waits for has had a value
            self.inbox = GatedInbox(self.inbox.maxsize, set(self.head.stream_ports))
            self.inbox.open.clear()
        self.threaded = False  # the host is the other thread: this side only waits
        self._loop = None
        # a heavy node gets a batch a call, as the local engine's lent source gives it one
        # at a time: a paced stream must not hold eight chunks back to send them at once
        self.gather = 1 if self.head.spec.threaded else 64
        self.slots = [slot]

    async def work(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run the chain's start, process, finish or close in its host."""
        method = func.__name__.lstrip("_")
        if method not in ("start", "process", "finish", "close"):
            return await super().work(func, *args)
        replies = await asyncio.gather(*(slot.call(method, args) for slot in self.slots))
        steps = self.take(replies)
        if method == "process":
            self.valued.update(port for port, _batch in args[0])
        if isinstance(self.inbox, GatedInbox) and all(p in self.valued
                                                      for p in self.head.awaited):
            self.inbox.open.set()
        return steps

    def take(self, replies: Sequence[Reply | None]) -> list[Step]:
        """Show the hosts' rules here (counts summed over copies); the steps, in order."""
        context = self.shared.context
        steps: list[Step] = []
        for reply in replies:
            if reply is None:
                continue
            steps += reply.steps
            for stage, state in zip(self.stages, reply.rules, strict=True):
                stage.rule.failures.extend(state.failures)
                if state.failures and context.first_error is None:
                    context.first_error = state.failures[0]
        for index, stage in enumerate(self.stages):
            rule = stage.rule
            states = [slot.rules[index] for slot in self.slots if slot.rules]
            rule.fired = sum(s.fired for s in states)
            rule.errors = sum(s.errors for s in states)
            rule.finished = bool(states) and all(s.finished for s in states)
            if isinstance(rule, RuleView):
                rule.waiting = sum(s.waiting for s in states)
        for reply in replies:
            if reply is not None and reply.fail_fast is not None:
                raise FailFast(reply.fail_fast)
        return steps


class ReplicatedChain(RemoteChain):
    """A stateless node run as several copies: each stream batch goes to a free copy.

    Latest values go to every copy, ahead of its next stream batch, so each call sees
    the values it would have seen on one copy. Outputs are published in input order, or
    as they come (``ordered: false``).
    """

    def __init__(self, stages: list[Stage], shared: Shared, slots: list[Slot],
                 ordered: bool) -> None:
        super().__init__(stages, shared, slots[0])
        self.slots = slots
        self.ordered = ordered
        self.unsent: list[list[tuple[str, Batch]]] = [[] for _ in slots]

    def take(self, replies: Sequence[Reply | None]) -> list[Step]:
        """The copies' steps, their messages numbered here, in the order they are published.

        Each copy numbers its messages from a range of its own; numbered again as they
        go out, a port's messages are in id order as on one copy (kept runs list them so).
        """
        steps = super().take(replies)
        context = self.shared.context
        return [(index, {port: Batch(b.origin, context.alloc(len(b.values)), b.parents,
                                     b.values) for port, b in out.items()}, processed)
                for index, out, processed in steps]

    async def _consume(self) -> None:
        head = self.head
        edges_open = sum(self.open_edges.values())
        free = collections.deque(range(len(self.slots)))
        running: collections.deque[tuple[int, asyncio.Future[Reply | None]]] = (
            collections.deque())
        while edges_open:
            items = [await self.inbox.get()]
            while not self.inbox.empty() and len(items) < 64:
                items.append(self.inbox.get_nowait())
            for port, payload in items:
                if payload is END or payload is FEEDBACK_END:
                    edges_open -= 1
                elif port not in head.pending:  # a latest value: for every copy
                    for unsent in self.unsent:
                        unsent.append((port, payload))
                else:
                    while not free:
                        await self._settle_calls(running, free)
                    self.mark_started(self.stages[0])
                    index = free.popleft()
                    work, self.unsent[index] = [*self.unsent[index], (port, payload)], []
                    running.append((index, asyncio.ensure_future(
                        self.slots[index].call("process", (work,)))))
        while running:
            await self._settle_calls(running, free)
        for index, unsent in enumerate(self.unsent):  # values no stream batch took along
            if unsent:
                await self._publish(self.take([await self.slots[index].call(
                    "process", (unsent,))]))
        if not head.finished:
            await self._end_outputs()

    async def _settle_calls(self, running: collections.deque[tuple[
            int, asyncio.Future[Reply | None]]], free: collections.deque[int]) -> None:
        """Wait for a call to end; publish what is done, in input order if ordered."""
        await asyncio.wait([f for _i, f in running], return_when=asyncio.FIRST_COMPLETED)
        done = [(i, f) for i, f in running if f.done()]
        if self.ordered:
            done = []
            while running and running[0][1].done():
                done.append(running.popleft())
        else:
            for entry in done:
                running.remove(entry)
        for index, future in done:
            free.append(index)
            await self._publish(self.take([future.result()]))


def in_driver(pn: PlanNode) -> bool:
    """Whether a node runs in the driver: a source, or a node that answers HTTP requests.

    ``http.out`` answers the requests that the served flow's HTTP server holds, here.
    """
    return not pn.incoming or ANSWER_TAG in pn.spec.tags


def ray_groups(plan: Plan, fuse: bool) -> list[list[str]]:
    """The local engine's chains, with sources and replicated nodes each on their own.

    Sources and nodes that answer HTTP requests run in the driver (see ``in_driver``); a
    node with replicas runs as copies of its own.
    """
    groups: list[list[str]] = []
    for group in chains(plan, fuse=fuse):
        part: list[str] = []
        for nid in group:
            pn = plan.nodes[nid]
            alone = in_driver(pn) or pn.replicas > 1
            if part and (alone or plan.nodes[part[-1]].replicas > 1
                         or in_driver(plan.nodes[part[-1]])):
                groups.append(part)
                part = []
            part.append(nid)
        groups.append(part)
    return groups


# Calls a host runs at once, each chain having one at a time: a node that waits (a paced
# stream sleeps between rows) must not hold up the chains that share its host.
HOST_THREADS = 64
_POOL: dict[str, list[Any]] = {}  # the Ray job's id -> its hosts, kept between runs
_RUNS = itertools.count()


def pool(ray: ModuleType, size: int | None = None) -> list[Any]:
    """The hosts of this driver: one per CPU of the cluster, made once, reused by each run."""
    job = ray.get_runtime_context().get_job_id()
    hosts = _POOL.get(job)
    if hosts is None:
        count = size or max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(Host).options(max_restarts=-1, max_task_retries=0, num_cpus=0,
                                          max_concurrency=HOST_THREADS)
        hosts = _POOL[job] = [remote.remote() for _ in range(count)]
    return hosts


class RayEngine(LocalEngine):
    """Runs a flow's chains in Ray actors, on an embedded Ray or on a cluster.

    Args:
        address: A Ray cluster's address (``ray://host:10001`` or ``host:6379``); None
            starts (or reuses) a Ray inside this process.
    """

    name = "ray"

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self.chains: dict[str, RemoteChain] = {}  # chain head -> its task, while a run is on
        self._own: list[Any] = []  # hosts made for this run alone (nodes with resources)
        self._stopping = asyncio.Event()  # the run stops: hosts at work are killed

    def connect(self) -> ModuleType:
        """Ray, started or reached."""
        ray = import_ray()
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False,
                         log_to_driver=False, logging_level="ERROR")
            except ConnectionError as exc:
                msg = f"cannot reach the Ray cluster at {self.address}: {exc}"
                raise EngineUnavailable(msg) from exc
        return ray

    def build(self, plan: Plan, shared: Shared) -> tuple[list[ChainTask], dict[str, Stage]]:
        """Sources as local tasks; every other chain in a host of the pool, in turn."""
        ray = self.connect()
        hosts = pool(ray)
        run = next(_RUNS)
        turn = itertools.count()

        def slot(nodes: list[PlanNode], copy: int) -> Slot:
            index = next(turn)
            head = nodes[0]
            links = [_link(plan, n.id) for n in nodes[:-1]] + [None]
            if head.resources:  # placed by Ray where the resources are: a host of its own
                host = ray.remote(Host).options(max_restarts=-1, max_task_retries=0,
                                                **head.resources).remote()
                self._own.append(host)
            else:
                host = hosts[index % len(hosts)]
            chain = (nodes, links, ids_base(index), shared.options.fail_fast,
                     shared.options.run_id)
            return Slot(Place(ray, host, f"{run}:{head.id}:{copy}", chain, self._stopping))

        def make(stages: list[Stage], shared: Shared) -> ChainTask:
            head = stages[0].rule.pn
            if in_driver(head):
                return ChainTask(stages, shared)
            nodes = [s.rule.pn for s in stages]
            for stage in stages:  # the driver's view of each rule: counters only
                stage.rule = RuleView(stage.rule.pn, shared.context)
            copies = head.replicas if stages[0].rule.stream_ports else 1
            task: RemoteChain
            if copies > 1:
                task = ReplicatedChain(stages, shared, [slot(nodes, c) for c in range(copies)],
                                       head.ordered)
            else:
                task = RemoteChain(stages, shared, slot(nodes, 0), _gated(plan, groups, head))
            self.chains[head.id] = task
            return task

        groups = ray_groups(plan, shared.options.fuse)
        return _build(plan, shared, groups, make)

    async def execute(self, plan: Plan, hooks: Hooks, options: RunOptions,
                      stop: asyncio.Event, drain: asyncio.Event | None = None) -> RunResult:
        """Run the plan with its chains in the pool's hosts; they forget it at the end."""
        if options.schedule is not None:
            msg = "a replay runs on the local engine: run it without --engine ray"
            raise EngineUnavailable(msg)
        self._stopping = asyncio.Event()
        watcher = asyncio.ensure_future(self._watch(stop))
        try:
            return await super().execute(plan, hooks, options, stop, drain)
        finally:
            watcher.cancel()
            ray = import_ray()
            for task in self.chains.values():
                for each in task.slots:
                    each.drop()
            for host in self._own:
                ray.kill(host, no_restart=True)
            self._own.clear()
            self.chains.clear()

    async def _watch(self, stop: asyncio.Event) -> None:
        """A stop kills the hosts at work for this run: their work in hand is dropped."""
        await stop.wait()
        self._stopping.set()
        ray = import_ray()
        for task in self.chains.values():
            for each in task.slots:
                if each.busy:  # it comes back empty (Ray restarts it), for the next run
                    ray.kill(each.place.host, no_restart=False)


def _gated(plan: Plan, groups: list[list[str]], head: PlanNode) -> bool:
    """Whether a chain's stream inputs may wait for its first latest values (GatedInbox).

    Only when no chain feeds both: one that did would wait on its stream batch, and never
    bring the value.
    """
    if not head.spec.threaded or not any(head.spec.inputs[p].waits for p in head.incoming
                                         if head.spec.inputs[p].mode == "latest"):
        return False
    group_of = {nid: i for i, group in enumerate(groups) for nid in group}
    source = {eid: eid.split("->")[0].split(".")[0] for eids in head.incoming.values()
              for eid in eids}

    def feeding(latest: bool) -> set[int]:
        return {group_of[source[eid]] for port, eids in head.incoming.items()
                if (head.spec.inputs[port].mode == "latest") == latest for eid in eids}

    return not feeding(True) & feeding(False)


def _link(plan: Plan, node: str) -> tuple[str, str]:
    """The one edge from ``node`` to the next node of its chain, as (port, port)."""
    return next((port, dport) for port, edges in plan.nodes[node].outgoing.items()
                for _eid, _dst, dport in edges)
