"""The params panel: a form built from a component's params JSON Schema, with inline errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

from editor.column_picker import ColumnSource
from editor.known_fields import KnownFields

Schema = dict[str, Any]
CODE_FORMAT = "python-code"  # a string param holding Python code (``python.function``)


def _resolve(schema: Schema, root: Schema) -> tuple[Schema, bool]:
    """Follow a $ref and unwrap ``anyOf [X, null]``; say whether null is allowed."""
    nullable = False
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        nullable = len(options) < len(schema["anyOf"])
        if len(options) == 1:
            merged = {k: v for k, v in schema.items() if k != "anyOf"}
            schema = {**options[0], **merged}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = root.get("$defs", {}).get(ref.split("/")[-1], {})
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema, nullable


def scalar_items(items: Schema) -> bool:
    """Whether a list's items are plain values a chips field can hold (not objects)."""
    return "enum" in items or items.get("type") in ("string", "integer", "number", "boolean")


def fits(prop: Schema, kind: Any, items: Schema, value: Any) -> bool:
    """Whether the field built for ``prop`` can show ``value`` exactly as the file has it."""
    if value is None:
        return True
    if "enum" in prop:
        return value in prop["enum"]
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return number and (isinstance(value, int) or value.is_integer())
    if kind == "number":
        return number
    if kind == "array":
        if not scalar_items(items):
            return isinstance(value, list)  # shown as JSON: any list fits
        return isinstance(value, list) and ("enum" not in items or all(
            v in items["enum"] for v in value)) and ("enum" in items or all(
                isinstance(v, str | int | float) for v in value))
    if kind == "object" or (kind is None and "properties" in prop):
        return isinstance(value, dict)
    if kind == "string":
        return isinstance(value, str)
    return isinstance(value, str) or number


