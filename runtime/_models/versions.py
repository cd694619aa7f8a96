"""One version of a registered model: its ``meta.json``, written atomically and read back.

A version folder ``<name>/<version>/`` holds ``model.skops`` and ``meta.json``. The
meta file is written last, through a temporary name and a rename, so a version whose
``meta.json`` is there is complete; a folder without it (a writer that crashed) is never
listed.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime._models.errors import DamagedModelError

META_FILE = "meta.json"
MODEL_FILE = "model.skops"


@dataclass(frozen=True)
class ModelVersion:
    """What the registry knows of one version of a model.

    Attributes:
        name: The model's name.
        version: The version number (1, 2, 3, ...).
        folder: The version's folder.
        estimator: The estimator's class, ``module.Class``.
        params: The estimator's params (``get_params(deep=False)``), made JSON-safe.
        features: The feature names it was fitted on, when it knows them.
        metrics: The training metrics given when it was registered.
        created: When it was registered (ISO 8601, UTC).
        source: Where the model came from: ``run`` (the kept run's id), ``message`` (the
            model's message id in that run), ``node`` and ``port`` (the output that made
            it), ``registered_by`` (the registering node) and ``flow`` (the flow file);
            each is None when it is not known.
        damage: Why ``meta.json`` cannot be read, or None when it can.
    """

    name: str
    version: int
    folder: Path
    estimator: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    features: list[str] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    source: dict[str, Any] | None = None
    damage: str | None = None

    @property
    def model_file(self) -> Path:
        """The version's skops file."""
        return self.folder / MODEL_FILE

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``--json`` output)."""
        return {"name": self.name, "version": self.version, "folder": str(self.folder),
                "estimator": self.estimator, "params": self.params,
                "features": self.features, "metrics": self.metrics, "created": self.created,
                "source": self.source, "damage": self.damage}


def class_path(value: Any) -> str:
    """``module.Class`` of a value."""
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def json_safe(value: Any, depth: int = 0) -> Any:
    """A JSON-safe form of a param or metric value (estimators by class and params)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth > 8:
        return repr(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, depth + 1) for v in value]
    if hasattr(value, "get_params") and not isinstance(value, type):
        return {"estimator": class_path(value), "params": params_of(value, depth + 1)}
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item) and getattr(value, "shape", None) == ():
        return json_safe(item(), depth + 1)
    return repr(value)


def params_of(model: Any, depth: int = 0) -> dict[str, Any]:
    """The estimator's own params (not its parts'), JSON-safe; empty if it has none."""
    get_params = getattr(model, "get_params", None)
    if not callable(get_params):
        return {}
    try:
        params = get_params(deep=False)
    except Exception:  # noqa: BLE001 - an estimator whose params cannot be read has none here
        return {}
    return {str(k): json_safe(v, depth) for k, v in dict(params).items()}


def features_of(model: Any) -> list[str] | None:
    """``feature_names_in_`` of a fitted estimator, when it has them."""
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary name, fsynced and renamed into place."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    try:  # make the rename itself durable, where the system lets a folder be synced
        folder = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(folder)
    except OSError:
        pass
    finally:
        os.close(folder)


def write_meta(version: ModelVersion) -> None:
    """Write the version's ``meta.json`` (last: it marks the version complete)."""
    meta = {key: value for key, value in version.to_json().items()
            if key not in ("name", "version", "folder", "damage")}
    meta = {"name": version.name, "version": version.version, **meta}
    write_atomically(version.folder / META_FILE,
                     json.dumps(meta, indent=2, allow_nan=False).encode("utf-8"))


def read_meta(name: str, number: int, folder: Path) -> ModelVersion:
    """Read a complete version's ``meta.json``; a damaged one gives a version with ``damage``."""
    path = folder / META_FILE
    try:
        meta = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return ModelVersion(name, number, folder, damage=f"{path} cannot be read ({why})")
    if not isinstance(meta, dict) or not isinstance(meta.get("estimator"), str):
        return ModelVersion(name, number, folder,
                            damage=f"{path} is not the meta file of a model version")
    source, features = meta.get("source"), meta.get("features")
    params, metrics = meta.get("params"), meta.get("metrics")
    return ModelVersion(
        name, number, folder, estimator=meta["estimator"],
        params=params if isinstance(params, dict) else {},
        features=[str(f) for f in features] if isinstance(features, list) else None,
        metrics=metrics if isinstance(metrics, dict) else {},
        created=str(meta.get("created", "")),
        source=source if isinstance(source, dict) else None)


def readable(version: ModelVersion) -> ModelVersion:
    """The version itself, or ``DamagedModelError`` if its meta cannot be read."""
    if version.damage is not None:
        msg = (f"version {version.version} of model '{version.name}' is damaged: "
               f"{version.damage}; register the model again")
        raise DamagedModelError(msg)
    return version
