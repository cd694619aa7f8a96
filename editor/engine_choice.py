"""The run menu's engine choice: Local (the default) or Ray, remembered per flow in the browser.

Run and Deploy send the choice to the worker process as data (``"local"`` or ``"ray"``);
the worker makes the engine there (``editor.worker_engine``), so Ray is imported and started
in that process only, never in the editor's. The button next to Run shows the engine they
use (``data-engine``) and opens the menu; the choice is kept in the browser's localStorage,
per flow file, so a reload or another visit of the same flow runs where it ran last.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from nicegui import ui

STORAGE_KEY = "edgewise.engines"
ENGINES = {"local": "Local", "ray": "Ray"}
ICONS = {"local": "computer", "ray": "hub"}
HELP = {"local": "in the run's worker process, on this machine",
        "ray": "in Ray actors: on a Ray started for the run, or on the cluster that "
               "RAY_ADDRESS names (pip install 'edgewise[ray]')"}


class EngineChoice:
    """The button that shows and chooses the engine Run and Deploy use, with its menu.

    ``engine`` is the chosen engine's name (``local`` or ``ray``).
    """

    def __init__(self, flow_name: str) -> None:
        """Build the button where the header wants it (next to Run).

        Args:
            flow_name: the flow file's name: the choice is remembered for it.
        """
        self.flow_name = flow_name
        self.engine = "local"
        with ui.button(ENGINES["local"], icon=ICONS["local"]).props(
                'flat dense no-caps color=white data-testid="engine-menu" '
                'data-engine="local"').classes("q-px-xs") as self.button:
            self.tip = ui.tooltip(self._tip())
            with ui.menu().props('data-testid="engine-options"'):
                ui.label("Run the flow on").classes("text-caption text-grey-7 q-px-md q-pt-sm")
                self.items = {name: ui.menu_item(
                    f"{label}: {HELP[name]}", on_click=lambda _e, n=name: self.choose(n)).props(
                    f'data-testid="engine-{name}"') for name, label in ENGINES.items()}
        self._show()

    def _tip(self) -> str:
        return (f"Run and Deploy use the {ENGINES[self.engine]} engine: {HELP[self.engine]}. "
                "Click to change.")

    def _show(self) -> None:
        self.button.set_text(ENGINES[self.engine])
        self.button.props(f'icon={ICONS[self.engine]} data-engine="{self.engine}"')
        self.tip.set_text(self._tip())
        for name, item in self.items.items():
            item.props(f'data-chosen="{str(name == self.engine).lower()}"')

    def choose(self, engine: str) -> None:
        """Run and Deploy use ``engine`` from now on, for this flow, in this browser."""
        if engine not in ENGINES:
            return
        self.engine = engine
        self._show()
        key, flow = json.dumps(STORAGE_KEY), json.dumps(self.flow_name)
        ui.run_javascript(
            f"const s = JSON.parse(localStorage.getItem({key}) || '{{}}'); "
            f"s[{flow}] = {json.dumps(engine)}; localStorage.setItem({key}, JSON.stringify(s));")

    async def restore(self) -> None:
        """Show the engine this browser last chose for the flow (Local if none)."""
        raw: Any = None
        with contextlib.suppress(TimeoutError):
            raw = await ui.run_javascript(
                f"return localStorage.getItem({json.dumps(STORAGE_KEY)})", timeout=5)
        try:
            saved = json.loads(raw) if isinstance(raw, str) else {}
        except ValueError:
            return
        chosen = saved.get(self.flow_name) if isinstance(saved, dict) else None
        if isinstance(chosen, str) and chosen in ENGINES and chosen != self.engine:
            self.engine = chosen
            self._show()
