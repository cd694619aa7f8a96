"""The editor web app: its pages, access control, and ``serve()``."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nicegui import app, ui
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from editor.page import EditorPage
from editor.workspace import Workspace, WorkspaceError

TOKEN_COOKIE = "edgewise_token"


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
          token: str | None = None, start: str | None = None) -> None:
    """Serve the editor on a workspace folder until interrupted."""
    workspace = Workspace(root)
    workspace.ensure()
    if token:
        app.add_middleware(TokenMiddleware, token=token)
    setup(workspace, start)
    ui.run(host=host, port=port, title="Edgewise", reload=False, show=False,
           favicon="🔀", show_welcome_message=False, tailwind=False)
