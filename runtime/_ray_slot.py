"""One copy of a chain in a Ray host, as the driver sees it: calls, checkpoints, recovery.

A slot sends a chain's calls to the host that holds it. It keeps the chain's inputs since
the last checkpoint the host sent back; when the host's process died (the call fails, or
the host answers that it no longer holds the chain), the slot builds the chain again in
the restarted host, restores the checkpoint, replays those inputs (what they make again
was delivered already, and is dropped) and sends the call again. So every message reaches
the next stage exactly once, and a stateful node gets its state back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from runtime._collector import RunContext
from runtime._firing import FiringRule
from runtime._graph import PlanNode
from runtime._messages import Batch
from runtime._ray_stage import UNPICKLABLE, Reply, RuleState
from runtime._taken import TakenLog, merges_streams

RECOVERY_SECONDS = 120.0  # how long a crashed host may take to come back


@dataclass
class Place:
    """Where a chain runs: its host actor, its key there, and what builds it again."""

    ray: ModuleType
    host: Any
    key: str
    chain: tuple[Any, ...]  # Host.add's arguments after the key
    stopping: asyncio.Event
    # where the chain may move when its host died: the pool's hosts (its own host only,
    # for a node with resources); a live one takes it at once, without waiting for Ray to
    # start the dead one again
    hosts: list[Any] = dataclasses.field(default_factory=list)


class RuleView(FiringRule):
    """The driver's picture of a rule that fires in a host: its counters and waiting."""

    def __init__(self, pn: PlanNode, context: RunContext) -> None:
        super().__init__(pn, context)
        self.waiting = 0
        # the order the node takes its stream messages in, noted as the driver sends them,
        # in a recorded run of a node fed by several stream edges (``runtime._taken``)
        self.taken = (TakenLog() if context.run_id is not None and merges_streams(pn)
                      else None)

    @property
    def has_pending(self) -> bool:
        """Whether stream messages wait in the host for a partner or a latest value."""
        return self.waiting > 0


class Slot:
    """One copy of a chain: its place, its inputs since the last checkpoint, its state."""

    def __init__(self, place: Place) -> None:
        self.place = place
        self.log: list[list[tuple[str, Batch]]] = []
        self.checkpoint: bytes | None = None
        self.restarts = 0
        self.busy = False  # a call is in the host
        self.rules: list[RuleState] = []  # the rules' state after the last call

    async def call(self, method: str, args: tuple[Any, ...]) -> Reply | None:
        """The chain's start, process, finish or close, in its host."""
        if method == "close" and self.place.stopping.is_set():
            return None  # the host was killed: a close would wait for its work to end
        if method == "start":
            await self._add()
        reply = await self._call(method, args)
        if method == "process":
            if reply.checkpoint is None or reply.checkpoint == UNPICKLABLE:
                self.log.append(args[0])
            else:
                self.checkpoint = reply.checkpoint
                self.log.clear()
        self.rules = reply.rules
        return reply

    async def _add(self) -> None:
        """Give the host this chain, waiting for a host Ray is restarting (``_retrying``).

        A stop or an abort of the run before kills the hosts at work; Ray restarts them.
        """
        place = self.place
        await self._retrying(lambda: place.host.add.remote(place.key, *place.chain), 0.2,
                             "at the run's start")

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
        """Restore the chain in another host (or its restarted one) and replay its inputs."""
        place = self.place
        self.restarts += 1
        others = [h for h in place.hosts if h is not place.host]
        candidates = [*others, place.host]  # the dead one last: Ray may have it back by then
        turn = 0

        async def restore() -> None:
            nonlocal turn
            if others:
                place.host = candidates[turn % len(candidates)]
                turn += 1
            await place.host.add.remote(place.key, *place.chain)
            await place.host.call.remote(place.key, "restore", self.checkpoint)
            for items in self.log:
                await place.host.call.remote(place.key, "process", items)

        await self._retrying(restore, 0.05, "after its process died")

    async def _retrying(self, attempt: Callable[[], Awaitable[object]], pause: float,
                        when: str) -> None:
        """Make ``attempt`` until no host process dies under it, for ``RECOVERY_SECONDS``.

        Raises:
            RuntimeError: No host came back in time.
            RayActorError: A host died while the run stops (the stop killed it).
        """
        place = self.place
        died = place.ray.exceptions.RayActorError
        deadline = time.monotonic() + RECOVERY_SECONDS
        while True:
            try:
                await attempt()
            except died as exc:
                if place.stopping.is_set():
                    raise
                if time.monotonic() > deadline:
                    msg = (f"{place.key}: its Ray worker did not come back within "
                           f"{RECOVERY_SECONDS:.0f} s {when}")
                    raise RuntimeError(msg) from exc
                await asyncio.sleep(pause)
            else:
                return

    def drop(self) -> None:
        """The run ended: the host forgets the chain (a killed host has already)."""
        if not self.busy:
            self.place.host.drop.remote(self.place.key)
