"""Params form fields that know what a param means: estimators, options, columns, rows.

Each keeps the param's JSON editable below it (options, steps, mappings), so that a value
no field can show is still written as the user wants it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from nicegui import background_tasks, run, ui

from editor.column_picker import ColumnPicker, ColumnSource
from editor.estimator_picker import EstimatorPicker
from editor.list_forms import MappingRows, StepsForm
from editor.options_form import OptionsForm

Schema = dict[str, Any]
ROW_LABELS = {"routes": ("route", "query"), "grid": ("param", "values (a JSON list)"),
              "aggregations": ("output column", "value"), "expr": ("name", "expression")}


def string_or_list(prop: Schema) -> bool:
    """Whether a param is ``str | list[str]`` (``by``, ``on``): one column or several."""
    kinds = {(o.get("type"), o.get("items", {}).get("type")) for o in prop.get("anyOf", [])
             if o.get("type") != "null"}
    return kinds == {("string", None), ("array", "string")}


def mapping_kind(prop: Schema) -> tuple[str, list[str]] | None:
    """How a mapping param's rows are edited: ("text"|"json"|"pair", functions), or None.

    A mapping of names to strings (routes, expressions, new names) is "text"; of names to
    lists (a param grid) "json"; of names to ``[column, function]`` pairs (aggregations)
    "pair", with the functions its schema allows.
    """
    for option in [prop, *prop.get("anyOf", [])]:
        extra = option.get("additionalProperties")
        if option.get("type") != "object" or not isinstance(extra, dict):
            continue
        if extra.get("type") == "string":
            return "text", []
        items = extra.get("prefixItems")
        if extra.get("type") == "array" and isinstance(items, list) and len(items) == 2 \
                and items[0].get("type") == "string" and "enum" in items[1]:
            return "pair", [str(v) for v in items[1]["enum"]]
        if extra.get("type") == "array":
            return "json", []
    return None


def is_step_list(name: str, kind: Any, items: Schema, value: Any) -> bool:
    """Whether a param is a list of estimators the steps form can show.

    A pipeline's steps, or ``ml.evaluate``'s named contestants, each a class and options
    (a contestant that is a pipeline of its own keeps the param in JSON).
    """
    return kind == "array" and "estimator" in items.get("properties", {}) and (
        name == "steps" or "name" in items.get("properties", {})) and (
        value is None or (isinstance(value, list) and all(
            isinstance(s, dict) and "steps" not in s for s in value)))


def column_value(kind: Any, items: Schema, prop: Schema, value: Any) -> tuple[bool, bool]:
    """Whether a column picker can show the value, and whether it picks several columns."""
    names = isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "string":
        return value is None or isinstance(value, str), False
    if string_or_list(prop):  # one column or several
        return value is None or isinstance(value, str) or names, True
    if kind == "array" and items.get("type") == "string":
        return value is None or names, True
    return False, False


class KnownFields:
    """The params form's fields for params whose meaning is known (mixed into ParamsForm)."""

    schema: Schema
    params: dict[str, Any]
    columns: ColumnSource | None
    errors: dict[str, ui.label]

    def _set(self, name: str, value: Any) -> None:
        raise NotImplementedError

    def _json_field(self, name: str, title: str, value: Any,
                    empty: dict[str, Any] | list[Any] | None = None,
                    either: bool = False) -> ui.element:
        raise NotImplementedError

    def _init_known(self) -> None:
        self.pickers: dict[str, ColumnPicker] = {}
        self.options_box: ui.column | None = None
        self.options_form: OptionsForm | None = None
        self.json_areas: dict[str, ui.textarea] = {}
        self.synced: dict[str, Callable[[Any], None]] = {}  # param -> shows a JSON edit
        self.filling = False  # columns being fetched
        self.fill_again = False  # asked again while fetching: fetch once more

    def refresh_columns(self) -> None:
        """Fetch the columns again (a run was kept, or another shown), if the form picks any."""
        if self.columns is not None and self.pickers:
            background_tasks.create(self._fill_columns(), name="columns after a run")

    async def _fill_columns(self) -> None:
        """Offer the columns reaching the node's inputs in its column pickers.

        Asked again while a fetch is under way (a run was kept meanwhile, say), it fetches
        once more when that one ends, so the newest ask is the one answered.
        """
        if self.columns is None:
            return
        if self.filling:
            self.fill_again = True
            return
        self.filling = True
        try:
            while True:
                self.fill_again = False
                reaching = await run.io_bound(self.columns.prepare())
                if not self.fill_again:
                    break
        except RuntimeError:  # the app is shutting down
            return
        finally:
            self.filling = False
        for name, picker in self.pickers.items():
            ports = self.columns.ports.get(name, [])
            names = [c for p in ports for c in (reaching or {}).get(p, [])]
            picker.set_columns(list(dict.fromkeys(names)))

    def _special_field(self, name: str, title: str, prop: Schema, kind: Any, items: Schema,
                       value: Any) -> ui.element | None:
        """A picker or row form where the param's meaning is known; None for the plain field."""
        properties = self.schema.get("properties", {})
        if name == "estimator" and kind == "string" and "enum" not in prop and \
                (value is None or isinstance(value, str)) and "options" in properties:
            return EstimatorPicker(title, value, self._estimator_picked).element
        if name == "options" and kind == "object" and "estimator" in properties and \
                isinstance(value, dict):
            ui.label(title).classes("text-caption text-grey-8")
            self.options_box = ui.column().classes("w-full gap-0")
            self._render_options()
            return self._with_json(name, value, {})
        if is_step_list(name, kind, items, value):
            ui.label(title).classes("text-caption text-grey-8")
            steps = StepsForm(value or [], functools.partial(self._from_rows, name, []),
                              named="name" in items.get("properties", {}))
            self.synced[name] = lambda v: steps.set_steps(v if isinstance(v, list) else [])
            return self._with_json(name, value, [])
        ports = self.columns.ports if self.columns is not None else {}
        shown, several = column_value(kind, items, prop, value)
        if name in ports and shown:
            picker = ColumnPicker(title, value, multiple=several,
                                  keep_list=kind == "array" or isinstance(value, list),
                                  on_pick=functools.partial(self._set, name), name=name,
                                  on_focus=self._fill_columns)
            self.pickers[name] = picker
            return picker.element
        rows = mapping_kind(prop)
        if rows is not None and (value is None or isinstance(value, dict)):
            ui.label(title).classes("text-caption text-grey-8")
            key_label, value_label = ROW_LABELS.get(name, ("name", "value"))
            form = MappingRows(value or {}, rows[0],
                               functools.partial(self._from_rows, name, {}),
                               key_label=key_label, value_label=value_label,
                               functions=rows[1])
            self.synced[name] = lambda v: form.set_value(v if isinstance(v, dict) else {})
            # a grid may also be a list of grids: written in the JSON only
            return self._with_json(name, value, {}, either=any(
                o.get("type") == "array" for o in prop.get("anyOf", [])))
        return None

    def _with_json(self, name: str, value: Any, empty: dict[str, Any] | list[Any],
                   either: bool = False) -> ui.element:
        """The param's JSON, below its fields, for values they cannot show."""
        area = self._json_field(name, f"{name} (JSON)", value, empty=empty, either=either)
        area.props("input-class=text-caption").classes("ew-json-fallback")
        if isinstance(area, ui.textarea):
            self.json_areas[name] = area
        return area

    def _from_rows(self, name: str, empty: dict[str, Any] | list[Any], value: Any) -> None:
        """A row form changed the param: write it, and show it in the JSON below."""
        self._set(name, value)
        area = self.json_areas.get(name)
        if area is not None:
            area.set_value(json.dumps(value if value is not None else empty, indent=1))

    def _estimator_picked(self, value: str | None) -> None:
        self._set("estimator", value)
        if self.options_box is not None:
            self._render_options()

    def _render_options(self) -> None:
        if self.options_box is None:
            return
        self.options_box.clear()
        estimator = self.params.get("estimator")
        with self.options_box:
            self.options_form = OptionsForm(
                estimator if isinstance(estimator, str) else None,
                self.params.get("options") or {}, functools.partial(
                    self._from_rows, "options", {}))
        self.synced["options"] = self._options_edited

    def _options_edited(self, options: Any) -> None:
        """The options' JSON was edited: show them in their fields."""
        if self.options_form is not None:
            self.options_form.set_options(options if isinstance(options, dict) else {})
