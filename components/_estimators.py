"""Estimator specs: scikit-learn estimators, pipelines and nested ones built from JSON settings.

A spec names a class and its options, ``{"estimator": "sklearn.svm.SVC", "options": {...}}``,
or a pipeline, ``{"steps": [spec, ...]}`` (built with ``make_pipeline``). An option value of
either form is built recursively; a list ``[name, spec]`` or ``[name, spec, columns]`` becomes
a tuple, as ``StackingClassifier`` and ``ColumnTransformer`` expect. Only classes inside
``sklearn.*`` are accepted, at any depth. Nothing here imports scikit-learn until a spec is
checked or built.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import TYPE_CHECKING, Any, TypeGuard

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from components._refused import GRID_OPTIONS, grid_refusals, refused
from runtime import Params

if TYPE_CHECKING:
    import pandas as pd


def suggest(word: str, options: list[str]) -> str:
    """Return "; did you mean 'x'?" for the closest of ``options``, or ""."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else ""


def problem(text: str) -> PydanticCustomError:
    """A validation error whose message is ``text`` as it stands."""
    return PydanticCustomError("estimator", "{reason}", {"reason": text})


def require(data: pd.DataFrame, column: str, what: str) -> None:
    """Raise KeyError naming ``column`` and the columns there are, if it is missing."""
    if column not in data.columns:
        msg = (f"{what} column '{column}' is not in the data; columns: "
               f"{', '.join(map(str, data.columns))}")
        raise KeyError(msg)


def feature_columns(data: pd.DataFrame, target: str | None,
                    features: list[str] | None) -> list[str]:
    """The feature columns: those given, or every column but the target; all must exist."""
    if target is not None:
        require(data, target, "target")
    chosen = features if features is not None else [c for c in data.columns if c != target]
    for column in chosen:
        require(data, column, "feature")
    return list(chosen)


def estimator_class(name: str) -> type[Any]:
    """Import a scikit-learn estimator class by its dotted name, refusing anything else."""
    module_name, _, class_name = name.rpartition(".")
    if not (module_name == "sklearn" or module_name.startswith("sklearn.")):
        msg = f"'{name}' is not inside scikit-learn; only sklearn.* estimators are accepted"
        raise ValueError(msg)
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        msg = f"'{name}': no module '{module_name}' in scikit-learn{_module_hint(module_name)}"
        raise ValueError(msg) from None
    cls = getattr(module, class_name, None)
    if not _is_estimator_class(cls):
        classes = [n for n in dir(module)
                   if not n.startswith("_") and _is_estimator_class(getattr(module, n, None))]
        close = difflib.get_close_matches(class_name, classes, n=1, cutoff=0.6)
        hint = f"; did you mean '{module_name}.{close[0]}'?" if close else ""
        msg = f"'{name}' is not a scikit-learn estimator class{hint}"
        raise ValueError(msg)
    return cls


def _is_estimator_class(obj: Any) -> TypeGuard[type[Any]]:
    return isinstance(obj, type) and callable(getattr(obj, "fit", None))


def _module_hint(module_name: str) -> str:
    """"; did you mean 'sklearn.x'?" for a misspelled scikit-learn module, or ""."""
    import pkgutil

    import sklearn

    parent, _, last = module_name.rpartition(".")
    if parent != "sklearn":
        return ""
    modules = [m.name for m in pkgutil.iter_modules(sklearn.__path__)
               if not m.name.startswith("_")]
    close = difflib.get_close_matches(last, modules, n=1, cutoff=0.6)
    return f"; did you mean 'sklearn.{close[0]}'?" if close else ""


def _param_names(cls: type[Any]) -> tuple[list[str], list[str], bool]:
    """Option names of a class (as get_params() has them), the required ones, any **kwargs."""
    names: list[str] = []
    needed: list[str] = []
    any_kw = False
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD:
            any_kw = True
            continue
        names.append(p.name)
        if p.default is p.empty:
            needed.append(p.name)
    return names, needed, any_kw


