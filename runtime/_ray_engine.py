"""The Ray engine: the same flow, its chains run in Ray actors, driven from this process.

The driver (this process) runs the local engine's asyncio tasks, with one change: a
chain's work (``start``, ``process``, ``finish``, ``close``) runs in a Ray actor instead
of in this process (``runtime._ray_chain``). The actors are a pool of hosts
(``runtime._ray_stage.Host``), one per CPU of the cluster, made once per driver and
shared by its runs: starting a worker process and importing the components costs seconds.
A node with ``resources`` gets a host of its own, placed by Ray where they are.
Sources are pumped here, so files and requests are read where the flow was started.
Every batch comes back through the driver, which calls the hooks (live labels, the
recorder, taps) exactly as the local engine does, then hands it to the next host. So
results, counts and lineage are the local engine's; only the place of the work moves.

- **Bounded memory:** each chain's inbox holds a few batches, and a chain has one call in
  flight, so a slow stage slows its producers back to the source.
- **Crashes survived:** Ray restarts a host whose process died (``max_restarts``); the
  driver keeps each chain's inputs since its last checkpoint, restores the checkpoint in
  the new process and replays those inputs, dropping what they make again, then resends
  the call that failed (``runtime._ray_slot``). Sinks get every message exactly once.
- **Stop:** the hosts at work for the run are killed (and come back empty for the next);
  so are they when a run aborts (``--fail-fast``).
- Ray is imported only here, and only when a run asks for this engine.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import threading
from types import ModuleType
from typing import Any

from runtime._chain import ChainTask, Stage
from runtime._engine import RunOptions, RunResult
from runtime._fusion import chains
from runtime._graph import Plan, PlanNode
from runtime._hooks import Hooks
from runtime._local import LocalEngine, _build
from runtime._ray_address import unreachable
from runtime._ray_chain import RemoteChain, ReplicatedChain
from runtime._ray_slot import Place, RuleView, Slot
from runtime._ray_stage import Host, ids_base
from runtime._serve.lineage import ANSWER_TAG
from runtime._shared import Shared

RAY_MISSING = "the Ray engine needs Ray, which is not installed: pip install 'edgewise[ray]'"


TOKEN_HINT = ("a cluster started with `ray start` asks for its token: set RAY_AUTH_MODE=token, "
              "and RAY_AUTH_TOKEN (or the file ~/.ray/auth_token) as on the cluster")


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot run here (Ray is not installed, or not reachable)."""


def import_ray() -> ModuleType:
    """Ray, or a one-line error saying how to install it."""
    try:
        import ray  # noqa: PLC0415 - the local engine never imports Ray
    except ImportError as exc:
        raise EngineUnavailable(RAY_MISSING) from exc
    return ray


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
    context = ray.get_runtime_context()  # a Ray started again in this process is another
    job = f"{context.get_node_id()}:{context.get_job_id()}"  # cluster, with the same job id
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
        """Ray, started or reached.

        An address (``--address``, or ``RAY_ADDRESS`` when none is given) where nothing
        answers is refused at once: Ray itself would wait on it for minutes.
        """
        ray = import_ray()
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS") or None
            refused = unreachable(address) if address is not None else None
            if refused is not None:
                raise EngineUnavailable(refused if self.address else f"RAY_ADDRESS: {refused}")
            interrupt = signal.getsignal(signal.SIGINT)
            try:
                ray.init(address=self.address, include_dashboard=False,
                         log_to_driver=False, logging_level="ERROR")
            except ConnectionError as exc:
                msg = f"cannot reach the Ray cluster at {address}: {exc}; {TOKEN_HINT}"
                raise EngineUnavailable(msg) from exc
            except RuntimeError as exc:  # Ray wraps a refused token in a RuntimeError
                if "AuthenticationError" not in str(exc):
                    raise
                msg = (f"the Ray cluster at {address} asks for a token, and none was "
                       f"given: {TOKEN_HINT}")
                raise EngineUnavailable(msg) from exc
            if threading.current_thread() is threading.main_thread():
                # Ray's core takes SIGINT over in the process that starts it: give Ctrl-C
                # back to Python, so that it stops the run as on the local engine
                signal.signal(signal.SIGINT, interrupt)
        return ray

    def hosts(self) -> list[Any]:
        """The actors of this driver's pool (``host.pid.remote()`` tells each one's process)."""
        return pool(self.connect())

    def refusal(self, plan: Plan, ray: ModuleType | None = None) -> str | None:
        """Why the cluster cannot run this plan, if it cannot.

        A node asking for more ``resources`` than the whole cluster has would wait for
        them for ever.

        Args:
            plan: The plan to run.
            ray: Ray, already reached (``connect``); None reaches it here.
        """
        total = (ray or self.connect()).cluster_resources()
        names = {"num_cpus": "CPU", "num_gpus": "GPU", "memory": "memory"}
        for nid in plan.order:
            for key, amount in plan.nodes[nid].resources.items():
                have = float(total.get(names.get(key, key), 0))
                if amount > have:
                    return (f"node '{nid}' asks for {key} {amount:g}, and the Ray cluster has "
                            f"{have:g} in all; lower it, or run on a cluster that has it")
        return None

    def build(self, plan: Plan, shared: Shared) -> tuple[list[ChainTask], dict[str, Stage]]:
        """Sources as local tasks; every other chain in a host of the pool, in turn."""
        ray = self.connect()
        refused = self.refusal(plan, ray)
        if refused:
            raise EngineUnavailable(refused)
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
                others = [host]
            else:
                host = hosts[index % len(hosts)]
                others = hosts
            chain = (nodes, links, ids_base(index), shared.options.fail_fast,
                     shared.options.run_id)
            return Slot(Place(ray, host, f"{run}:{head.id}:{copy}", chain, self._stopping,
                              others))

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
                                       head.ordered, _gated(plan, groups, head, replicated=True))
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
        try:
            return await super().execute(plan, hooks, options, stop, drain)
        finally:
            ray = import_ray()
            for task in self.chains.values():
                for each in task.slots:
                    each.drop()
            for host in self._own:
                ray.kill(host, no_restart=True)
            self._own.clear()
            self.chains.clear()

    def cut_short(self) -> None:
        """A stop or an abort kills the hosts at work for this run.

        Their work in hand is dropped, rather than going on for nothing and keeping the
        next run waiting; each comes back empty.
        """
        self._stopping.set()
        ray = import_ray()
        for task in self.chains.values():
            for each in task.slots:
                if each.busy:  # it comes back empty (Ray restarts it), for the next run
                    ray.kill(each.place.host, no_restart=False)


def _gated(plan: Plan, groups: list[list[str]], head: PlanNode,
           replicated: bool = False) -> bool:
    """Whether a chain's stream inputs may wait for its first latest values (GatedInbox).

    Only when no chain feeds both: one that did would wait on its stream batch, and never
    bring the value.
    """
    inputs = head.spec.inputs
    awaits = any(inputs[p].waits for p in head.incoming if inputs[p].mode == "latest")
    if not (head.spec.threaded or replicated) or not awaits:
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
