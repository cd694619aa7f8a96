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
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from runtime._chain import ChainTask, Shared, Stage
from runtime._engine import RunOptions, RunResult
from runtime._firing import FailFast, FiringRule, RunContext
from runtime._fusion import chains
from runtime._graph import Plan, PlanNode
from runtime._hooks import Hooks
from runtime._local import LocalEngine, _build
from runtime._messages import Batch
from runtime._ray_stage import UNPICKLABLE, Host, Reply, ids_base

RAY_MISSING = "the Ray engine needs Ray, which is not installed: pip install 'edgewise[ray]'"
RECOVERY_SECONDS = 120.0  # how long a crashed actor may take to come back


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here (Ray is not installed, or not reachable)."""


def import_ray() -> ModuleType:
    """Ray, or a one-line error saying how to install it."""
    try:
        import ray  # noqa: PLC0415 - the local engine never imports Ray
    except ImportError as exc:
        raise EngineUnavailable(RAY_MISSING) from exc
    return ray


@dataclass
class Place:
    """Where a chain runs: its host actor, its key there, and what builds it again."""

    ray: ModuleType
    host: Any
    key: str
    chain: tuple[Any, ...]  # Host.add's arguments after the key
    stopping: asyncio.Event


class RuleView(FiringRule):
    """The driver's picture of a rule that fires in an actor: its counters and waiting."""

    def __init__(self, pn: PlanNode, context: RunContext) -> None:
        super().__init__(pn, context)
        self.waiting = 0

    @property
    def has_pending(self) -> bool:
        """Whether stream messages wait in the actor for a partner or a latest value."""
        return self.waiting > 0


class RemoteChain(ChainTask):
    """A chain whose work runs in a Ray host; its inbox, hooks and wiring stay here."""

    def __init__(self, stages: list[Stage], shared: Shared, place: Place) -> None:
        super().__init__(stages, shared)
        self.threaded = False  # the host is the other thread: this side only waits
        self._loop = None
        self.place = place
        self.log: list[list[tuple[str, Batch]]] = []  # inputs since the last checkpoint
        self.checkpoint: bytes | None = None
        self.restarts = 0
        self.busy = False  # a call is in the host

    async def work(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run the chain's start, process, finish or close in its host."""
        method = func.__name__.lstrip("_")
        if method not in ("start", "process", "finish", "close"):
            return await super().work(func, *args)
        if method == "close" and self.place.stopping.is_set():
            return []  # the host was killed: a close would wait for its work to end
        if method == "start":
            await self._add()
        reply = await self._call(method, args)
        if method == "process":
            if reply.checkpoint is None or reply.checkpoint == UNPICKLABLE:
                self.log.append(args[0])
            else:
                self.checkpoint = reply.checkpoint
                self.log.clear()
        self._mirror(reply)
        if reply.fail_fast is not None:
            raise FailFast(reply.fail_fast)
        return reply.steps

    def _mirror(self, reply: Reply) -> None:
        """Show the host's rules here: counts, errors, end, and what waits."""
        context = self.shared.context
        for stage, state in zip(self.stages, reply.rules, strict=True):
            rule = stage.rule
            rule.fired, rule.errors, rule.finished = state.fired, state.errors, state.finished
            if isinstance(rule, RuleView):
                rule.waiting = state.waiting
            rule.failures.extend(state.failures)
            if state.failures and context.first_error is None:
                context.first_error = state.failures[0]

    async def _add(self) -> None:
        place = self.place
        await place.host.add.remote(place.key, *place.chain)

    async def _call(self, method: str, args: tuple[Any, ...]) -> Reply:
        """Call the host; if its process died, bring the chain back and call again."""
        place = self.place
        died = place.ray.exceptions.RayActorError
        while True:
            self.busy = True
            try:
                reply: Reply | None = await place.host.call.remote(place.key, method, *args)
            except died:
                if place.stopping.is_set():
                    raise
                reply = None
            finally:
                self.busy = False
            if reply is None:  # the host died, now or before: it came back without us
                await self._recover()
                continue
            return reply

    async def _recover(self) -> None:
        """Restore the chain in its restarted host and replay its inputs since.

        What the replay makes again was delivered already: it is dropped, so every
        message reaches the next stage once.
        """
        place = self.place
        died = place.ray.exceptions.RayActorError
        deadline = time.monotonic() + RECOVERY_SECONDS
        self.restarts += 1
        while True:
            try:
                await self._add()
                await place.host.call.remote(place.key, "restore", self.checkpoint)
                for items in self.log:
                    await place.host.call.remote(place.key, "process", items)
            except died as exc:
                if place.stopping.is_set():
                    raise
                if time.monotonic() > deadline:
                    msg = (f"node '{self.head.id}': its Ray worker did not come back within "
                           f"{RECOVERY_SECONDS:.0f} s after its process died")
                    raise RuntimeError(msg) from exc
                await asyncio.sleep(0.05)
                continue
            return


def ray_groups(plan: Plan, fuse: bool) -> list[list[str]]:
    """The local engine's chains, with each source on its own: sources run in the driver."""
    groups: list[list[str]] = []
    for group in chains(plan, fuse=fuse):
        if not plan.nodes[group[0]].incoming and len(group) > 1:
            groups += [group[:1], group[1:]]
        else:
            groups.append(group)
    return groups


_POOL: dict[str, list[Any]] = {}  # the Ray job's id -> its hosts, kept between runs
_RUNS = itertools.count()


def pool(ray: ModuleType, size: int | None = None) -> list[Any]:
    """The hosts of this driver: one per CPU of the cluster, made once, reused by each run."""
    job = ray.get_runtime_context().get_job_id()
    hosts = _POOL.get(job)
    if hosts is None:
        count = size or max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(Host).options(max_restarts=-1, max_task_retries=0, num_cpus=0,
                                          max_concurrency=4)
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

        def make(stages: list[Stage], shared: Shared) -> ChainTask:
            head = stages[0].rule.pn
            if not head.incoming:
                return ChainTask(stages, shared)
            index = next(turn)
            nodes = [s.rule.pn for s in stages]
            links = [_link(plan, n.id) for n in nodes[:-1]] + [None]
            resources: dict[str, Any] = dict(getattr(head, "resources", None) or {})
            if resources:  # placed by Ray where the resources are: a host of its own
                host = ray.remote(Host).options(max_restarts=-1, max_task_retries=0,
                                                **resources).remote()
                self._own.append(host)
            else:
                host = hosts[index % len(hosts)]
            chain = (nodes, links, ids_base(index), shared.options.fail_fast,
                     shared.options.run_id)
            place = Place(ray, host, f"{run}:{head.id}", chain, self._stopping)
            for stage in stages:  # the driver's view of each rule: counters only
                stage.rule = RuleView(stage.rule.pn, shared.context)
            task = RemoteChain(stages, shared, place)
            self.chains[head.id] = task
            return task

        return _build(plan, shared, ray_groups(plan, shared.options.fuse), make)

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
                if not task.busy:  # a killed host comes back empty
                    task.place.host.drop.remote(task.place.key)
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
            if task.busy:  # it comes back empty (Ray restarts it), for the next run
                ray.kill(task.place.host, no_restart=False)


def _link(plan: Plan, node: str) -> tuple[str, str]:
    """The one edge from ``node`` to the next node of its chain, as (port, port)."""
    return next((port, dport) for port, edges in plan.nodes[node].outgoing.items()
                for _eid, _dst, dport in edges)
