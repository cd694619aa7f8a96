"""The options form of an estimator: one field per option of its class, defaults as placeholders.

Only options the user changed from their defaults are kept; the raw JSON of the options
stays editable beside it for values no field can show (a nested estimator, a dict).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import run, ui

from editor.estimator_picker import OptionField, option_fields


def parse_text(text: str) -> Any:
    """What the user typed in an option's text field: JSON when it reads as JSON, else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def option_value(option: OptionField, raw: Any) -> Any:
    """The value an option field's raw input stands for; None means "the default"."""
    if raw is None or raw == "":
        return None
    if option.kind == "int" and isinstance(raw, int | float) and not isinstance(raw, bool):
        return int(raw) if float(raw).is_integer() else float(raw)
    if option.kind == "float" and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if option.kind == "str":
        return raw
    if isinstance(raw, str):
        return parse_text(raw) if option.kind in ("any", "choice") and raw not in \
            option.choices else raw
    return raw


def changed_options(options: dict[str, Any], name: str, value: Any,
                    fields: list[OptionField]) -> dict[str, Any]:
    """The options after ``name`` was set to ``value``: a default (or None) removes it."""
    result = dict(options)
    default = next((f.default for f in fields if f.name == name and not f.required), None)
    known = any(f.name == name and not f.required for f in fields)
    if value is None or (known and value == default and type(value) is type(default)):
        result.pop(name, None)
    else:
        result[name] = value
    return result


def _shown(option: OptionField, value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) and option.kind in ("str", "choice") else \
        json.dumps(value)


class OptionsForm:
    """Fields for the options of one estimator class; ``on_change(options)`` on each edit."""

    def __init__(self, path: str | None, options: dict[str, Any],
                 on_change: Callable[[dict[str, Any]], None]) -> None:
        self.options = dict(options)
        self.on_change = on_change
        self.fields: list[OptionField] = []
        self.box = ui.column().classes("w-full gap-0 ew-options").props(
            'data-testid="options-form"')
        if path:
            with self.box:
                ui.label("loading the options…").classes("text-caption text-grey-7")
            ui.timer(0, lambda: self._load(path), once=True)

    async def _load(self, path: str) -> None:
        try:
            self.fields = await run.io_bound(option_fields, path) or []
        except ValueError:
            self.fields = []
        except RuntimeError:  # the app is shutting down
            return
        if not self.box.is_deleted:  # not drawn anew meanwhile
            self.render()

    def set_options(self, options: dict[str, Any]) -> None:
        """The options were edited elsewhere (as JSON): show them."""
        if options != self.options:
            self.options = dict(options)
            self.render()

    def render(self) -> None:
        """Draw one field per option."""
        self.box.clear()
        with self.box, ui.element("div").classes("ew-options-grid"):
            for option in self.fields:
                self._field(option)

    def _field(self, option: OptionField) -> None:
        value = self.options.get(option.name)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        element: ui.element
        if option.kind == "bool" and (value is None or isinstance(value, bool)):
            element = ui.select({True: "true", False: "false"}, label=option.name,
                                value=value, clearable=True,
                                on_change=lambda e, o=option: self._set(o, e.value))
        elif option.kind in ("int", "float") and (value is None or number):
            element = ui.number(option.name, value=value, placeholder=option.placeholder(),
                                on_change=lambda e, o=option: self._set(o, e.value))
        elif option.kind == "choice" and (value is None or isinstance(value, str)):
            choices = list(option.choices)
            if isinstance(value, str) and value not in choices:
                choices.append(value)
            element = ui.select(choices, label=option.name, value=value, clearable=True,
                                with_input=True, new_value_mode="add-unique",
                                on_change=lambda e, o=option: self._set(o, e.value))
        else:
            element = ui.input(option.name, value=_shown(option, value),
                               placeholder=option.placeholder(),
                               on_change=lambda e, o=option: self._set(o, e.value))
        element.props(f'dense stack-label data-option="{option.name}"')
        element.tooltip(f"default: {option.placeholder()}")

    def _set(self, option: OptionField, raw: Any) -> None:
        value = option_value(option, raw)
        options = changed_options(self.options, option.name, value, self.fields)
        if options != self.options:
            self.options = options
            self.on_change(dict(options))
