"""The registry half of the ``model`` family: ``model.register`` and ``model.get``.

``model.register`` writes each model it gets as a new version in the workspace's model
registry (``runtime.models``), with the run and message it came from, so that
``edgewise trained-on`` finds the rows that trained it. ``model.get`` emits the version an
alias points to, and again each time the alias moves, into a ``latest`` port: a promotion
reaches a running scorer without a restart.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo

from components._model_label import REGISTRY_ATTR, tag_model
from runtime import (
    CONTEXT_TAG,
    NEW_ROWS_TAG,
    STATEFUL_TAG,
    CallContext,
    Params,
    call_context,
    component,
    latest,
    plain,
)
from runtime.engines import PATH_KEY
from runtime.models import ModelRegistry, ModelRegistryError

WAIT_SECONDS = 0.05
"""The longest ``model.get`` sleeps before handing control back to the engine."""
EVENT_COLUMNS = ("name", "version", "alias")
DEFAULT_REGISTRY = ".edgewise/models"
REGISTRY_HELP = ("The registry folder, relative to the flow file's folder; by default the "
                 "workspace's registry, .edgewise/models next to the flow file.")


def _registry_folder(value: str, info: ValidationInfo) -> str:
    """The registry folder, made absolute against the flow file's folder."""
    if "\x00" in value:
        msg = "the folder holds a NUL character (\\x00), which no folder name can hold"
        raise ValueError(msg)
    base = (info.context or {}).get("base_dir")
    base = base if isinstance(base, Path) else Path()
    folder = base / (value or DEFAULT_REGISTRY)
    try:
        folder = folder.resolve()
    except (OSError, RuntimeError) as exc:
        msg = f"the folder '{value}' cannot be used: {exc}"
        raise ValueError(msg) from exc
    if folder.exists() and not folder.is_dir():
        msg = (f"'{value}' is not a folder (looked at {folder}); name the registry folder, "
               f"or leave the default, {DEFAULT_REGISTRY}")
        raise ValueError(msg)
    return str(folder)


def _registry_rule(check: Callable[[object], str]) -> AfterValidator:
    """A validator applying one of the registry's naming rules, its refusal a ValueError."""
    def valid(value: str) -> str:
        try:
            return check(value)
        except ModelRegistryError as exc:
            raise ValueError(str(exc)) from None

    return AfterValidator(valid)


ModelName = Annotated[str, _registry_rule(ModelRegistry.check_name)]
"""A model name param, checked by the registry's rule for names."""
AliasName = Annotated[str, _registry_rule(ModelRegistry.check_alias)]
"""An alias param, checked by the registry's rule for aliases."""
RegistryFolder = Annotated[str, AfterValidator(_registry_folder)]
"""A registry folder param, made absolute against the flow file's folder."""


class RegisterParams(Params):
    """Settings of ``model.register``."""

    name: ModelName = Field(description="The model's name in the registry, e.g. 'churn'.")
    alias: AliasName | None = Field(
        default=None,
        description="Point this alias (e.g. 'champion' or 'challenger') at each new "
                    "version; leave empty to set none.")
    # marked as an output path, so that a replay registers inside the new run's folder
    registry: RegistryFolder = Field(default=DEFAULT_REGISTRY, validate_default=True,
                                     description=REGISTRY_HELP,
                                     json_schema_extra={PATH_KEY: "output"})
    why: str = Field(default="", description="Why the alias is moved, kept in its log.")


def _metric_values(metrics: Any) -> dict[str, Any]:
    """What ``ml.score`` emits (a dict), or a one-row DataFrame, as a dict of metrics."""
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        return {str(k): v for k, v in metrics.items()}
    if hasattr(metrics, "to_dict") and hasattr(metrics, "columns"):
        if len(metrics) != 1:
            msg = (f"the metrics DataFrame has {len(metrics)} rows; give one row of metric "
                   "values (as ml.score emits a dict)")
            raise ValueError(msg)
        return {str(k): v for k, v in metrics.iloc[0].to_dict().items()}
    msg = (f"metrics must be a dict of metric values (what ml.score emits) or a one-row "
           f"DataFrame, not {type(metrics).__name__}")
    raise TypeError(msg)


def _untagged(model: Any) -> Any:
    """The model without a registry tag from an earlier ``model.get`` (a shallow copy)."""
    if REGISTRY_ATTR not in getattr(model, "__dict__", {}):
        return model
    plain_model = copy.copy(model)
    delattr(plain_model, REGISTRY_ATTR)
    return plain_model


def _training_source(registry: ModelRegistry, context: CallContext | None) -> dict[str, Any]:
    """Where the model came from: run, message, and, from the kept run, its output and flow."""
    if context is None:
        return {"run": None, "message": None, "node": None, "port": None,
                "registered_by": None, "flow": None}
    source: dict[str, Any] = {"run": context.run_id, "message": context.inputs.get("model"),
                              "node": None, "port": None, "registered_by": context.node,
                              "flow": None}
    if context.run_id is None:
        return source
    from runtime.runs import RunStore, runs_root

    try:  # the run is kept in the same workspace as the registry, as a recorded run is
        manifest = RunStore(runs_root(registry.root.parent.parent) / context.run_id).manifest()
    except Exception:  # noqa: BLE001 - kept elsewhere: run and message still say enough
        return source
    flow = manifest.get("flow") or {}
    target = f"{context.node}.model"
    feeding = [e.get("source") for e in flow.get("edges", []) if e.get("target") == target]
    if len(feeding) == 1 and isinstance(feeding[0], str) and "." in feeding[0]:
        source["node"], source["port"] = feeding[0].split(".", 1)
    flow_file = manifest.get("flow_file")
    source["flow"] = flow_file if isinstance(flow_file, str) else flow.get("name")
    return source


