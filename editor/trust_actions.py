"""The trust rule in the editor: show a flow's foreign code and ask before running it."""

from __future__ import annotations

import json
from typing import Any

from nicegui import ui

import runtime
from editor.flow_file import OpenFlow


class Trust:
    """Whether a page's flow code may run, and asking the user.

    A page is trusted when its file held no code, or exactly this content was trusted
    before (saved in this editor, or ``edgewise trust``). Saving from a trusted page trusts
    the saved content, so flows made here never ask. A page opened on someone else's flow
    with code shows a badge, and Run first shows every code node with its params and asks.
    """

    def __init__(self, flow: OpenFlow) -> None:
        """Judge the flow as it was read: trusted only as it was trusted before."""
        self.flow = flow
        self.trusted = not runtime.untrusted_code(flow.doc.data, registry=flow.registry)
        self.trust_badge: ui.button | None = None

    def badge(self) -> ui.button:
        """The header's badge: shown while the flow holds untrusted code; a click reads it."""
        self.trust_badge = ui.button(icon="gpp_maybe", on_click=self.review_code).props(
            'color=warning data-testid="trust-badge"').tooltip(
            "This flow holds code that was not made or trusted in this editor; "
            "click to read it")
        self.refresh_trust()
        return self.trust_badge

    def foreign_code(self) -> list[tuple[str, str]]:
        """The code nodes that would run unasked-for: none once the page is trusted."""
        if self.trusted:
            return []
        return runtime.untrusted_code(self.flow.doc.data, registry=self.flow.registry)

    def refresh_trust(self) -> None:
        """Show or hide the header badge that counts the untrusted code nodes."""
        found = self.foreign_code()
        if self.trust_badge is None:
            return
        self.trust_badge.set_text(f"untrusted code ({len(found)})")
        self.trust_badge.set_visibility(bool(found))

    def sign(self, name: str) -> None:
        """After a save: trust the saved content if this page is trusted."""
        if self.trusted:
            try:
                runtime.trust_flow(self.flow.doc.data, self.flow.workspace.root / name)
            except OSError as exc:
                ui.notify(f"saved, but could not record it as trusted: {exc}", type="warning")

    async def confirm_code(self, verb: str = "Trust and run") -> bool:
        """Ask before running foreign code; True when the flow may run."""
        found = self.foreign_code()
        if not found:
            return True
        nodes = {str(n.get("id")): n for n in self.flow.doc.nodes}
        with ui.dialog() as dialog, ui.card().props('data-testid="trust-dialog"').style(
                "max-width: 720px"):
            ui.label("This flow holds code that will run on this machine").classes(
                "text-subtitle1 text-weight-bold")
            ui.label(f"{self.flow.name} was not made or trusted in this editor. Read the code "
                     "of each node below; run it only if you trust where it came from.")
            for node_id, component_id in found:
                params = nodes.get(node_id, {}).get("params") or {}
                ui.label(f"node '{node_id}' ({component_id})").classes(
                    "text-weight-bold q-mt-sm").props(
                    f'data-testid="trust-node" data-node="{node_id}"')
                ui.code(json.dumps(params, indent=2, ensure_ascii=False),
                        language="json").classes("w-full")
            with ui.row():
                ui.button(verb, color="negative",
                          on_click=lambda: dialog.submit(True)).props(
                    'data-testid="trust-run"')
                ui.button("Cancel", on_click=lambda: dialog.submit(False)).props(
                    'flat data-testid="trust-cancel"')
        answer: Any = await dialog
        dialog.delete()
        if not answer:
            return False
        self.trusted = True
        try:
            runtime.trust_flow(self.flow.doc.data, self.flow.workspace.root / self.flow.name)
        except OSError as exc:
            ui.notify(f"running it, but could not record it as trusted: {exc}", type="warning")
        self.refresh_trust()
        return True

    async def review_code(self) -> None:
        """The badge's action: show the code and ask, without running."""
        if await self.confirm_code("Trust"):
            ui.notify("trusted: this flow's code may run", type="positive")
