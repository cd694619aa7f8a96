"""The editor web app: its pages, access control, and ``serve()``."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from nicegui import app, ui
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from editor.page import EditorPage
from editor.workspace import Workspace, WorkspaceError

TOKEN_COOKIE = "edgewise_token"
LOOPBACK_NAMES = ("localhost",)
WILDCARD_BINDS = ("", "0.0.0.0", "::")
DEFAULT_PORTS = {"http": 80, "https": 443}
# On every HTTP response, refusals included: no page of the editor may be framed.
FRAME_HEADERS = ((b"x-frame-options", b"DENY"),
                 (b"content-security-policy", b"frame-ancestors 'none'"),
                 (b"x-content-type-options", b"nosniff"))


def split_host(value: str) -> tuple[str, int | None]:
    """Split a ``Host`` header (``name:port``, ``[::1]:8080``) into a lower-case name and port.

    A malformed port gives ``-1``, which matches nothing.
    """
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        name, _, port_text = value.partition(":")
    else:  # a bare name, or a bare IPv6 address
        name, port_text = value, ""
    if not port_text:
        return name.rstrip("."), None
    return name.rstrip("."), int(port_text) if port_text.isdigit() else -1


def host_names(bound: str, allowed: Iterable[str] = ()) -> frozenset[str]:
    """The host names the editor answers to: loopback, the bound name, and ``--allow-host``."""
    names = {*LOOPBACK_NAMES, *(split_host(a)[0] for a in allowed)}
    if bound not in WILDCARD_BINDS:
        names.add(split_host(bound)[0])
    return frozenset(names)


class HostGuard:
    """Refuses requests addressed to a foreign host name or coming from a foreign page.

    A page on another site can reach an editor on this machine in two ways, and both are
    refused, token or not. By DNS rebinding, its own name comes to point at 127.0.0.1: the
    browser then sends that name in ``Host``, which must be an IP address (a rebinding
    cannot produce one), a loopback name, the name the server is bound to, or one given
    with ``--allow-host`` (``.example.org`` allows that domain and its subdomains). By a
    cross-site request or websocket, the browser sends the page's ``Origin``: when present,
    on any request, it must be this same server (its name and port as in ``Host``). A
    request without ``Origin`` is let through, websockets included, because browsers always
    send it from a page for websockets and for every request that changes state; only
    programs on this machine omit it. Every HTTP response also forbids framing the editor.
    """

    def __init__(self, app: Any, names: Iterable[str]) -> None:
        self.app = app
        self.names = frozenset(names)

    def host_allowed(self, name: str) -> bool:
        """Whether requests for this host name (no port) are answered."""
        try:
            ipaddress.ip_address(name.partition("%")[0])
        except ValueError:
            pass
        else:
            return True
        return name in self.names or any(
            n.startswith(".") and (name.endswith(n) or name == n[1:]) for n in self.names)

    @staticmethod
    def same_origin(origin: str, host: str | None, server: Any) -> bool:
        """Whether an ``Origin`` header names this server, as the request reached it."""
        try:
            parts = urlsplit(origin.strip().lower())
            port = parts.port or DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            return False
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            return False
        if host is None:  # HTTP/1.0 without Host: compare with the socket it arrived on
            return bool(server) and port == server[1] and (
                parts.hostname in ("localhost", str(server[0]).lower()))
        name, host_port = split_host(host)
        if host_port is None:
            host_port = DEFAULT_PORTS[parts.scheme]
        return parts.hostname.rstrip(".") == name and host_port == port

    def refusal(self, scope: Any) -> str | None:
        """Why this request is refused, or None."""
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        host = headers.get(b"host")
        host_text = host.decode("latin-1") if host is not None else None
        if host_text is not None and not self.host_allowed(split_host(host_text)[0]):
            name = split_host(host_text)[0][:100]
            return (f"Edgewise: this editor does not answer to the host name '{name}'. If you "
                    f"reached it through this name on purpose, start it with "
                    f"--allow-host {name}")
        origin = headers.get(b"origin")
        if origin is not None and not self.same_origin(origin.decode("latin-1"), host_text,
                                                       scope.get("server")):
            return ("Edgewise: refused a request from another site "
                    f"(Origin: {origin.decode('latin-1')[:100]})")
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Refuse foreign hosts and origins; add the anti-framing headers to every answer."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def send_framed(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [h for h in FRAME_HEADERS if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        reason = self.refusal(scope)
        if reason is None:
            await self.app(scope, receive, send_framed)
        elif scope["type"] == "websocket":
            await receive()  # the connect event, then refuse it (HTTP 403)
            await send({"type": "websocket.close", "code": 1008})
        else:
            await PlainTextResponse(reason, status_code=403)(scope, receive, send_framed)


class TokenMiddleware:
    """Every request, pages and websocket alike, must carry the token (query or cookie).

    A plain ASGI middleware, so that websocket connections are checked too.
    """

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Let a connection through only with the right token."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        given = conn.query_params.get("token") or conn.cookies.get(TOKEN_COOKIE) or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            if scope["type"] == "websocket":
                await receive()  # the connect event, then refuse it (HTTP 403)
                await send({"type": "websocket.close", "code": 1008})
                return
            refused = PlainTextResponse("Edgewise: this editor needs ?token=… in the address",
                                        status_code=401)
            await refused(scope, receive, send)
            return
        if scope["type"] == "http" and conn.query_params.get("token"):
            target = conn.url.remove_query_params("token")
            response: Response = RedirectResponse(str(target), status_code=303)
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def setup(workspace: Workspace, start: str | None = None) -> None:
    """Declare the pages for a workspace."""

    @ui.page("/")
    def index() -> None:
        flows = workspace.list()
        names = [f.name for f in flows]
        first = start if start in names else (names[0] if names else None)
        if first:
            ui.navigate.to(f"/flow/{quote(first)}")
            return
        ui.label("Edgewise").classes("text-h5")
        ui.label(f"The workspace {workspace.root} has no flows yet.")

        def create() -> None:
            name = workspace.create("my-flow.json")
            ui.navigate.to(f"/flow/{name}")

        ui.button("New flow", icon="add", on_click=create).props('data-testid="new-flow"')

    @ui.page("/flow/{name}")
    def flow_page(name: str) -> None:
        try:
            workspace.path(name)
        except WorkspaceError as exc:
            ui.label(str(exc)).classes("text-negative text-h6").props(
                'data-testid="workspace-error"')
            ui.link("back to the workspace", "/")
            return
        EditorPage(workspace, name).build()


def serve(root: str | Path, *, host: str = "127.0.0.1", port: int = 8080,
          token: str | None = None, start: str | None = None,
          allow_hosts: Iterable[str] = ()) -> None:
    """Serve the editor on a workspace folder until interrupted.

    ``allow_hosts`` are host names, beyond loopback and ``host``, that requests may name.
    """
    workspace = Workspace(root)
    workspace.ensure()
    if token:
        app.add_middleware(TokenMiddleware, token=token)
    app.state.edgewise_token = token  # flows deployed from the editor need it too
    app.add_middleware(HostGuard, names=host_names(host, allow_hosts))  # the outermost
    setup(workspace, start)
    ui.run(host=host, port=port, title="Edgewise", reload=False, show=False,
           favicon="🔀", show_welcome_message=False, tailwind=False)