def parse_raw(text: str) -> Any:
    """What the user typed in a raw field: JSON when it reads as JSON, else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class ParamsForm(KnownFields):
    """Edits one node's params. Calls ``on_change(params)`` with the whole new params dict."""

    def __init__(self, schema: Schema, params: dict[str, Any],
                 on_change: Callable[[dict[str, Any]], None],
                 on_save: Callable[[], Any] | None = None,
                 columns: ColumnSource | None = None) -> None:
        self.schema = schema
        self.params = dict(params)
        self.on_change = on_change
        self.on_save = on_save
        self.columns = columns
        self.required = set(schema.get("required", []))
        self.errors: dict[str, ui.label] = {}
        self._init_known()
        with ui.column().classes("w-full gap-1 ew-params-form").props('data-testid="params-form"'):
            properties: dict[str, Schema] = schema.get("properties", {})
            if not properties:
                ui.label("This component has no params.").classes("text-grey-7")
            for name, prop in properties.items():
                self._field(name, prop)
            self.general = ui.label().classes("text-negative text-caption")
        if self.pickers:
            ui.timer(0, self._fill_columns, once=True)

    def _set(self, name: str, value: Any) -> None:
        if value is None or value == "" or value == [] or value == {}:
            self.params.pop(name, None)
        else:
            self.params[name] = value
        self.on_change(dict(self.params))

    def _field(self, name: str, raw: Schema) -> None:
        prop, nullable = _resolve(raw, self.schema)
        title = name + (" *" if name in self.required else "")
        hint = prop.get("description", "")
        value = self.params.get(name, prop.get("default"))
        kind = prop.get("type")
        items, _ = _resolve(prop.get("items", {}), self.schema)
        element: ui.element
        special = self._special_field(name, title, prop, kind, items, value)
        if special is not None:
            element = special
        elif prop.get("format") == CODE_FORMAT and (value is None or isinstance(value, str)):
            element = self._code_field(name, title, value or "")
        elif not fits(prop, kind, items, value):
            # Shown as written, so that the user sees the mistake (its error comes below)
            # and nothing in the file is lost or changed until the user edits it.
            element = ui.input(title, value=value if isinstance(value, str) else
                               json.dumps(value), on_change=lambda e, n=name: self._set(
                                   n, parse_raw(e.value or "")))
            element.props('data-raw="true"')
        elif "enum" in prop:
            options = list(prop["enum"])
            element = ui.select(options, label=title, value=value if value in options else None,
                                clearable=nullable or name not in self.required,
                                on_change=lambda e, n=name: self._set(n, e.value))
        elif kind == "boolean":
            element = ui.checkbox(title, value=bool(value),
                                  on_change=lambda e, n=name: self._set(n, bool(e.value)))
        elif kind in ("integer", "number"):
            element = ui.number(title, value=value, precision=0 if kind == "integer" else None,
                                on_change=lambda e, n=name, k=kind: self._set(
                                    n, None if e.value is None else
                                    (int(e.value) if k == "integer" else float(e.value))))
        elif kind == "array" and not scalar_items(items):
            # a list of objects (pipeline steps, estimators, routes): edited as JSON
            element = self._json_field(name, title, value, empty=[])
        elif kind == "array":
            if "enum" in items:
                element = ui.select(list(items["enum"]), label=title, multiple=True,
                                    value=list(value or []), clearable=True,
                                    on_change=lambda e, n=name: self._set(n, list(e.value or [])))
            else:
                element = ui.input_chips(title, value=[str(v) for v in value or []],
                                         on_change=lambda e, n=name: self._set(
                                             n, list(e.value or [])))
        elif kind == "object" or (kind is None and "properties" in prop):
            element = self._json_field(name, title, value)
        else:
            element = ui.input(title, value="" if value is None else str(value),
                               on_change=lambda e, n=name: self._set(n, e.value))
        element.classes("w-full").props(f'data-param="{name}"')
        if hint:
            element.tooltip(hint)
            ui.label(hint).classes("text-caption text-grey-7 -mt-1")
        self.errors[name] = ui.label().classes("text-negative text-caption -mt-1").props(
            f'data-testid="param-error" data-param-error="{name}"')

    def _code_field(self, name: str, title: str, value: str) -> ui.element:
        """A Python code editor; Ctrl+S inside it saves the flow, as it does on the canvas."""
        ui.label(title).classes("text-caption text-grey-8")

        def changed(e: Any) -> None:
            self.params[name] = e.value or ""  # kept as typed: an empty code is a mistake
            self.on_change(dict(self.params))

        editor = ui.codemirror(value, language="Python", on_change=changed,
                               keymap={"Mod-s": self.on_save} if self.on_save else None)
        editor.props('data-testid="code-editor"').style(
            "min-height: 10rem; max-height: 60vh; border: 1px solid #ccc; border-radius: 4px")
        return editor

    def _json_field(self, name: str, title: str, value: Any,
                    empty: dict[str, Any] | list[Any] | None = None,
                    either: bool = False) -> ui.element:
        """A JSON text area for a mapping or list param (``either``: a mapping or a list)."""
        empty = {} if empty is None else empty
        text = json.dumps(value if value is not None else empty, indent=1)
        area = ui.textarea(title, value=text).props("autogrow outlined dense")

        def changed(e: Any) -> None:
            try:
                parsed = json.loads(e.value or json.dumps(empty))
            except json.JSONDecodeError as exc:
                self.errors[name].set_text(f"not valid JSON: {exc.msg} (line {exc.lineno})")
                return
            if not isinstance(parsed, (dict, list) if either else type(empty)):
                self.errors[name].set_text(
                    "must be a JSON list, e.g. [{\"estimator\": \"sklearn....\"}]"
                    if isinstance(empty, list) else
                    "must be a JSON object, e.g. {\"max_iter\": 200}")
                return
            self.errors[name].set_text("")
            if parsed == self.params.get(name, empty):
                return  # shown again after an edit in the fields: nothing new
            self._set(name, parsed)
            if name in self.synced:
                self.synced[name](parsed)

        area.on_value_change(changed)
        return area

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show validation messages under their fields; the rest at the bottom."""
        for name, label in self.errors.items():
            label.set_text(errors.get(name, ""))
        rest = [text for name, text in errors.items() if name not in self.errors]
        self.general.set_text("\n".join(rest))


class RawParamsForm:
    """For a node whose component this install lacks: its params, kept and editable as JSON."""

    def __init__(self, params: dict[str, Any],
                 on_change: Callable[[dict[str, Any]], None]) -> None:
        self.on_change = on_change
        with ui.column().classes("w-full ew-params-form").props('data-testid="params-form"'):
            ui.label("This component is not installed here. Its params are kept as they are; "
                     "you can still edit them as JSON.").classes("text-caption text-warning")
            self.area = ui.textarea("params (JSON)", value=json.dumps(params, indent=1)).props(
                'autogrow outlined dense data-param="*"').classes("w-full")
            self.error = ui.label().classes("text-negative text-caption")
            self.area.on_value_change(self._changed)

    def _changed(self, e: Any) -> None:
        try:
            parsed = json.loads(e.value or "{}")
        except json.JSONDecodeError as exc:
            self.error.set_text(f"not valid JSON: {exc.msg} (line {exc.lineno})")
            return
        if not isinstance(parsed, dict):
            self.error.set_text("params must be a JSON object")
            return
        self.error.set_text("")
        self.on_change(parsed)

    def show_errors(self, errors: dict[str, str]) -> None:
        """Show validation messages."""
        self.error.set_text("\n".join(errors.values()))
