"""Column pickers for params naming columns, fed by the last run's previews or a schema probe.

The columns reaching a node's input come from the preview of the last message on each
incoming edge in the newest kept run (a DataFrame preview lists its first columns), joined
with what a quick probe of the flow knows before any run: the columns each component's
``columns=`` function works out from its params and inputs (a CSV file's header, say).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterable, Mapping
from pathlib import Path
from typing import Any

from nicegui import background_tasks, ui

import runtime
import runtime.runs
from runtime import resolve_node, split_selector

PICKED = ("target", "features", "columns", "by", "on")
"""Params that name columns even where a component does not declare them in column_params."""

Columns = list[str] | None
PortKey = tuple[str, str]  # (node id, port)


def _split(ref: Any) -> PortKey | None:
    if not isinstance(ref, str) or "." not in ref:
        return None
    node, _, port = ref.rpartition(".")
    return node, port


def column_ports(spec: runtime.ComponentSpec) -> dict[str, list[str]]:
    """Param name to the input ports whose columns it names (plain column params only)."""
    found: dict[str, list[str]] = {}
    for port, selectors in (spec.column_params or {}).items():
        for selector in selectors:
            name, kind = split_selector(selector)
            if kind == "":
                found.setdefault(name, []).append(port)
    frames = [p for p, port in spec.inputs.items() if port.type == "DataFrame"]
    for name in PICKED:
        if name in spec.params_model.model_fields and name not in found and frames:
            found[name] = frames
    return found


def incoming(edges: Iterable[Mapping[str, Any]], node_id: str) -> dict[str, list[PortKey]]:
    """Input port of ``node_id`` to the (node, port) outputs wired into it."""
    found: dict[str, list[PortKey]] = {}
    for edge in edges:
        source, target = _split(edge.get("source")), _split(edge.get("target"))
        if source and target and target[0] == node_id:
            found.setdefault(target[1], []).append(source)
    return found


def preview_columns(preview: Mapping[str, Any] | None) -> Columns:
    """The columns a DataFrame preview lists; None for any other preview."""
    if not preview or preview.get("kind") != "dataframe":
        return None
    columns = preview.get("columns")
    return [str(c) for c in columns] if isinstance(columns, list) else None


def run_columns(store: runtime.runs.RunStore | None, sources: Iterable[PortKey]) -> dict[PortKey,
                                                                                   list[str]]:
    """The columns of the last message each output port sent in a kept run."""
    found: dict[PortKey, list[str]] = {}
    if store is None:
        return found
    try:
        summary = store.port_summary()
    except (LookupError, OSError):
        return found
    for node, port in sources:
        info = summary.get(f"{node}.{port}")
        if not info or info.get("last") is None:
            continue
        try:
            message = store.message(info["last"])
        except (LookupError, OSError):
            continue
        columns = preview_columns(message.preview if message else None)
        if columns is None and message is not None and message.kept == "dataframe":
            columns = _kept_columns(store, message.id)
        if columns is not None:
            found[(node, port)] = columns
    return found


_KEPT: dict[tuple[str, int], list[str]] = {}  # (run folder, message id) -> its columns
KEPT_CACHE = 512  # entries, at most


def _kept_columns(store: runtime.runs.RunStore, message_id: int) -> Columns:
    """The columns of a kept DataFrame (its preview holds only a summary); read once."""
    key = (str(store.folder), message_id)
    if key not in _KEPT:
        if len(_KEPT) > KEPT_CACHE:
            _KEPT.clear()
        try:
            value = store.value(message_id)
        except Exception:  # noqa: BLE001 - a value that cannot be read gives no columns
            return None
        columns = getattr(value, "columns", None)
        if columns is None:
            return None
        _KEPT[key] = [str(c) for c in columns]
    return _KEPT[key]


def _order(nodes: list[str], edges: list[tuple[PortKey, PortKey]]) -> list[str]:
    """Node ids in an order where every source comes before its targets (cycles left out)."""
    before = {n: {s[0] for s, t in edges if t[0] == n and s[0] in nodes} for n in nodes}
    order: list[str] = []
    while True:
        ready = [n for n in nodes if n not in order and before[n] <= set(order)]
        if not ready:
            return order
        order.extend(ready)


def probe_columns(data: Mapping[str, Any], registry: runtime.Registry,
                  base_dir: Path) -> dict[PortKey, list[str]]:
    """The output columns each node will have, where its component can tell before a run."""
    raw_nodes = [n for n in data.get("nodes") or [] if isinstance(n, dict)]
    edges = [(s, t) for s, t in ((_split(e.get("source")), _split(e.get("target")))
                                 for e in data.get("edges") or [] if isinstance(e, dict))
             if s and t]
    by_id = {str(n.get("id")): n for n in raw_nodes}
    known: dict[PortKey, list[str]] = {}
    for node_id in _order(list(by_id), edges):
        node = by_id[node_id]
        spec = registry.get(str(node.get("component")))
        raw = node.get("params")
        if spec is None or spec.columns_function is None or not isinstance(raw, dict):
            continue
        try:
            spec, params, _ports = resolve_node(node_id, spec, raw, base_dir, [])
            if params is None or spec.columns_function is None:
                continue
            inputs: dict[str, Columns] = {}
            for port in spec.inputs:
                sources = [known.get(s) for s, t in edges if t == (node_id, port)]
                first = sources[0] if sources else None
                inputs[port] = first if first is not None and all(
                    s == first for s in sources) else None
            given = spec.columns_function(params, inputs)
        except Exception:  # noqa: BLE001, S112 - a probe that fails knows nothing
            continue
        for port, columns in given.items() if isinstance(given, Mapping) else ():
            if isinstance(columns, list) and all(isinstance(c, str) for c in columns):
                known[(node_id, str(port))] = list(columns)
    return known


def input_columns(node_id: str, edges: Iterable[Mapping[str, Any]],
                  *sources: Mapping[PortKey, list[str]]) -> dict[str, list[str]]:
    """Input port to the columns reaching it: every source's, first ones first, no repeats."""
    found: dict[str, list[str]] = {}
    for port, feeding in incoming(edges, node_id).items():
        names: dict[str, None] = {}
        for known in sources:
            for key in feeding:
                names.update(dict.fromkeys(known.get(key, [])))
        if names:
            found[port] = list(names)
    return found


