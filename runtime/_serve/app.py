"""The HTTP application of a served flow: its endpoints, ``/health``, ``/metrics`` and the token.

FastAPI (and Starlette under it) are imported here only, when a flow is served. Each
endpoint's route reads the raw body (so malformed JSON is a 400, not FastAPI's 422), and
declares its body schema for ``/docs`` through ``openapi_extra``. The route asks the server
for its *current* hub on every request, so a redeploy can swap the flow behind a route.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from runtime._serve.body import error_body, openapi_body, parse_rows
from runtime._serve.hub import EndpointConfig, Refused, ServingHub
from runtime._serve.metrics import CONTENT_TYPE, RequestMetrics

if TYPE_CHECKING:
    from fastapi import FastAPI, Request, Response


class Front:
    """What the routes need from the server: the current hub, health and metrics."""

    hub: ServingHub
    token: str | None
    metrics: RequestMetrics

    def health(self) -> dict[str, Any]:
        """The JSON of ``/health``."""
        raise NotImplementedError

    def metrics_text(self) -> str:
        """The text of ``/metrics``."""
        raise NotImplementedError


JSON = "application/json"


def _refusal(exc: Refused) -> Response:
    from fastapi import Response

    return Response(error_body(str(exc)), status_code=exc.status, media_type=JSON,
                    headers=exc.headers)


def _route(front: Front, config: EndpointConfig) -> Callable[[Request], Awaitable[Response]]:
    key = config.key

    async def endpoint(request: Request) -> Response:
        from fastapi import Response

        started = time.perf_counter()
        body_bytes = await request.body()
        hub = front.hub  # the current version of the flow, read after the body came
        endpoint = hub.endpoints.get(key)
        try:
            if endpoint is None:
                msg = f"{key} is no longer served: the flow was redeployed without it"
                raise Refused(404, msg)
            admitted = hub.admit(key, parse_rows(body_bytes, endpoint.config.schema))
        except Refused as exc:
            front.metrics.observe(key, exc.status)
            return _refusal(exc)
        timeout_ms = endpoint.config.timeout_ms
        try:
            status, body = await asyncio.wait_for(asyncio.shield(admitted.future),
                                                  timeout_ms / 1000)
        except TimeoutError:
            message = f"no answer from the flow within {timeout_ms} ms (the endpoint's timeout_ms)"
            if not hub.answer(admitted.id, 504, error_body(message)):
                status, body = admitted.future.result()  # answered in the meantime
            else:
                status, body = 504, error_body(message)
        front.metrics.observe(key, status, time.perf_counter() - started)
        return Response(body, status_code=status, media_type=JSON,
                        headers={"X-Request-Id": admitted.id})

    from fastapi import Request, Response

    # Annotations are text here (postponed); FastAPI needs the classes to see the request.
    endpoint.__annotations__ = {"request": Request, "return": Response}
    endpoint.__name__ = f"{config.method.lower()}_{config.path.strip('/').replace('/', '_')}"
    return endpoint


class _TokenGuard:
    """ASGI middleware: every request needs ``Authorization: Bearer <token>``, else 401."""

    def __init__(self, app: Any, front: Front) -> None:
        self.app = app
        self.front = front
        self.expected = f"Bearer {front.token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                self.front.metrics.observe(f"{scope['method']} {scope['path']}", 401)
                body = error_body("this server needs its token: send the header "
                                  "'Authorization: Bearer <token>'")
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", JSON.encode()),
                                        (b"www-authenticate", b"Bearer"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def add_routes(app: FastAPI, front: Front, configs: list[EndpointConfig]) -> None:
    """Add a route per endpoint to ``app`` (the docs are rebuilt at their next request)."""
    for config in configs:
        app.add_api_route(
            config.path, _route(front, config), methods=[config.method], response_model=None,
            summary=f"Send rows to the flow's {config.key} endpoint",
            openapi_extra={"requestBody": openapi_body(config.schema)},
            responses={400: {"description": "The body is not JSON"},
                       422: {"description": "The body does not fit the schema"},
                       429: {"description": "The flow is busy; retry after Retry-After s"},
                       500: {"description": "The request's rows failed in the flow"},
                       504: {"description": "No answer within timeout_ms"}})
    app.openapi_schema = None


def build_app(front: Front, title: str, configs: list[EndpointConfig]) -> FastAPI:
    """The FastAPI app serving ``configs`` through ``front``, with health and metrics."""
    from fastapi import FastAPI, Response

    app = FastAPI(title=title, description="A flow served by Edgewise.")
    add_routes(app, front, configs)

    async def health() -> Response:
        return Response(json.dumps(front.health()), media_type=JSON)

    async def metrics() -> Response:
        return Response(front.metrics_text(), media_type=CONTENT_TYPE)

    health.__annotations__ = metrics.__annotations__ = {"return": Response}
    app.add_api_route("/health", health, methods=["GET"], summary="The flow's live state",
                      response_model=None)
    app.add_api_route("/metrics", metrics, methods=["GET"], response_model=None,
                      summary="Prometheus metrics of the flow")
    if front.token:
        app.add_middleware(_TokenGuard, front=front)
    return app
