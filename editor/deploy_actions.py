"""Deploying the flow from the page: Deploy, Redeploy and Stop, and what the worker says of it.

A deployed flow is served by the page's run worker (``editor.worker_serve``), so it runs as a
Run does: its snapshots drive the same live labels, Stop drains it, and it is kept as a run.
While it serves, the header names its endpoints (``editor.deploy_panel``) and Run gives way
to Redeploy, which starts the flow as it is now beside the served version, sends new
requests to it and drains the old one. A version with problems is refused, and the served
one keeps serving.
"""

from __future__ import annotations

from typing import Any

from nicegui import app, ui

from editor.deploy_panel import DeployPanel
from editor.flow_file import OpenFlow
from editor.problems_panel import ProblemsPanel
from editor.run_actions import RunBar, RunController
from editor.worker import Message

ENDPOINT_COMPONENT = "http.in"
NO_ENDPOINT = ("this flow has no http.in node, so there is nothing to serve: add an http.in "
               "(each one is an endpoint) and an http.out that answers, or use Run")
ENDED = ("ended", "invalid", "crashed", "refused")


def editor_token() -> str | None:
    """The token the editor was started with (``edgewise edit --token``), or None."""
    token = getattr(app.state, "edgewise_token", None)
    return token if isinstance(token, str) and token else None


def parse_port(value: Any) -> int | str:
    """The port chosen in the form (0: any free port), or what is wrong with it."""
    if value is None or str(value).strip() == "":
        return 0
    try:
        port = int(float(value))
    except (TypeError, ValueError):
        return f"the port must be a whole number from 1 to 65535, not {value!r}"
    if not 0 < port < 65536 or port != float(value):
        return f"the port must be a whole number from 1 to 65535, not {value!r}"
    return port