@component("model.register", inputs={
    "model": "Model",
    "metrics": latest("Any", "Training metrics: what ml.score emits, or a one-row DataFrame.",
                      required=False)},
    outputs={"event": "DataFrame", "model": "Model"}, params=RegisterParams, threaded=True,
    tags=[CONTEXT_TAG, NEW_ROWS_TAG, STATEFUL_TAG])
def register(model: Any, metrics: Any = None, *, params: RegisterParams) -> dict[str, Any]:
    """Write each model as a new version of ``name`` in the model registry.

    The version (1, 2, 3, ...) holds the skops file and its metadata: the estimator and its
    params, its features, the metrics on ``metrics`` (when connected), when it was made and
    where from: the kept run's id and the model's message id, so that ``edgewise
    trained-on`` finds the rows that trained it. With ``alias``, the alias is moved to the
    new version and the move is logged. ``event`` gets one row (``name``, ``version``,
    ``alias``, then the metrics); ``model`` gets the same model, named ``name:version`` in
    the ``model`` column of the scorers downstream.
    """
    import pandas as pd

    registry = ModelRegistry(Path(params.registry))
    context = call_context()
    values = _metric_values(metrics)
    version = registry.register(_untagged(model), params.name, metrics=values,
                                source=_training_source(registry, context))
    if params.alias is not None:
        node = context.node if context is not None else "?"
        run = f" run {context.run_id}" if context is not None and context.run_id else ""
        registry.set_alias(params.name, params.alias, version.version, by=f"node:{node}{run}",
                           why=params.why or f"registered as version {version.version}")
    row: dict[str, Any] = {"name": params.name, "version": version.version,
                           "alias": params.alias or ""}
    row.update({k: v for k, v in version.metrics.items() if k not in EVENT_COLUMNS})
    event = pd.DataFrame([row], index=[version.version])
    return {"event": event,
            "model": tag_model(copy.copy(model), params.name, version.version)}


class GetParams(Params):
    """Settings of ``model.get``."""

    name: ModelName = Field(description="The model's name in the registry, e.g. 'churn'.")
    alias: AliasName = Field(default="champion",
                             description="The alias whose version to emit, e.g. 'champion'.")
    registry: RegistryFolder = Field(default=DEFAULT_REGISTRY, validate_default=True,
                                     description=REGISTRY_HELP)
    follow: bool = Field(
        default=True,
        description="Keep watching the alias and emit the new version each time it moves, "
                    "until the run stops; otherwise emit once and end.")
    poll_seconds: float = Field(default=0.5, gt=0, le=3600,
                                description="Seconds between two looks at the alias log.")


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns


def _nowhere(registry: ModelRegistry, params: GetParams) -> LookupError:
    return LookupError(
        f"alias '{params.alias}' of model '{params.name}' points to no version yet in "
        f"{registry.root}; set it with `edgewise models alias {params.name} {params.alias} "
        "VERSION`, or set follow: true to wait for it")


@component("model.get", outputs={"model": "Model"}, params=GetParams, threaded=True)
def get(*, params: GetParams) -> Iterator[Any]:
    """Emit the registered version an alias points to, and again each time the alias moves.

    Feed it into a ``latest`` model port (``ml.predict``'s, ``ml.serve``'s): a promotion
    reaches the running scorer without a restart. The model is loaded with the safe-load
    rule of kept models and named ``name:version`` for the scorers. While ``follow`` is
    on, the alias log is looked at every ``poll_seconds`` and a version is emitted only
    when the alias points to another one; an alias (or a model) not there yet is waited
    for. With ``follow`` off, the version is emitted once and the node ends; an alias that
    points nowhere is then an error record. A version that cannot be loaded is an error
    record, and the watch goes on.
    """
    registry = ModelRegistry(Path(params.registry))
    log = registry.log_path(params.name)
    emitted: int | None = None
    seen: tuple[int, int] | None | bool = False  # False: not looked at yet
    next_look = time.monotonic()
    # Nothing is held open between two looks (no thread, no file), so when the engine
    # closes this generator at a yield, the node has nothing left to release.
    while True:
        while (now := time.monotonic()) < next_look:
            time.sleep(min(WAIT_SECONDS, next_look - now))
            yield None
        next_look = now + params.poll_seconds
        stamp = _stamp(log)
        if stamp == seen:
            continue
        seen = stamp
        try:
            version = registry.resolve(params.name, params.alias)
        except ModelRegistryError as exc:
            if not params.follow:
                yield LookupError(str(exc))
                return
            version = None  # the model is not registered yet: wait for it
        if version is None and not params.follow:
            yield _nowhere(registry, params)
            return
        if version is not None and version != emitted:
            emitted = version
            try:
                model = registry.load(params.name, version)
            except Exception as exc:  # noqa: BLE001 - reported; the watch goes on
                yield ValueError(f"version {version} of model '{params.name}' could not "
                                 f"be loaded: {plain(exc)}")
            else:
                yield tag_model(model, params.name, version)
        if not params.follow:
            return
