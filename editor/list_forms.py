"""Row forms for list and mapping params: pipeline steps, grids, routes and aggregations."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

from editor.estimator_picker import EstimatorPicker
from editor.options_form import OptionsForm, parse_text


def moved(items: list[Any], index: int, by: int) -> list[Any]:
    """``items`` with the item at ``index`` moved ``by`` places (clamped to the ends)."""
    target = max(0, min(len(items) - 1, index + by))
    result = list(items)
    result.insert(target, result.pop(index))
    return result


def outside(box: ui.element) -> Any:
    """The slot around ``box``: what an edit starts there (a validation timer) outlives a redraw.

    An event handler runs in its element's slot; a row form redraws its rows after an
    edit, which would delete anything created in the clicked row.
    """
    return box.parent_slot if box.parent_slot is not None else contextlib.nullcontext()


def _buttons(index: int, count: int, move: Callable[[int, int], None],
             remove: Callable[[int], None]) -> None:
    up = ui.button(icon="arrow_upward", on_click=lambda: move(index, -1)).props(
        'flat dense size=sm data-testid="row-up"')
    up.set_enabled(index > 0)
    down = ui.button(icon="arrow_downward", on_click=lambda: move(index, 1)).props(
        'flat dense size=sm data-testid="row-down"')
    down.set_enabled(index < count - 1)
    ui.button(icon="close", on_click=lambda: remove(index)).props(
        'flat dense size=sm color=negative data-testid="row-remove"')


class StepsForm:
    """The steps of a pipeline: an estimator and its options each, reorderable.

    With ``named``, each row also has a name (``ml.evaluate``'s contestants).
    """

    def __init__(self, steps: list[dict[str, Any]],
                 on_change: Callable[[list[dict[str, Any]] | None], None], *,
                 named: bool = False) -> None:
        self.steps = [dict(s) for s in steps]
        self.on_change = on_change
        self.named = named
        self.box = ui.column().classes("w-full gap-1").props('data-testid="steps-form"')
        self.render()

    def set_steps(self, steps: list[Any]) -> None:
        """The steps were edited elsewhere (as JSON): show them."""
        self.steps = [dict(s) if isinstance(s, dict) else {} for s in steps]
        self.render()

    def render(self) -> None:
        """Draw one row per step, and the add button."""
        self.box.clear()
        with self.box:
            for index, step in enumerate(self.steps):
                with ui.column().classes("w-full gap-0 ew-row").props(
                        f'data-testid="step-row" data-index="{index}"'):
                    with ui.row().classes("w-full items-center no-wrap gap-1"):
                        if self.named:
                            ui.input("name", value=str(step.get("name", "")),
                                     on_change=lambda e, i=index: self._set(
                                         i, "name", e.value or None)).props(
                                'dense data-testid="step-name"').classes("grow")
                        else:
                            ui.label(f"step {index + 1}").classes("text-caption grow")
                        _buttons(index, len(self.steps), self._move, self._remove)
                    picker = EstimatorPicker(
                        "estimator", step.get("estimator"),
                        functools.partial(self._set, index, "estimator"),
                        testid="step-estimator")
                    picker.element.classes("w-full")
                    with ui.expansion("options").classes("w-full text-caption").props(
                            'dense data-testid="step-options"'):
                        OptionsForm(step.get("estimator"), step.get("options") or {},
                                    functools.partial(self._set, index, "options"))
            ui.button("add estimator" if self.named else "add step", icon="add",
                      on_click=self._add).props(
                'flat dense size=sm data-testid="step-add"')

    def _emit(self) -> None:
        cleaned = [{k: v for k, v in s.items() if not (k == "options" and not v)}
                   for s in self.steps]
        with outside(self.box):
            self.on_change(cleaned or None)

    def _set(self, index: int, key: str, value: Any) -> None:
        if value is None:
            self.steps[index].pop(key, None)
        else:
            self.steps[index][key] = value
        if key == "estimator":
            self.steps[index].pop("options", None)  # another class: its own options
            self._emit()
            self.render()
        else:
            self._emit()

    def _move(self, index: int, by: int) -> None:
        self.steps = moved(self.steps, index, by)
        self._emit()
        self.render()

    def _remove(self, index: int) -> None:
        del self.steps[index]
        self._emit()
        self.render()

    def _add(self) -> None:
        self.steps.append({})
        self.render()


class MappingRows:
    """A mapping edited as rows of name and value, in order; ``kind`` says what a value is.

    ``"text"``: a string (a query, an expression, a new name). ``"json"``: any JSON value
    (a grid's list of values). ``"pair"``: a ``[column, function]`` pair, the function
    picked from ``functions``.
    """

    def __init__(self, value: dict[str, Any], kind: str,
                 on_change: Callable[[dict[str, Any] | None], None], *,
                 key_label: str = "name", value_label: str = "value",
                 functions: list[str] | None = None) -> None:
        self.rows: list[list[Any]] = [[k, v] for k, v in value.items()]
        self.kind = kind
        self.on_change = on_change
        self.labels = (key_label, value_label)
        self.functions = functions or []
        self.box = ui.column().classes("w-full gap-0").props('data-testid="mapping-form"')
        self.error = ui.label().classes("text-negative text-caption")
        self.render()

    def set_value(self, value: dict[str, Any]) -> None:
        """The mapping was edited elsewhere (as JSON): show it."""
        self.rows = [[k, v] for k, v in value.items()]
        self.error.set_text("")
        self.render()

    def render(self) -> None:
        """Draw one row per entry, and the add button."""
        self.box.clear()
        with self.box:
            for index, (key, value) in enumerate(self.rows):
                with ui.column().classes("w-full gap-0 ew-row").props(
                        f'data-testid="mapping-row" data-index="{index}"'):
                    with ui.row().classes("w-full items-center no-wrap gap-1"):
                        ui.input(self.labels[0], value=str(key),
                                 on_change=lambda e, i=index: self._set(i, 0, e.value)).props(
                            'dense data-testid="mapping-key"').classes("grow")
                        _buttons(index, len(self.rows), self._move, self._remove)
                    with ui.row().classes("w-full items-center gap-x-1 gap-y-0"):
                        self._value_field(index, value)
            ui.button("add", icon="add", on_click=self._add).props(
                'flat dense size=sm data-testid="mapping-add"')

    def _value_field(self, index: int, value: Any) -> None:
        if self.kind == "pair":
            pair = value if isinstance(value, list) and len(value) == 2 else ["", None]
            ui.input("column", value=str(pair[0] or ""),
                     on_change=lambda e, i=index: self._set_pair(i, 0, e.value)).props(
                'dense data-testid="mapping-column"').classes("grow").style("min-width: 7rem")
            ui.select(self.functions, label="function",
                      value=pair[1] if pair[1] in self.functions else None,
                      on_change=lambda e, i=index: self._set_pair(i, 1, e.value)).props(
                'dense data-testid="mapping-function"').style("min-width: 6rem")
            return
        shown = value if self.kind == "text" and isinstance(value, str) else (
            "" if value is None else json.dumps(value))
        ui.input(self.labels[1], value=shown,
                 on_change=lambda e, i=index: self._set(
                     i, 1, e.value if self.kind == "text" else parse_text(e.value or ""))
                 ).props('dense data-testid="mapping-value"').classes("grow")

    def _emit(self) -> None:
        keys = [str(k) for k, _ in self.rows if k]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        self.error.set_text(f"the name {', '.join(map(repr, repeated))} is used twice: "
                            "give each row its own name" if repeated else "")
        if repeated:
            return
        with outside(self.box):
            self.on_change({str(k): v for k, v in self.rows if k} or None)

    def _set(self, index: int, part: int, value: Any) -> None:
        self.rows[index][part] = value
        self._emit()

    def _set_pair(self, index: int, part: int, value: Any) -> None:
        pair = self.rows[index][1]
        pair = list(pair) if isinstance(pair, list) and len(pair) == 2 else ["", None]
        pair[part] = value
        self.rows[index][1] = pair
        self._emit()

    def _move(self, index: int, by: int) -> None:
        self.rows = moved(self.rows, index, by)
        self._emit()
        self.render()

    def _remove(self, index: int) -> None:
        del self.rows[index]
        self._emit()
        self.render()

    def _add(self) -> None:
        self.rows.append(["", None if self.kind != "text" else ""])
        self.render()