def is_spec(value: Any) -> bool:
    """Say whether a JSON value is an estimator spec (``estimator``/``options`` or ``steps``)."""
    if not isinstance(value, dict):
        return False
    keys = set(value)
    return ("estimator" in keys and keys <= {"estimator", "options"}) or keys == {"steps"}


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Builder:
    """Builds specs into estimators, collecting every problem with its path."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def spec(self, node: dict[str, Any], path: str = "") -> Any:
        """Build one spec; None (with problems noted) if it cannot be built."""
        if "steps" in node:
            return self.steps(node["steps"], _at(path, "steps"))
        name, options = node.get("estimator"), node.get("options") or {}
        where = _at(path, "estimator")
        if not isinstance(name, str):
            self.problems.append(f"{where}: give the dotted name of a scikit-learn class")
            return None
        try:
            cls = estimator_class(name)
        except ValueError as exc:
            self.problems.append(f"{where}: {exc}")
            return None
        if not isinstance(options, dict):
            self.problems.append(f"{_at(path, 'options')}: options must be a mapping of "
                                 "option name to value")
            return None
        known, needed, any_kw = _param_names(cls)
        before = len(self.problems)
        for key in options:
            if key not in known and not any_kw:
                self.problems.append(
                    f"{_at(path, 'options.' + key)}: {cls.__name__} has no option '{key}'"
                    f"{suggest(key, known)} (options: {', '.join(known)})")
        for key, value in options.items():
            why = refused(key, value)
            if why is not None:
                self.problems.append(f"{_at(path, 'options.' + key)}: {why}")
            if key in GRID_OPTIONS:
                self.problems.extend(grid_refusals(value, _at(path, "options." + key)))
        for key in needed:
            if key not in options:
                self.problems.append(f"{_at(path, 'options')}: {cls.__name__} needs the "
                                     f"option '{key}'")
        built = {k: self.value(v, _at(path, f"options.{k}")) for k, v in options.items()}
        if len(self.problems) > before:
            return None
        try:
            obj = cls(**built)
            check = getattr(obj, "_validate_params", None)
            if callable(check):  # scikit-learn's own check of option types and ranges
                check()
        except Exception as exc:  # noqa: BLE001 - reported as a problem of this spec
            self.problems.append(f"{path or 'options'}: {cls.__name__}: {exc}")
            return None
        return obj

    def steps(self, steps: Any, path: str) -> Any:
        """Build a pipeline with make_pipeline (step names are the lower-cased class names)."""
        if not isinstance(steps, list) or not steps:
            self.problems.append(f"{path}: a pipeline needs a list of at least one step")
            return None
        built: list[Any] = []
        for index, step in enumerate(steps):
            where = f"{path}[{index}]"
            if not (isinstance(step, dict) and "estimator" in step
                    and set(step) <= {"estimator", "options"}):
                self.problems.append(f"{where}: a step is {{\"estimator\": ..., "
                                     "\"options\": {...}}")
                built.append(None)
                continue
            obj = self.spec(step, where)
            if obj is not None and index < len(steps) - 1 and not hasattr(obj, "transform"):
                self.problems.append(f"{where}: {type(obj).__name__} has no transform, so it "
                                     "can only be the last step")
            built.append(obj)
        if any(b is None for b in built):
            return None
        from sklearn.pipeline import make_pipeline

        return make_pipeline(*built)

    def value(self, value: Any, path: str) -> Any:
        """Build an option value: specs become estimators, inside lists and mappings too."""
        if is_spec(value):
            return self.spec(value, path)
        if isinstance(value, list):
            items = [self.value(v, f"{path}[{i}]") for i, v in enumerate(value)]
            named = (len(items) in (2, 3) and isinstance(items[0], str)
                     and is_spec(value[1]))
            return tuple(items) if named else items
        if isinstance(value, dict):
            return {k: self.value(v, _at(path, str(k))) for k, v in value.items()}
        return value


def build(spec: dict[str, Any]) -> Any:
    """Build a spec into a new, unfitted estimator.

    Raises:
        ValueError: every problem of the spec, with its path.
    """
    builder = Builder()
    obj = builder.spec(spec)
    if obj is None or builder.problems:
        msg = "; ".join(builder.problems)
        raise ValueError(msg)
    return obj


def build_value(value: Any) -> Any:
    """Build an option value (a grid value, say); specs in it become estimators."""
    builder = Builder()
    built = builder.value(value, "")
    if builder.problems:
        msg = "; ".join(builder.problems)
        raise ValueError(msg)
    return built


class Step(Params):
    """One step of a pipeline."""

    estimator: str = Field(description="Dotted name of a scikit-learn class, e.g. "
                                       "'sklearn.preprocessing.StandardScaler'.")
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="Keyword arguments of the class; a value {\"estimator\": ..., "
                    "\"options\": {...}} is built as an estimator too.")


class EstimatorChoice(Params):
    """Settings that name an estimator: a class with options, or the steps of a pipeline."""

    estimator: str | None = Field(
        default=None,
        description="Dotted name of a scikit-learn estimator class, e.g. "
                    "'sklearn.linear_model.LogisticRegression'; or give 'steps'.")
    steps: list[Step] | None = Field(
        default=None, validate_default=True,
        description="A pipeline instead of one estimator: steps built with scikit-learn's "
                    "make_pipeline, so step names are the lower-cased class names.")
    options: dict[str, Any] = Field(
        default_factory=dict, validate_default=True,
        description="Keyword arguments for the estimator (with 'estimator' only); a value "
                    "{\"estimator\": ..., \"options\": {...}} is built as an estimator too.")

    @field_validator("estimator")
    @classmethod
    def _known_estimator(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                estimator_class(name)
            except ValueError as exc:
                raise problem(str(exc)) from None
        return name

    @field_validator("steps")
    @classmethod
    def _one_of(cls, steps: list[Step] | None, info: ValidationInfo) -> list[Step] | None:
        if "estimator" not in info.data:
            return steps  # the estimator's own problem is reported already
        if info.data["estimator"] is None and steps is None:
            text = ("name an estimator: 'estimator' (a dotted scikit-learn class) or "
                    "'steps' (a pipeline)")
            raise problem(text)
        if info.data["estimator"] is not None and steps is not None:
            text = "give either 'estimator' or 'steps', not both"
            raise problem(text)
        if steps is not None:
            builder = Builder()
            builder.steps([s.model_dump() for s in steps], "steps")
            if builder.problems:
                raise problem("; ".join(builder.problems))
        return steps

    @field_validator("options")
    @classmethod
    def _options(cls, options: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.data.get("steps") is not None and options:
            text = "with 'steps', options go inside each step"
            raise problem(text)
        name = info.data.get("estimator")
        if name is not None:
            builder = Builder()
            builder.spec({"estimator": name, "options": options})
            if builder.problems:
                raise problem("; ".join(builder.problems))
        return options

    def spec(self) -> dict[str, Any]:
        """The estimator spec, as JSON."""
        if self.steps is not None:
            return {"steps": [s.model_dump() for s in self.steps]}
        return {"estimator": self.estimator, "options": self.options}

    def label(self) -> str:
        """A short name for messages: the class, or the pipeline's classes."""
        if self.steps is not None:
            return "pipeline of " + ", ".join(s.estimator.rsplit(".", 1)[-1]
                                              for s in self.steps)
        return str(self.estimator)

    def build(self) -> Any:
        """A new, unfitted estimator (or pipeline) as the settings describe."""
        return build(self.spec())



