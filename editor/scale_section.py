"""The params panel's "Scale-out (Ray engine)" section: a node's replicas, ordered, resources.

These are keys of the node itself, beside its params (see ``runtime._model.Node``): the
section edits them in the document, with undo as for params, and leaves a key out of the
file at its default. Their problems (a value out of range, replicas the node cannot have)
show under the section, as they do in the Problems tab.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from nicegui import ui

import runtime
from editor.document import FlowDocument

TITLE = "Scale-out (Ray engine)"
RESOURCES = (("num_cpus", "CPUs per copy"), ("num_gpus", "GPUs per copy"),
             ("memory", "memory per copy (bytes)"))
_KEY_WHERE = re.compile(r"^nodes\[\d+\]\.(replicas|ordered|resources)\b")


@functools.cache
def _descriptions() -> dict[str, str]:
    """What the flow format says of each key, for the fields' tooltips."""
    defs = runtime.flow_json_schema()["$defs"]
    found = {k: str(v.get("description", "")) for k, v in defs["Node"]["properties"].items()}
    found.update({k: str(v.get("description", ""))
                  for k, v in defs["Resources"]["properties"].items()})
    return found


def _number(value: Any) -> float | int | None:
    """A value a number field can show; anything else (a mistake in the file) shows empty."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def is_scale_problem(problem: runtime.Problem, node_id: str) -> bool:
    """Whether a problem is about one of the node's scale-out keys."""
    return problem.node == node_id and (problem.code == "replicas" or bool(
        problem.where and _KEY_WHERE.match(problem.where)))


class ScaleSection:
    """Edits the scale-out keys of one node; ``changed`` is called after each edit."""

    def __init__(self, doc: FlowDocument, node_id: str, changed: Callable[[], None]) -> None:
        """Build the section for ``node_id`` where the caller is drawing."""
        self.doc = doc
        self.node_id = node_id
        self.changed = changed
        node = doc.node(node_id) or {}
        resources = node.get("resources")
        resources = resources if isinstance(resources, dict) else {}
        hints = _descriptions()
        is_set = any(k in node for k in ("replicas", "ordered", "resources"))
        with ui.expansion(TITLE, value=is_set).classes("w-full").props(
                'dense data-testid="scale-section"'):
            self.replicas = ui.number(
                "replicas", value=_number(node.get("replicas", 1)), precision=0, min=1,
                max=64, on_change=lambda e: self._set_replicas(e.value)).classes(
                "w-full").props('dense data-testid="scale-replicas"')
            self.replicas.tooltip(hints.get("replicas", ""))
            self.ordered = ui.checkbox(
                "ordered", value=node.get("ordered", True) is not False,
                on_change=lambda e: self._set("ordered", None if e.value else False)).props(
                'data-testid="scale-ordered"')
            self.ordered.tooltip(hints.get("ordered", ""))
            self._show_ordered()
            for key, label in RESOURCES:
                field = ui.number(label, value=_number(resources.get(key)), min=0,
                                  precision=0 if key == "memory" else None,
                                  on_change=lambda e, k=key: self._set_resource(k, e.value))
                field.classes("w-full").props(f'dense data-testid="scale-{key}"')
                field.tooltip(hints.get(key, ""))
            self.error = ui.label().classes("text-negative text-caption").props(
                'data-testid="scale-error"')

    def _show_ordered(self) -> None:
        """The order matters only with replicas (or when the file says false already)."""
        node = self.doc.node(self.node_id) or {}
        replicas = node.get("replicas", 1)
        self.ordered.set_visibility((isinstance(replicas, int) and replicas > 1)
                                    or node.get("ordered", True) is not True)

    def _set(self, key: str, value: Any) -> None:
        self.doc.set_node_key(self.node_id, key, value)
        self._show_ordered()
        self.changed()

    def _set_replicas(self, value: float | None) -> None:
        count = None if value is None else int(value)
        self._set("replicas", None if count in (None, 1) else count)

    def _set_resource(self, key: str, value: float | None) -> None:
        node = self.doc.node(self.node_id) or {}
        old = node.get("resources")
        resources = dict(old) if isinstance(old, dict) else {}
        if value is None:
            resources.pop(key, None)
        else:
            resources[key] = int(value) if key == "memory" or float(value).is_integer() \
                else float(value)
        self._set("resources", resources or None)

    def show_errors(self, problems: list[runtime.Problem]) -> None:
        """Show the problems of the node's scale-out keys."""
        self.error.set_text("\n".join(p.message for p in problems
                                      if is_scale_problem(p, self.node_id)))
