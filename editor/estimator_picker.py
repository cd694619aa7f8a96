"""Scikit-learn estimators for the params form: a searchable picker and an options form.

Listing the estimators imports every scikit-learn module (about 2 s), so it is done once,
lazily, off the event loop (:func:`load_estimators`), and cached for the process.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nicegui import background_tasks, run, ui

from editor.column_picker import TYPING, focus_out, refilter

KINDS = ("classifier", "regressor", "transformer", "cluster")


@dataclass(frozen=True)
class EstimatorInfo:
    """One scikit-learn estimator class as the picker lists it."""

    name: str  # the class name, e.g. "RandomForestClassifier"
    path: str  # its public dotted path, e.g. "sklearn.ensemble.RandomForestClassifier"
    kinds: tuple[str, ...]  # among KINDS

    @property
    def module(self) -> str:
        """The public module the class is imported from."""
        return self.path.rpartition(".")[0]

    def label(self) -> str:
        """What the picker shows: short name, module and kinds."""
        kinds = f" · {', '.join(self.kinds)}" if self.kinds else ""
        return f"{self.name} — {self.module}{kinds}"


def public_path(cls: type[Any]) -> str:
    """The shortest public dotted path a class is importable by (no private module part)."""
    parts = cls.__module__.split(".")
    public = []
    for part in parts:
        if part.startswith("_"):
            break
        public.append(part)
    for end in range(1, len(public) + 1):
        module_name = ".".join(public[:end])
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if getattr(module, cls.__name__, None) is cls:
            return f"{module_name}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__name__}"


@functools.cache
def list_estimators() -> tuple[EstimatorInfo, ...]:
    """Every scikit-learn estimator, sorted by name, with its kinds (imports scikit-learn)."""
    from sklearn.utils import all_estimators

    kinds: dict[str, list[str]] = {}
    for kind in KINDS:
        for name, _cls in all_estimators(type_filter=kind):
            kinds.setdefault(name, []).append(kind)
    return tuple(EstimatorInfo(name, public_path(cls), tuple(kinds.get(name, [])))
                 for name, cls in sorted(all_estimators(), key=lambda item: item[0]))


_loading: list[asyncio.Task[tuple[EstimatorInfo, ...] | None]] = []  # the one first load


async def load_estimators() -> tuple[EstimatorInfo, ...]:
    """:func:`list_estimators` without blocking the event loop (the first call imports).

    Callers that come while the first load runs wait for it, rather than start another.
    """
    if list_estimators.cache_info().currsize:
        return list_estimators()
    if not _loading or (_loading[0].done() and (
            _loading[0].cancelled() or _loading[0].exception() is not None
            or _loading[0].result() is None)):  # none yet, or it failed: try (again)
        _loading[:] = [asyncio.ensure_future(run.io_bound(list_estimators))]
    found = await asyncio.shield(_loading[0])
    return found if found is not None else ()


def by_kind(estimators: tuple[EstimatorInfo, ...], kind: str | None) -> list[EstimatorInfo]:
    """The estimators of one kind (all for None)."""
    return [e for e in estimators if kind is None or kind in e.kinds]


def resolve_name(text: str, estimators: tuple[EstimatorInfo, ...]) -> str:
    """A bare class name typed by the user, as its full dotted path; other text unchanged.

    "RandomForestClassifier" (or "randomforestclassifier") becomes
    "sklearn.ensemble.RandomForestClassifier"; a dotted or unknown name is kept as typed,
    so that validation can say what is wrong with it.
    """
    text = text.strip()
    if not text or "." in text:
        return text
    exact = [e for e in estimators if e.name == text]
    if not exact:
        exact = [e for e in estimators if e.name.lower() == text.lower()]
    return exact[0].path if len(exact) == 1 else text


@dataclass(frozen=True)
class OptionField:
    """One option of an estimator class, as the options form edits it."""

    name: str
    default: Any  # JSON-able default, or its repr when it is not JSON-able
    kind: str  # "bool", "int", "float", "str", "choice" or "any"
    choices: tuple[str, ...] = field(default=())
    required: bool = False

    def placeholder(self) -> str:
        """The default, as the field shows it when empty."""
        if self.required:
            return "required"
        return json.dumps(self.default) if _jsonable(self.default) else str(self.default)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _constraint_kind(constraints: list[Any]) -> tuple[str | None, tuple[str, ...]]:
    """The kind and string choices a scikit-learn ``_parameter_constraints`` entry allows."""
    from numbers import Integral, Real

    choices: list[str] = []
    kinds: set[str] = set()
    for c in constraints:
        options = getattr(c, "options", None)
        if type(c).__name__ == "StrOptions" and isinstance(options, set | frozenset):
            choices.extend(sorted(str(o) for o in options))  # Hidden(...) ones stay unlisted
        elif c == "boolean" or c is bool:
            kinds.add("bool")
        elif type(c).__name__ == "Interval":
            kinds.add("int" if getattr(c, "type", None) is Integral else "float")
        elif c is Integral or c is int:
            kinds.add("int")
        elif c is Real or c is float:
            kinds.add("float")
    if choices:
        return "choice", tuple(choices)
    return (kinds.pop() if len(kinds) == 1 else None), ()


def option_fields(path: str) -> list[OptionField]:
    """The options of an estimator class, from the defaults ``get_params()`` reports.

    Types come from the default's type and scikit-learn's declared constraints (a fixed
    set of strings becomes a choice). Imports the class; raises ValueError for a name
    that is not a scikit-learn estimator class.
    """
    from components._estimators import estimator_class

    cls = estimator_class(path)
    constraints: dict[str, list[Any]] = getattr(cls, "_parameter_constraints", {}) or {}
    fields: list[OptionField] = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        required = p.default is p.empty
        default = None if required else p.default
        kind, choices = _constraint_kind(list(constraints.get(p.name, [])))
        if kind is None:
            kind = ("bool" if isinstance(default, bool) else "int" if isinstance(default, int)
                    else "float" if isinstance(default, float)
                    else "str" if isinstance(default, str) else "any")
        fields.append(OptionField(p.name, default if _jsonable(default) else repr(default),
                                  kind, choices, required))
    return fields


class EstimatorPicker:
    """A select of scikit-learn estimators, filtered by typing; a bare name is resolved."""

    def __init__(self, title: str, value: str | None, on_pick: Callable[[str | None], None],
                 *, testid: str = "estimator-picker") -> None:
        self.on_pick = on_pick
        self.estimators: tuple[EstimatorInfo, ...] = ()
        if list_estimators.cache_info().currsize:  # listed already: offer them at once
            self.estimators = list_estimators()
        current = self._options(value)
        self.select = ui.select(current, label=title, value=value, with_input=True,
                                new_value_mode="add-unique", clearable=True,
                                on_change=self._changed)
        self.select.props(f'data-testid="{testid}" input-debounce=0 options-dense')
        self.select.classes("ew-known")
        self.select.on("focus", self._focused, [])
        self.focused = False
        self.typed: str | None = None  # text typed since the last choice, not yet chosen
        self.select.on("input", self._typed, js_handler=TYPING)
        self.select.on("blur", self._blurred, [])
        # Quasar puts off a focus asked for while the menu is still sliding in, and gives it
        # when the slide ends, taking the focus back from a field clicked meanwhile (with
        # what is typed there). Leaving the picker for another field drops that focus, and
        # says so at once: on a busy machine Quasar's own blur can come after the next
        # field's edit, or not at all, and what was typed here (an emptied field) was lost.
        self.select.on("focusout", self._focused_out, js_handler=focus_out(
            f"getElement({self.select.id}).$refs.qRef?.blur();"))
        self.element: ui.element = self.select

    def _focused(self) -> None:
        self.focused = True  # at once, before the typing that follows is handled
        background_tasks.create(self._load(), name="list estimators")

    def _shown(self) -> tuple[Any, ...]:
        """The texts the field shows for its current choice (typing them changes nothing)."""
        value = self.select.value
        return (value, self._options(value).get(value)) if value else ("",)

    def _path_of(self, text: str) -> str | None:
        """The estimator an option's label (or path) names, among the options the field has.

        The field shows a choice by its label: a label typed out, or added as a new value,
        is that choice, not a new name.
        """
        options = self.select.options
        if isinstance(options, dict):
            for path, label in options.items():
                if text in (path, label):
                    return str(path)
        return None

    def _typed(self, e: Any) -> None:
        if self.focused and isinstance(e.args, str):
            self.typed = e.args

    def _focused_out(self, e: Any) -> None:
        if e.args == "list":  # an option clicked: the text typed to find it goes
            self.typed = None
        else:
            self._blurred()

    def _blurred(self) -> None:
        """Text typed and left without a choice is taken as typed (a bare name is resolved)."""
        self.focused = False
        if self.typed is None:
            return
        text, self.typed = self.typed.strip(), None
        value = self.select.value
        if not text:
            self.select.set_value(None)
        elif (path := self._path_of(text)) is not None:
            if path != value:
                self.select.set_value(path)
        elif text not in self._shown():
            options = self._options(value)
            options.setdefault(text, text)
            self.select.set_options(options, value=text)

    async def _load(self) -> None:
        if self.estimators:
            return
        self.estimators = await load_estimators()
        value = self.select.value
        self.select.set_options(self._options(value), value=value)
        if self.focused and self.typed is not None:  # typed while the list was coming
            refilter(self.select)

    def _options(self, value: str | None) -> dict[str, str]:
        """Dotted path to label of every listed estimator, and of the value (even unlisted)."""
        options = {e.path: e.label() for e in self.estimators}
        if value and value not in options:
            module, _, name = value.rpartition(".")
            options = {value: f"{name} — {module}" if module else value, **options}
        return options

    def _changed(self, e: Any) -> None:
        # handlers run in order only while synchronous: a choice must end the typing at once
        self.typed = None
        value = e.value
        path = self._path_of(value) if isinstance(value, str) else None
        if path is not None and path != value:  # a label added as a new value: its path
            options = dict(self.select.options)
            options.pop(value, None)
            self.select.set_options(options, value=path)  # its change picks the path
            return
        if isinstance(value, str) and "." not in value.strip() and value.strip():
            background_tasks.create(self._resolve(value), name="resolve estimator name")
            return
        self.on_pick(value if value else None)

    async def _resolve(self, value: str) -> None:
        """A bare class name: chosen as its dotted path (kept as typed if none fits)."""
        await self._load()
        resolved = resolve_name(value, self.estimators)
        if resolved == value:
            self.on_pick(value)
            return
        options = dict(self.select.options)
        options.pop(value, None)
        self.select.set_options(options, value=resolved)  # its change picks the path