def value_problem(model: Any, key: str, value: Any) -> str | None:
    """Why scikit-learn refuses ``value`` for the param ``key`` ('step__option') of a model.

    The value is set on a clone, and the estimator that owns the param checks it with its
    own ``_validate_params``, as ``fit`` would; None when it passes (or cannot be checked
    before a fit).
    """
    from sklearn.base import clone

    try:
        trial = clone(model)
        trial.set_params(**{key: value})
        prefix = key.rpartition("__")[0]
        owner = trial.get_params(deep=True)[prefix] if prefix else trial
        check = getattr(owner, "_validate_params", None)
        if callable(check):
            check()
    except Exception as exc:  # noqa: BLE001 - reported as a problem of the value
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def describe(model: Any) -> str:
    """Name an estimator for messages: its class, or the last step of a pipeline."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list) and steps:
        return f"the pipeline ending in {type(steps[-1][1]).__name__}"
    return type(model).__name__


def built_from(info: ValidationInfo) -> Any:
    """Inside a later field's validator: the estimator the earlier fields describe, or None."""
    data = info.data
    if "estimator" not in data or "steps" not in data or "options" not in data:
        return None
    if data["steps"] is not None:
        spec: dict[str, Any] = {"steps": [s.model_dump() for s in data["steps"]]}
    elif data["estimator"] is not None:
        spec = {"estimator": data["estimator"], "options": data["options"]}
    else:
        return None
    try:
        return build(spec)
    except ValueError:
        return None