def gather(data: Mapping[str, Any], node_id: str, registry: runtime.Registry,
           base_dir: Path, store: runtime.runs.RunStore | None) -> dict[str, list[str]]:
    """The columns reaching each input of a node: the run's previews, then the probe's."""
    edges = [e for e in data.get("edges") or [] if isinstance(e, dict)]
    feeding = [key for keys in incoming(edges, node_id).values() for key in keys]
    return input_columns(node_id, edges, run_columns(store, feeding),
                         probe_columns(data, registry, base_dir))


class ColumnSource:
    """Where a node's params form gets columns: which params pick them, and how to fetch them."""

    def __init__(self, spec: runtime.ComponentSpec,
                 prepare: Callable[[], Callable[[], dict[str, list[str]]]]) -> None:
        self.ports = column_ports(spec)  # param -> input ports whose columns it names
        self.prepare = prepare  # on the event loop: a blocking job to run off it


def columns_for(page: Any, node_id: str, spec: runtime.ComponentSpec) -> ColumnSource:
    """The column source of a node on an editor page (its flow, registry and kept runs)."""

    def prepare() -> Callable[[], dict[str, list[str]]]:
        data = json.loads(json.dumps(page.doc.data))  # as it is now: the page may change
        store = getattr(page, "past", None)
        runs = getattr(page, "runs", None)

        def fetch() -> dict[str, list[str]]:
            newest = store
            if newest is None and runs is not None:
                kept = runs.runs()
                newest = kept[0] if kept else None
            return gather(data, node_id, page.registry, Path(page.workspace.root), newest)

        return fetch

    return ColumnSource(spec, prepare)


# What the user types, from the field's own input events. Quasar's input-value also comes
# when the field shows its choice again (after a blur, on Tab with the list open, after a
# pick), and that is not typing.
TYPING = "(e) => { if (e.target.tagName === 'INPUT') emit(e.target.value); }"


def refilter(select: ui.select) -> None:
    """Filter a select's list again by what is typed in it, once new options have come.

    New options replace the filtered list with all of them (NiceGUI's select resets it),
    while the field still shows the text typed: a list that arrived as the user typed
    showed every option, and the arrow keys and Enter chose among them (ARDRegression
    for 'Forest'). Run after Vue has applied the options (a timer after its microtasks).
    """
    select.client.run_javascript(
        f"setTimeout(() => {{ const c = getElement({select.id}); const q = c?.$refs.qRef;"
        " const typed = c?.$el.querySelector('input[type=search]')?.value;"
        " if (q && typed) q.filter(typed); }, 0);")


