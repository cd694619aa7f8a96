"""Redeploy a served flow when its file changes: the watcher of ``edgewise serve --watch``.

The watcher polls the flow file (size, mtime and inode, every half second) rather than
asking the operating system for change events: polling works the same on every filesystem,
and an editor's save comes in several steps (truncate then write, or write a temporary file
then rename), so what matters is when the file has *stopped* changing. A version is taken
up once the file has been unchanged for a whole poll; a file that cannot be read as a flow
(half-written JSON, a missing file in the middle of a rename) is given ``settle`` seconds
more before it is refused. Content equal to the version serving (same SHA-256) is no
redeploy. A refused version is checked again only when the file is saved again (or
touched): after ``edgewise trust FLOW``, say.

A version that validates (the caller's ``check``: the same checks as at start) is started
with :meth:`FlowServer.switch`: new requests go to it at once, and the old version answers
every request it admitted, then drains and stops. A version that does not validate is
refused, one line per problem, and the old version keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime._engine import Engine, RunOptions
from runtime._errors import FlowInvalidError
from runtime._graph import Plan
from runtime._serve.server import Deployment, FlowServer, ServeOutcome

Say = Callable[..., None]
"""Logs a line: ``say(line)`` for news, ``say(line, err=True)`` for problems."""


@dataclass
class Checked:
    """What checking one version of the flow file gave."""

    plan: Plan | None
    problems: list[str] = field(default_factory=list)
    """One line per problem, naming the node and field as ``edgewise validate`` does."""
    warnings: list[str] = field(default_factory=list)
    unreadable: bool = False
    """The file could not be read as a flow (it may still be being written)."""


@dataclass(frozen=True)
class Stamp:
    """What polling sees of a file: a change to any of these is a change of the file."""

    size: int
    mtime_ns: int
    inode: int


def stamp(path: Path) -> Stamp | None:
    """The file's stamp, or None if it is missing (between the steps of a rename)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return Stamp(info.st_size, info.st_mtime_ns, info.st_ino)


