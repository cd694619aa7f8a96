"""What a Ray actor runs: the firing rules of one chain of nodes, driven by the Ray engine.

The actor is a plain class here (``runtime._ray_engine`` makes it remote), so this module
never imports Ray. It holds the same ``FiringRule`` objects the local engine drives, fires
a chain through the same rule as ``runtime._chain`` (``runtime._cascade.hand_down``), and
answers each call with a ``Reply``: the steps made, and what the driver shows of each rule.

Message ids come from a range of the actor's own (``id_base``), so actors never ask each
other for ids. A stateful chain can be checkpointed (its rules' state, pickled) and
restored after its process died; a replayed call then makes the same ids again.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from typing import Any

from runtime._cascade import Step, hand_down
from runtime._chain import Stage
from runtime._collector import RunContext
from runtime._firing import FailFast, FiringRule
from runtime._graph import PlanNode
from runtime._messages import Batch, ErrorRecord


@dataclass
class RuleState:
    """What the driver mirrors of one firing rule after a call."""

    fired: int
    errors: int
    finished: bool
    waiting: int  # stream messages waiting for a partner or a latest value
    failures: list[ErrorRecord]


@dataclass
class Reply:
    """The answer to a call: the steps, each rule's state, and the next free message id."""

    steps: list[Step]
    rules: list[RuleState]
    next_id: int
    fail_fast: ErrorRecord | None = None
    # the chain's state after this call, now and then: the driver forgets the inputs before
    checkpoint: bytes | None = None
    pid: int = field(default_factory=os.getpid)


# What a checkpoint keeps of a rule. A function component's instance is built again
# (start); a class component's may hold anything, so it is pickled with the rest.
_RULE_STATE = ("pending", "latest", "consumed", "fired", "errors", "finished")
CHECKPOINT_EVERY = 16  # calls between checkpoints of a chain whose state costs to pickle
UNPICKLABLE = b""  # a checkpoint that could not be made


class ChainActor:
    """The rules of one chain (a node, or nodes fused together), fired in one process."""

    def __init__(self, nodes: list[PlanNode], links: list[tuple[str, str] | None],
                 id_base: int, fail_fast: bool, run_id: str | None) -> None:
        self.context = RunContext(fail_fast=fail_fast, run_id=run_id, first_id=id_base)
        self.stages = [Stage(FiringRule(pn, self.context)) for pn in nodes]
        for stage, link in zip(self.stages, links, strict=True):
            stage.link = link  # (its port, the next stage's port), or None
        self.rules = [stage.rule for stage in self.stages]
        self.classes = [pn.spec.is_class for pn in nodes]
        self.calls = 0

    def pid(self) -> int:
        """The process this actor runs in (a test kills it to show a crash survived)."""
        return os.getpid()

    def _reply(self, steps: list[Step], fail_fast: ErrorRecord | None = None,
               checkpoint: bool = False) -> Reply:
        saved = self._checkpoint() if checkpoint else None
        rules = []
        for rule in self.rules:
            rules.append(RuleState(rule.fired, rule.errors, rule.finished,
                                   sum(len(q) for q in rule.pending.values()),
                                   rule.failures[:]))
            rule.failures.clear()
        return Reply(steps, rules, self.context.next_id, fail_fast, saved)

    def _checkpoint(self) -> bytes | None:
        """The chain's state, when due: at once when it is only counters, else now and then."""
        self.calls += 1
        light = not any(self.classes) and not any(r.latest or r.has_pending for r in self.rules)
        if not light and self.calls % CHECKPOINT_EVERY:
            return None
        state = [({name: getattr(rule, name) for name in _RULE_STATE},
                  rule.instance if is_class else None)
                 for rule, is_class in zip(self.rules, self.classes, strict=True)]
        from ray import cloudpickle  # noqa: PLC0415 - in a Ray worker; a component's class
        #   is not reachable by its name (the decorator), so it is pickled by value
        try:
            data: bytes = cloudpickle.dumps(  # type: ignore[no-untyped-call]
                (state, self.context.next_id), protocol=pickle.HIGHEST_PROTOCOL)
            return data
        except Exception:  # noqa: BLE001 - an open file, a lock: replayed from inputs instead
            return UNPICKLABLE

    def start(self) -> Reply:
        """Build every node's component (a failure is kept, and reported on each firing)."""
        for rule in self.rules:
            rule.start()
        return self._reply([])

    def process(self, items: list[tuple[str, Batch]]) -> Reply:
        """Fire the chain's head on a run of input batches, and the rest of the chain after."""
        steps: list[Step] = []
        try:
            hand_down(self.stages, 0, self.rules[0].process(items), steps, True)
        except FailFast as stop:
            return self._reply(steps, stop.record)
        return self._reply(steps, checkpoint=True)

    def finish(self) -> Reply:
        """Every input ended: let each stage emit its last messages, in chain order."""
        steps: list[Step] = []
        try:
            for index, rule in enumerate(self.rules):
                hand_down(self.stages, index, rule.finish(), steps, False)
        except FailFast as stop:
            return self._reply(steps, stop.record)
        return self._reply(steps)

    def close(self) -> Reply:
        """Release what the components hold."""
        for rule in self.rules:
            rule.close()
        return self._reply([])

    def restore(self, checkpoint: bytes | None) -> Reply:
        """Come back after the process died: build the components, then take the checkpoint.

        With no checkpoint, the chain starts afresh and the driver replays every input.
        """
        for rule in self.rules:
            rule.start()
        if checkpoint:
            state, next_id = pickle.loads(checkpoint)  # noqa: S301 - made by this class
            for rule, (saved, instance) in zip(self.rules, state, strict=True):
                for name, value in saved.items():
                    setattr(rule, name, value)
                if instance is not None:
                    rule.instance = instance
            self.context.next_id = next_id
        return self._reply([])


def ids_base(index: int) -> int:
    """The first message id of actor ``index``: each has 2**40 ids of its own."""
    return (index + 1) << 40


class Host:
    """A long-lived actor process that holds the chains of runs: the Ray engine's worker.

    Starting a process and importing the components costs seconds, so a few hosts serve
    every run of a driver. A host that died comes back empty (Ray restarts it): a call for
    a chain it no longer holds answers None, and the driver restores the chain.
    """

    def __init__(self) -> None:
        self.chains: dict[str, ChainActor] = {}

    def pid(self) -> int:
        """The process this host runs in (a test kills it to show a crash survived)."""
        return os.getpid()

    def add(self, key: str, nodes: list[PlanNode], links: list[tuple[str, str] | None],
            id_base: int, fail_fast: bool, run_id: str | None) -> None:
        """Hold a new chain under ``key``."""
        self.chains[key] = ChainActor(nodes, links, id_base, fail_fast, run_id)

    def call(self, key: str, method: str, *args: Any) -> Reply | None:
        """Call a chain's start, process, finish, close or restore; None if it is not here."""
        chain = self.chains.get(key)
        if chain is None:
            return None
        reply: Reply = getattr(chain, method)(*args)
        return reply

    def drop(self, key: str) -> None:
        """Forget a chain whose run ended."""
        self.chains.pop(key, None)
