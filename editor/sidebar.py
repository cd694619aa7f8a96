"""The left drawer: the workspace's flows, and the palette of components to drag in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

import runtime
from editor.file_actions import keeps_typed_keys
from editor.workspace import Workspace


def flow_list(workspace: Workspace, current: str, new_dialog: Callable[[], None]) -> None:
    """The workspace's flows as links (the open one in bold), and the New flow button."""
    ui.label("Flows").classes("text-subtitle2")
    with ui.column().classes("w-full gap-0").props('data-testid="flow-list"'):
        for entry in workspace.list():
            link = ui.link(entry.title, f"/flow/{entry.name}").classes(
                "text-body2" + (" text-weight-bold" if entry.name == current else ""))
            link.props(f'data-testid="flow-link" data-flow="{entry.name}"')
            link.tooltip(entry.name)
    keeps_typed_keys(ui.button("New flow", icon="add", on_click=new_dialog).props(
        'flat dense data-testid="new-flow"'))


def palette(registry: runtime.Registry) -> None:
    """The components by category, searchable; an item is dragged onto the canvas."""
    ui.label("Components").classes("text-subtitle2")
    search = ui.input(placeholder="search…").props(
        'dense clearable data-testid="palette-search"').classes("w-full")
    groups: dict[str, list[runtime.ComponentSpec]] = {}
    for spec in registry:
        groups.setdefault(spec.category, []).append(spec)
    items: list[tuple[ui.element, str]] = []
    sections: list[tuple[ui.expansion, list[ui.label]]] = []
    with ui.column().classes("w-full gap-0").props('data-testid="palette"'):
        for category in sorted(groups):
            with ui.expansion(category, value=True).classes("w-full").props(
                    "dense") as section:
                members = []
                for spec in groups[category]:
                    item = ui.label(spec.id).classes(
                        "w-full q-px-sm q-py-xs rounded-borders cursor-grab "
                        "hover:bg-blue-1 font-mono text-body2")
                    item.props(f'draggable="true" data-testid="palette-item" '
                               f'data-role="palette-item" data-component="{spec.id}"')
                    item.tooltip(f"{spec.title}\n\n{spec.doc}").props("max-width=360px")
                    items.append((item, f"{spec.id} {spec.title} {spec.doc}".lower()))
                    members.append(item)
            sections.append((section, members))

    def filter_palette(e: Any) -> None:
        term = (e.value or "").lower().strip()
        for element, text in items:
            element.set_visibility(term in text)
        for section, members in sections:
            section.set_visibility(any(m.visible for m in members))
            if term:
                section.open()

    search.on_value_change(filter_palette)
    for error in registry.load_errors:
        ui.label(error).classes("text-caption text-negative")