class DeployController:
    """The header's Deploy and Redeploy buttons, the endpoints' view, and the deploy's state.

    ``state`` is ``idle``, ``deploying`` (Deploy pressed, the worker starts the server),
    ``serving`` or ``redeploying``; the Deploy button shows it as ``data-state``.
    """

    def __init__(self, flow: OpenFlow, bar: RunBar, run: RunController,
                 problems: ProblemsPanel) -> None:
        """Build the controls in the header (call it inside the header, after the run bar).

        Args:
            flow: the page's flow.
            bar: the run controls (Run gives way while the flow is served; Stop drains it).
            run: runs the flow in the page's worker (Deploy starts it there).
            problems: the flow's validation (a version with problems is not deployed).
        """
        self.flow = flow
        self.bar = bar
        self.run = run
        self.problems = problems
        self.token = editor_token()
        self.port: int | None = None
        self.state = "idle"
        self.panel = DeployPanel(lambda: self.flow.doc.nodes, self.token)
        self.deploy_button = ui.button("Deploy", icon="cloud_upload",
                                       on_click=self.ask_port).props(
            'color=primary data-testid="deploy" data-state="idle"').tooltip(
            "Serve this flow's http.in endpoints from the editor until stopped")
        self.redeploy_button = ui.button("Redeploy", icon="sync", on_click=self.redeploy).props(
            'dense color=primary data-testid="redeploy"').classes("q-px-sm").tooltip(
            "Serve the flow as it is now: new requests go to it, the old version drains")
        self.redeploy_button.set_visibility(False)
        run.listeners.append(self.heard)

    def _set_state(self, state: str) -> None:
        self.state = state
        serving = state in ("serving", "redeploying")
        self.deploy_button.props(f'data-state="{state}"')
        self.deploy_button.set_visibility(not serving)
        self.deploy_button.set_enabled(state == "idle")
        self.redeploy_button.set_visibility(serving)
        self.redeploy_button.set_enabled(state == "serving")
        self.bar.run_button.set_visibility(not serving)
        self.bar.engine.button.set_enabled(not serving)  # the served flow keeps its engine

    def _served_problem(self) -> str | None:
        """Why the flow as it is now cannot be served (beyond validation), or None."""
        if not any(n.get("component") == ENDPOINT_COMPONENT for n in self.flow.doc.nodes):
            return NO_ENDPOINT
        return None

    # -- deploy ----------------------------------------------------------------------------

    async def ask_port(self) -> None:
        """Deploy pressed: choose the port (any free one by default), then deploy."""
        problem = self._served_problem()
        if problem:
            ui.notify(problem, type="negative", multi_line=True)
            return
        if self.run.workers.running:
            ui.notify("a run is going on: stop it or wait for its end, then deploy",
                      type="warning")
            return
        with ui.dialog() as dialog, ui.card().props('data-testid="deploy-dialog"'):
            ui.label("Deploy this flow").classes("text-subtitle1 text-weight-bold")
            ui.label("Its http.in endpoints are served on 127.0.0.1 until you press Stop."
                     + (" Requests need the editor's token." if self.token else ""))
            port = ui.input("port", value="" if self.port is None else str(self.port),
                            placeholder="any free port").props(
                'dense data-testid="deploy-port"')
            with ui.row():
                ui.button("Deploy", icon="cloud_upload",
                          on_click=lambda: dialog.submit(port.value)).props(
                    'data-testid="deploy-start"')
                ui.button("Cancel", on_click=lambda: dialog.submit(None)).props(
                    'flat data-testid="deploy-cancel"')
        chosen: Any = await dialog
        dialog.delete()
        if chosen is None:
            return
        parsed = parse_port(chosen)
        if isinstance(parsed, str):
            ui.notify(parsed, type="negative")
            return
        await self.deploy(parsed)

    async def deploy(self, port: int = 0) -> None:
        """Serve the flow as it is now from the page's worker, on 127.0.0.1:``port``."""
        problem = self._served_problem()
        if problem:
            ui.notify(problem, type="negative", multi_line=True)
            return
        self.port = port or None
        self._set_state("deploying")
        started = await self.run.launch(lambda worker: worker.deploy(
            self.flow.data(), self.flow.workspace.root, self.flow.name,
            plugins=self.flow.plugins, port=port, token=self.token,
            engine=self.bar.engine.engine))
        if not started:
            self._set_state("idle")

    # -- redeploy --------------------------------------------------------------------------

    async def redeploy(self) -> None:
        """Serve the flow as it is now in place of the served version, dropping no request."""
        worker = self.run.workers.worker
        if self.state != "serving" or worker is None or not worker.serving:
            return
        found = [p.message for p in await self.problems.revalidate()]
        problem = self._served_problem()
        if found or problem:
            listed = "; ".join(found) if found else problem
            ui.notify(f"redeploy refused, the served version keeps serving: {listed}",
                      type="negative", multi_line=True)
            return
        if not await self.run.confirm_code():
            return
        self._set_state("redeploying")
        if not worker.redeploy(self.flow.data(), plugins=self.flow.plugins):
            ui.notify("the worker serving the flow is gone; deploy again", type="negative")
            self._set_state("serving")

    # -- what the worker says --------------------------------------------------------------

    def heard(self, message: Message) -> None:
        """A message from the worker (every one passes here, before the run's handling)."""
        kind = message[0]
        if kind == "deployed":
            self._set_state("serving")
            self.panel.show(message[1])
            ui.notify(f"serving {self._names(message[1])}", type="positive")
        elif kind == "redeployed":
            self._set_state("serving")
            self.panel.show(message[1])
            lost = message[1].get("unanswered", 0)
            ui.notify("redeployed: new requests go to the new version; the old one answered "
                      "what it had" + (f", but {lost} request(s) got 503" if lost else ""),
                      type="positive" if not lost else "warning")
        elif kind == "redeploy_refused":
            self._set_state("serving")
            ui.notify("redeploy refused, the served version keeps serving: "
                      + "; ".join(str(p) for p in message[1]), type="negative", multi_line=True)
        elif kind in ENDED and self.state != "idle":
            self._set_state("idle")
            self.panel.hide()

    @staticmethod
    def _names(info: dict[str, Any]) -> str:
        return ", ".join(f"{e['method']} {e['url']}" for e in info.get("endpoints", []))
