"""The header's view of a deployed flow: its endpoint URLs, and a form to send a test request."""

from __future__ import annotations

import json
from typing import Any

from nicegui import ui

ANSWER_TEXT = 4000  # characters of an answer shown in the form
SEND_TIMEOUT = 30.0  # seconds a test request may take
EXAMPLES = {"float": 1.0, "int": 1, "str": "text", "bool": True, "datetime": "2026-01-01T00:00:00"}


def example_body(nodes: list[dict[str, Any]], path: str) -> str:
    """A JSON body to start from: one row with the columns of the endpoint's schema."""
    for node in nodes:
        params = node.get("params") or {}
        if node.get("component") == "http.in" and params.get("path", "/predict") == path:
            schema = params.get("schema") or {}
            if isinstance(schema, dict) and schema:
                return json.dumps({str(k): EXAMPLES.get(str(v), None) for k, v in schema.items()})
    return "{}"


async def send_request(method: str, url: str, body: str, token: str | None) -> tuple[str, str]:
    """Send a test request from the editor's server; the status shown, and the answer's text.

    Sent from here, not from the browser, so that the token stays on the server and no
    cross-origin rule stands in the way.
    """
    import httpx

    try:
        payload = json.loads(body) if body.strip() else None
    except ValueError as exc:
        return "not sent", f"the body is not JSON: {exc}; write an object or a list of objects"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(timeout=SEND_TIMEOUT) as client:
            response = await client.request(method, url, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        return "not answered", f"{url} did not answer: {exc or type(exc).__name__}"
    text = response.text
    try:
        text = json.dumps(response.json(), indent=2, ensure_ascii=False)
    except ValueError:
        pass
    return str(response.status_code), text[:ANSWER_TEXT]


class DeployPanel:
    """The header button that names the served endpoints; its menu lists them and sends tests.

    Hidden while nothing is deployed. ``show()`` fills it with what the worker said.
    """

    def __init__(self, nodes: Any, token: str | None) -> None:
        """Build the (hidden) button and its menu.

        Args:
            nodes: gives the flow's nodes now (for an example body).
            token: the token the endpoints need, or None.
        """
        self.nodes = nodes
        self.token = token
        self.endpoints: list[dict[str, Any]] = []
        with ui.button(icon="lan").props(
                'no-caps dense color=positive data-testid="deploy-endpoints"').classes(
                "q-px-sm").style("max-width: 260px") as self.button:
            with ui.menu().props('data-testid="deploy-menu"') as self.menu, ui.card().classes(
                    "q-pa-sm").style("min-width: 460px"):
                ui.label("Served endpoints").classes("text-subtitle2")
                self.list_box = ui.column().classes("w-full gap-1")
                if token:
                    ui.label("Each request needs the editor's token: "
                             "'Authorization: Bearer <token>'.").classes(
                        "text-caption").props('data-testid="deploy-token-note"')
                ui.separator()
                ui.label("Send a test request").classes("text-subtitle2")
                self.target = ui.select({}, label="endpoint").classes("w-full").props(
                    'dense data-testid="deploy-target"')
                self.target.on_value_change(self._target_changed)
                self.body = ui.textarea(label="JSON body").classes("w-full").props(
                    'dense autogrow data-testid="deploy-body"')
                with ui.row().classes("items-center gap-2"):
                    ui.button("Send", icon="send", on_click=self.send).props(
                        'dense data-testid="deploy-send"')
                    self.status = ui.label().classes("text-weight-bold").props(
                        'data-testid="deploy-status"')
                self.answer = ui.code("", language="json").classes("w-full").props(
                    'data-testid="deploy-answer"')
                self.answer.set_visibility(False)
        self.button.tooltip("The deployed flow's endpoints on 127.0.0.1; click to copy a "
                            "URL or send a test request")
        self.button.set_visibility(False)

    def show(self, info: dict[str, Any]) -> None:
        """Show the endpoints the worker serves (``url`` and ``endpoints``)."""
        self.endpoints = list(info.get("endpoints", []))
        if not self.endpoints:
            self.hide()
            return
        first = self.endpoints[0]
        more = f"  +{len(self.endpoints) - 1}" if len(self.endpoints) > 1 else ""
        short = first["url"].removeprefix(str(info.get("url", "")).rsplit(":", 1)[0])
        self.button.set_text(f"{first['method']} {short}{more}")  # the host is 127.0.0.1
        self.button.props(f'data-url="{info.get("url", "")}"')
        self.list_box.clear()
        with self.list_box:
            for endpoint in self.endpoints:
                with ui.row().classes("items-center no-wrap gap-1 w-full"):
                    ui.label(f"{endpoint['method']} {endpoint['url']}").classes(
                        "text-body2 ew-endpoint-url").props(
                        f'data-testid="endpoint-url" data-url="{endpoint["url"]}"')
                    ui.button(icon="content_copy",
                              on_click=lambda u=endpoint["url"]: self._copy(u)).props(
                        'flat dense size=sm data-testid="endpoint-copy"').tooltip("Copy the URL")
        options = {e["url"]: f"{e['method']} {e['url']}" for e in self.endpoints}
        keep = self.target.value if self.target.value in options else first["url"]
        self.target.set_options(options, value=keep)
        self._target_changed()
        self.button.set_visibility(True)

    def hide(self) -> None:
        """Nothing is served any more."""
        self.endpoints = []
        self.menu.close()
        self.button.set_visibility(False)
        self.status.set_text("")
        self.answer.set_visibility(False)

    def _target_changed(self) -> None:
        endpoint = self._endpoint()
        if endpoint is not None and not self.body.value:
            self.body.set_value(example_body(self.nodes(), str(endpoint.get("path", ""))))

    def _endpoint(self) -> dict[str, Any] | None:
        return next((e for e in self.endpoints if e["url"] == self.target.value), None)

    def _copy(self, url: str) -> None:
        ui.clipboard.write(url)
        ui.notify(f"copied {url}")

    async def send(self) -> None:
        """Post the body to the chosen endpoint and show the status and the answer."""
        endpoint = self._endpoint()
        if endpoint is None:
            self.status.set_text("nothing is served")
            return
        self.status.set_text("sending…")
        self.status.props('data-status=""')
        status, text = await send_request(endpoint["method"], endpoint["url"],
                                          self.body.value or "", self.token)
        self.status.set_text(status)
        self.status.props(f'data-status="{status}"')
        self.answer.set_content(text)
        self.answer.set_visibility(True)