def digest(path: Path) -> str | None:
    """The SHA-256 of the file's bytes, or None if it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _params(plan: Plan, nid: str) -> Any:
    node = plan.nodes[nid]
    return (node.spec.id, node.params.model_dump(mode="json", by_alias=True))


def describe(old: Plan, new: Plan) -> str:
    """A short diff of two versions: node and edge counts, nodes added, removed or changed."""
    edges_old, edges_new = set(old.edge_ids), set(new.edge_ids)
    parts = [f"nodes {len(old.nodes)} -> {len(new.nodes)}",
             f"edges {len(edges_old)} -> {len(edges_new)}"]
    added = [n for n in new.nodes if n not in old.nodes]
    removed = [n for n in old.nodes if n not in new.nodes]
    changed = [n for n in new.nodes if n in old.nodes and _params(old, n) != _params(new, n)]
    for sign, names in (("+", added), ("-", removed), ("changed ", changed)):
        if names:
            parts.append(f"{sign}{', '.join(names)}")
    rewired = len(edges_old ^ edges_new)
    if rewired and not added and not removed:
        parts.append(f"{rewired} edge(s) rewired")
    return "; ".join(parts)


def endpoint_change(old: Deployment, new: Deployment) -> str:
    """The endpoints a version adds and drops, or '' when they are the same."""
    before, after = {c.key for c in old.configs}, {c.key for c in new.configs}
    parts = [f"+{k}" for k in sorted(after - before)] + [f"-{k}" for k in sorted(before - after)]
    return f"; endpoints {', '.join(parts)}" if parts else ""


class FlowWatcher:
    """Watches a served flow's file and redeploys each new version that validates."""

    def __init__(self, server: FlowServer, path: Path, check: Callable[[Path], Checked], *,
                 say: Say, drain_timeout: float = 10.0, options: RunOptions | None = None,
                 prepare: Callable[[Deployment, int], None] | None = None,
                 interval: float = 0.5, settle: float = 2.0,
                 engine: Callable[[], tuple[Engine | None, str | None]] | None = None,
                 ) -> None:
        """Watch ``path``, whose version at this moment is the one ``server`` serves.

        Args:
            server: The running server.
            path: The flow file.
            check: Checks a version of the file (run in a worker thread).
            say: Where to log deploys and refusals.
            drain_timeout: How long the old version may take to drain.
            options: Run options of each new version.
            prepare: Called with each new deployment and its version number before it
                starts (to record it); an ``OSError`` refuses the version.
            interval: Seconds between polls.
            settle: Extra seconds a file that cannot be read as a flow is given.
            engine: Makes the engine of each new version, or says why it cannot (which
                refuses the version); None: the local engine. An engine runs one run at a
                time, and the old version drains beside the new one, so each gets its own.
        """
        self.server = server
        self.path = path
        self.check = check
        self.say = say
        self.drain_timeout = drain_timeout
        self.options = options
        self.prepare = prepare
        self.interval = interval
        self.settle = settle
        self.engine = engine or (lambda: (None, None))
        self.outcomes: list[tuple[int, ServeOutcome]] = []
        """How each replaced version ended: (its version number, its outcome)."""
        self._last = stamp(path)
        self._changed = time.monotonic()
        self._settled = self._last
        self._serving = digest(path)
        self._task: asyncio.Task[None] | None = None
        self._switching = False
        self._closing = False

    @property
    def left_undone(self) -> bool:
        """Whether a replaced version left something undone (its drain timed out)."""
        return any(not outcome.clean for _v, outcome in self.outcomes)

    def start(self) -> None:
        """Start polling in the running event loop."""
        self._task = asyncio.create_task(self._watch(), name="flow-watch")

    async def close(self) -> None:
        """Stop polling; a redeploy under way first finishes (its old version drains)."""
        self._closing = True
        task = self._task
        if task is None:
            return
        if not self._switching:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _watch(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.interval)
            try:
                await self.poll()
            except Exception as exc:  # noqa: BLE001 - a bug here must not stop the serving
                self.say(f"watch {self.path}: checking the new version failed ({exc!r}); "
                         "the current version keeps serving", err=True)

    async def poll(self) -> None:
        """Look at the file once; deploy or refuse a version that has settled."""
        now = stamp(self.path)
        if now != self._last:  # still changing (or just changed): wait a whole poll
            self._last = now
            self._changed = time.monotonic()
            return
        if now is None or now == self._settled:
            return
        content = digest(self.path)
        if content is None:
            return
        if content == self._serving:
            self._settled = now
            return
        checked = await asyncio.to_thread(self.check, self.path)
        if stamp(self.path) != now or digest(self.path) != content:
            return  # it changed while it was checked: the next polls look again
        if checked.unreadable and time.monotonic() - self._changed < self.settle:
            return  # maybe half-written: give the writer time before refusing it
        self._settled = now
        for line in checked.warnings:
            self.say(f"warning: {line}", err=True)
        deployment = self._deployment(checked)
        if deployment is None:
            self.server.deploys.refuse()
            return
        self._serving = content
        await self._switch(deployment, checked)

    def _refuse(self, lines: list[str]) -> None:
        self.say(f"{self.path} changed, but the new version has {len(lines)} problem(s) and "
                 f"was not deployed; version {self.server.deploys.version} keeps serving. "
                 "Fix them and save again:", err=True)
        for line in lines:
            self.say(f"  {line}", err=True)

    def _deployment(self, checked: Checked) -> Deployment | None:
        """The new version, ready to start, or None (refused, and said why)."""
        if checked.plan is None or checked.problems:
            self._refuse(checked.problems or ["the flow could not be checked"])
            return None
        engine, problem = self.engine()
        if problem:
            self._refuse([problem])
            return None
        try:
            deployment = Deployment(checked.plan, self.options, engine)
        except FlowInvalidError as exc:
            self._refuse([f"{self.path}: {p}" for p in exc.problems])
            return None
        if self.prepare is not None:
            try:
                self.prepare(deployment, self.server.deploys.version + 1)
            except OSError as exc:
                self._refuse([f"cannot record the new version: {exc.strerror or exc}"])
                return None
        return deployment

    async def _switch(self, deployment: Deployment, checked: Checked) -> None:
        old = self.server.deployment
        assert checked.plan is not None  # noqa: S101 - checked by _deployment
        change = describe(old.plan, checked.plan) + endpoint_change(old, deployment)
        before = self.server.deploys.version
        self._switching = True
        try:
            started = time.perf_counter()
            switching = asyncio.ensure_future(self.server.switch(deployment,
                                                                 self.drain_timeout))
            while self.server.deployment is not deployment and not switching.done():
                await asyncio.sleep(0.002)  # the new version starts until it takes requests
            took = (time.perf_counter() - started) * 1000
            version = self.server.deploys.version
            self.say(f"redeployed {self.path}: version {version} serves new requests "
                     f"(switched in {took:.1f} ms; {change}); version {before} drains")
            outcome = await switching
        finally:
            self._switching = False
        self.outcomes.append((before, outcome))
        result = outcome.result
        if outcome.clean:
            self.say(f"version {before} drained and stopped: {result.status}")
        else:
            left = ", ".join(f"{n}: {c}" for n, c in result.undone.items()) or "none queued"
            self.say(f"version {before} did not drain cleanly: {result.status}; messages "
                     f"left per node: {left}; {outcome.unanswered} request(s) got no answer",
                     err=True)