def focus_out(leaving: str = "") -> str:
    """A select's focusout handler: emits 'left' for another field, 'list' for its own list.

    Quasar's blur comes from a timer, and not if the list is still open by then: leaving
    for another field says so at once, so what was typed is taken before that field's edit.
    A click on one of the list's options moves the focus into the list: a choice, not a
    leaving. ``leaving`` is script run before 'left' is emitted.
    """
    return ("(e) => { const to = e.relatedTarget; if (to === null || e.currentTarget.contains(to))"
            " return; if (to.closest('.q-menu') !== null) { emit('list'); return; } "
            f"{leaving} emit('left'); }}")


class ColumnPicker:
    """A select of columns (one or several); a column it does not list can still be typed."""

    def __init__(self, title: str, value: Any, *, multiple: bool, keep_list: bool,
                 on_pick: Callable[[Any], None], name: str,
                 on_focus: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        self.multiple = multiple
        self.keep_list = keep_list  # str | list params: one column stays a list if it was
        self.on_pick = on_pick
        self.value = value
        chosen = self._chosen(value)
        self.select = ui.select(chosen, label=title, value=chosen if multiple else
                                (chosen[0] if chosen else None), multiple=multiple,
                                with_input=True, new_value_mode="add-unique", clearable=True,
                                on_change=self._changed)
        props = f'data-testid="column-picker" data-column-param="{name}" input-debounce=0'
        self.select.props(props + (" use-chips" if multiple else "")).classes("ew-known")
        self.typed: str | None = None  # text typed since the last choice
        self.focused = False
        self.on_focus = on_focus
        self.select.on("focus", self._focused, [])
        self.select.on("input", self._typed, js_handler=TYPING)
        self.select.on("blur", self._blurred, [])
        self.select.on("focusout", self._focused_out, js_handler=focus_out())
        self.element: ui.element = self.select

    def _focused(self) -> None:
        self.focused = True  # at once, before the typing that follows is handled
        if self.on_focus is not None:  # columns may have changed: a run, an upstream edit
            background_tasks.create(self.on_focus(), name="columns of a node's inputs")

    def _typed(self, e: Any) -> None:
        """Typing in a single picker sets the column as typed, as a text field would."""
        text = e.args if isinstance(e.args, str) else None
        if text is None or not self.focused:
            return
        self.typed = text
        if not self.multiple:
            self.on_pick(text.strip() or None)

    def _focused_out(self, e: Any) -> None:
        if e.args != "list":
            self._blurred()
        elif self.typed is not None:  # an option clicked: the text typed to find it goes
            self.typed = None
            if not self.multiple:  # a change follows if the option is not the one chosen
                self.on_pick(self.select.value)

    def _blurred(self) -> None:
        """Text typed and left without a choice is taken as a column (one more, if several)."""
        self.focused = False
        if self.typed is None:
            return
        text, self.typed = self.typed.strip(), None
        options = [str(o) for o in self.select.options]
        if self.multiple:
            if text and text not in (self.select.value or []):
                self.select.set_options(list(dict.fromkeys([*options, text])),
                                        value=[*(self.select.value or []), text])
        elif not text:
            self.select.set_value(None)
        elif text != self.select.value:
            self.select.set_options(list(dict.fromkeys([*options, text])), value=text)

    @staticmethod
    def _chosen(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def set_columns(self, columns: list[str]) -> None:
        """Offer these columns (the chosen ones stay, even if not among them)."""
        chosen = self._chosen(self.select.value)
        self.select.set_options(list(dict.fromkeys([*columns, *chosen])),
                                value=self.select.value)
        self.select.props(f'data-columns="{len(columns)}"')
        if self.focused and self.typed is not None:  # the user is typing a filter
            refilter(self.select)

    def _changed(self, e: Any) -> None:
        self.typed = None
        value = e.value
        if self.multiple:
            picked = [str(v) for v in value or []]
            if not picked:
                value = None
            elif len(picked) == 1 and not self.keep_list:
                value = picked[0]
            else:
                value = picked
        self.on_pick(value if value not in ("", []) else None)
