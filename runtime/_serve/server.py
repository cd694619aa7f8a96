"""``FlowServer``: runs a flow until stopped and serves its endpoints, health and metrics.

The flow's run and the HTTP server (uvicorn) share one event loop. Usage::

    server = FlowServer(plan, host="127.0.0.1", port=8090, token=None)
    record_run(server.run, workspace)     # optional: observers attach before start
    await server.start()                  # binds the port (OSError if it cannot)
    ...                                   # requests are answered
    outcome = await server.stop(drain_timeout=10)

A ``Deployment`` is one running version of the flow; ``switch`` swaps in the next version
without a restart (the redeploy). Stopping drains: the endpoints admit no more requests
(503), each ``http.in`` emits what it had queued and ends, the run drains (``Run.drain``:
other sources end, messages in flight reach the sinks), requests that got no answer by the
run's end are answered 503, and only then does the HTTP server close. ``ServeOutcome`` says
whether anything was left undone.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from dataclasses import dataclass
from typing import Any

from runtime._api import Run
from runtime._engine import Engine, RunOptions, RunResult
from runtime._errors import FlowInvalidError, Problem
from runtime._graph import Plan
from runtime._serve.app import Front, add_routes, build_app
from runtime._serve.body import error_body
from runtime._serve.deploys import Deployments
from runtime._serve.hub import ENDPOINT_TAG, EndpointConfig, ServingHub, run_serving
from runtime._serve.lineage import RequestLineage
from runtime._serve.metrics import RequestMetrics, render


def endpoint_configs(plan: Plan) -> list[EndpointConfig]:
    """The endpoints the plan's endpoint nodes (``http.in``) declare, in node order.

    Raises:
        FlowInvalidError: two nodes serve the same method and path.
    """
    found: dict[str, tuple[str, EndpointConfig]] = {}
    problems: list[Problem] = []
    for nid, node in plan.nodes.items():
        if ENDPOINT_TAG in node.spec.tags:
            config: EndpointConfig = node.params.endpoint()  # type: ignore[attr-defined]
            if config.key in found:
                problems.append(Problem(
                    message=f"node '{nid}': nodes '{found[config.key][0]}' and '{nid}' both "
                            f"serve {config.key}; give each {node.spec.id} its own path",
                    code="endpoint-taken", node=nid, param="path"))
                continue
            found[config.key] = (nid, config)
    if problems:
        raise FlowInvalidError(problems=problems)
    return [config for _nid, config in found.values()]


@dataclass
class ServeOutcome:
    """How a served flow ended."""

    result: RunResult
    unanswered: int = 0
    """Requests admitted that the flow never answered (they got a 503 at the end)."""
    late: int = 0
    """Answers that came after their request was answered (timed out, or answered twice)."""
    ended_alone: bool = False
    """The flow ended by itself (its sources ended or failed) before it was asked to stop."""

    @property
    def clean(self) -> bool:
        """Whether everything was drained: the run ended by itself and every request answered."""
        return self.result.status in ("ok", "errors") and self.unanswered == 0


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port).

    Raises:
        OSError: the address cannot be used (in use, not this machine's, no permission).
    """
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _name, address = info[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class Deployment:
    """One running version of a served flow: its run, its hub, and the lineage between them.

    A server has one current deployment; a redeploy starts the next one next to it, routes
    new requests to it (:meth:`FlowServer.switch`) and drains the old one.
    """

    def __init__(self, plan: Plan, options: RunOptions | None = None,
                 engine: Engine | None = None) -> None:
        self.plan = plan
        self.configs = endpoint_configs(plan)
        self.hub = ServingHub(self.configs)
        self.run = Run(plan, engine=engine, options=options)  # None: the local engine
        _ = self.run.stats
        self.lineage = RequestLineage(plan, self.hub)
        self.lineage.attach(self.run.hooks)
        self.task: asyncio.Task[RunResult] | None = None

    def start(self) -> None:
        """Start the run in the running event loop (observers attach before this)."""
        self.hub.loop = asyncio.get_running_loop()
        self.task = asyncio.create_task(self._run(), name="served-flow")

    async def ready(self) -> None:
        """Wait until every ``http.in`` takes requests, or the run has ended.

        An ``http.in`` takes requests once its start-up work (its imports) is done.
        A drain asked while a source is still starting waits for it, since a thread's work
        cannot be cut short: a server that said it was serving before this could overrun
        its drain timeout with nothing queued (a slow first import on a loaded machine).
        """
        assert self.task is not None  # noqa: S101 - start() came first
        while not self.task.done() and not all(
                e.ready.is_set() for e in self.hub.endpoints.values()):
            await asyncio.sleep(0.01)

    async def _run(self) -> RunResult:
        run_serving(self.hub)  # this task's context: every node's task inherits it
        return await self.run.run_async()

    async def drain(self, timeout: float = 10.0) -> ServeOutcome:
        """Admit no more requests, let what was admitted through, and end the run."""
        assert self.task is not None  # noqa: S101 - start() came first
        self.hub.close()
        deadline = time.monotonic() + timeout
        while self.hub.queued() and time.monotonic() < deadline and not self.task.done():
            await asyncio.sleep(0.02)
        self.run.drain(max(0.0, deadline - time.monotonic()))
        result = await self.task
        unanswered = self.hub.answer_all(503, error_body(
            "the flow stopped before answering this request; send it again"))
        return ServeOutcome(result, unanswered=unanswered, late=self.hub.late)


class FlowServer(Front):
    """Serves one flow over HTTP until stopped; the building block of ``edgewise serve``."""

    def __init__(self, plan: Plan, *, host: str = "127.0.0.1", port: int = 8090,
                 token: str | None = None, options: RunOptions | None = None,
                 name: str | None = None, engine: Engine | None = None) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.name = name or "flow"
        self.options = options
        self.metrics = RequestMetrics()
        self.deployment = Deployment(plan, options, engine)
        self.deploys = Deployments()
        self.started = time.monotonic()
        self.state = "starting"
        self._app: Any = None
        self._http: Any = None
        self._http_task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def hub(self) -> ServingHub:  # type: ignore[override]
        """The current deployment's hub: where new requests go."""
        return self.deployment.hub

    @property
    def run(self) -> Run:
        """The current deployment's run (attach recorders before ``start``)."""
        return self.deployment.run

    @property
    def run_task(self) -> asyncio.Task[RunResult] | None:
        """The task running the current deployment's flow."""
        return self.deployment.task

    @property
    def configs(self) -> list[EndpointConfig]:
        """The endpoints of the current deployment."""
        return self.deployment.configs

    @property
    def url(self) -> str:
        """The base URL the server answers on."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind the port, start the flow and the HTTP server.

        Raises:
            OSError: the port cannot be bound; nothing was started.
        """
        import uvicorn

        self._socket = bind(self.host, self.port)
        self.port = self._socket.getsockname()[1]
        self._app = build_app(self, self.name, self.configs)
        config = uvicorn.Config(self._app, log_level="warning", access_log=False,
                                lifespan="off", timeout_graceful_shutdown=5)
        self._http = uvicorn.Server(config)
        self.deployment.start()
        await self.deployment.ready()  # requests wait in the socket's backlog meanwhile
        self._http_task = asyncio.create_task(self._serve_http(), name="http")
        while not self._http.started and not self._http_task.done():
            await asyncio.sleep(0.01)
        if self._http_task.done():
            self._http_task.result()
        self.started = time.monotonic()
        self.state = "serving"

    async def _serve_http(self) -> None:
        server = self._http
        serve = getattr(server, "_serve", None)  # serve() without taking over the signals
        await (serve or server.serve)(sockets=[self._socket])

    async def switch(self, deployment: Deployment, drain_timeout: float = 10.0) -> ServeOutcome:
        """Start ``deployment``, send new requests to it, and drain the one it replaces.

        Endpoints the new version adds get routes (and show in ``/docs``); endpoints it
        drops answer 404, saying so, and leave ``/docs``. No admitted request is dropped:
        the old version answers what it admitted before it ends.
        """
        old = self.deployment
        deployment.start()
        await deployment.ready()  # the old version serves until the new one takes requests
        known = {c.key for c in old.configs}
        self.deployment = deployment
        self.deploys.deployed()
        added = [c for c in deployment.configs if c.key not in known]
        if added:
            add_routes(self._app, self, added)
        serving = {c.key for c in deployment.configs}
        for route in getattr(self._app, "routes", ()):  # /docs lists what is served now
            methods = getattr(route, "methods", None) or ()
            if any(f"{m} {getattr(route, 'path', '')}" in known - serving for m in methods):
                route.include_in_schema = False
                self._app.openapi_schema = None
        return await old.drain(drain_timeout)

    async def stop(self, drain_timeout: float = 10.0) -> ServeOutcome:
        """Drain the flow and close the HTTP server; say what was left undone."""
        self.state = "draining"
        outcome = await self.deployment.drain(drain_timeout)
        self.state = "stopped"
        await self.close_http()
        return outcome

    async def close_http(self) -> None:
        """Close the HTTP server, letting answers already made reach their clients."""
        if self._http is not None and self._http_task is not None:
            self._http.should_exit = True
            with contextlib.suppress(Exception):
                await self._http_task
        if self._socket is not None:
            self._socket.close()

    def health(self) -> dict[str, Any]:
        """The JSON of ``/health``: the state, the flow, uptime, nodes, edges and requests."""
        stats = self.run.stats
        return {
            "status": self.state,
            "flow": self.name,
            **self.deploys.health(),
            "uptime_seconds": round(time.monotonic() - self.started, 3),
            "endpoints": [c.key for c in self.configs],
            "in_flight": len(self.hub.pending),
            "queued": self.hub.queued(),
            "requests": self.metrics.by_code(),
            "nodes": {n: dict(info) for n, info in sorted(stats.nodes.items())},
            "edges": {e: s.count for e, s in sorted(stats.edges.items())},
        }

    def metrics_text(self) -> str:
        """The Prometheus text of ``/metrics``."""
        flight = {key: e.in_flight for key, e in self.hub.endpoints.items()}
        return render(self.run.stats, self.metrics, flight,
                      time.monotonic() - self.started) + self.deploys.metrics_text()
