"""The model registry of a workspace: numbered versions of named models, and their aliases.

Layout of ``<workspace>/.edgewise/models/``::

    <name>/
        aliases.log          every alias move, one JSON line each (append-only)
        1/model.skops        the fitted estimator (skops)
        1/meta.json          estimator, params, features, metrics, created, source
        2/...

A version number is taken by making its folder (``mkdir`` fails if another writer took
it first, and the next number is tried), so two writers never get the same version.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from runtime._models.aliases import LOG_FILE, AliasMove, append_move, read_log
from runtime._models.errors import (
    ModelLookupError,
    ModelRegistryError,
    check_alias,
    check_name,
)
from runtime._models.versions import (
    MODEL_FILE,
    ModelVersion,
    class_path,
    features_of,
    json_safe,
    params_of,
    read_meta,
    readable,
    write_atomically,
    write_meta,
)
from runtime._terminal import plain

MODELS_DIR = Path(".edgewise") / "models"
MAX_TRIES = 1000


def registry_root(workspace: Path) -> Path:
    """Where a workspace keeps its registered models."""
    return Path(workspace) / MODELS_DIR


def _numbers(folder: Path) -> list[int]:
    """The numbers of every version folder, complete or not."""
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    return sorted(int(e.name) for e in entries
                  if e.name.isdigit() and e.name == str(int(e.name)) and e.is_dir())


class ModelRegistry:
    """The registered models under one folder (``registry_root(workspace)``).

    Attributes:
        root: The registry folder; it is made on the first registration.
    """

    check_name = staticmethod(check_name)
    check_alias = staticmethod(check_alias)

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        """Name the folder."""
        return f"ModelRegistry({str(self.root)!r})"

    def _folder(self, name: str) -> Path:
        return self.root / check_name(name)

    def _known(self, name: str) -> Path:
        folder = self._folder(name)
        if not folder.is_dir():
            known = self.names()
            have = (f"the registry has {', '.join(known)}" if known
                    else "the registry is empty")
            msg = (f"no model '{plain(name)}' in {self.root} ({have}); register one with "
                   "model.register first")
            raise ModelLookupError(msg)
        return folder

    def names(self) -> list[str]:
        """Every model with a folder in the registry, sorted."""
        try:
            entries = list(os.scandir(self.root))
        except (FileNotFoundError, NotADirectoryError):
            return []
        names = []
        for entry in entries:
            try:
                check_name(entry.name)
            except ModelRegistryError:
                continue
            if entry.is_dir():
                names.append(entry.name)
        return sorted(names)

    def register(self, model: Any, name: str, *, metrics: dict[str, Any] | None = None,
                 features: list[str] | None = None,
                 source: dict[str, Any] | None = None) -> ModelVersion:
        """Write ``model`` as the next version of ``name``; returns it.

        Raises:
            ModelNameError: ``name`` may not name a model.
            ModelRegistryError: the model holds types that could not be loaded back safely.
            OSError: the registry folder cannot be written.
        """
        from runtime._record import dump_model

        folder = self._folder(name)
        data, refused = dump_model(model)
        if refused:
            msg = (f"the {type(model).__name__} given holds {', '.join(refused[:5])}, which "
                   "the registry would refuse to load (only data types of Python, numpy, "
                   "scipy and scikit-learn are loaded); register a scikit-learn model")
            raise ModelRegistryError(msg)
        folder.mkdir(parents=True, exist_ok=True)
        number, where = self._claim(folder)
        write_atomically(where / MODEL_FILE, data)
        version = ModelVersion(
            name=name, version=number, folder=where, estimator=class_path(model),
            params=params_of(model),
            features=list(features) if features is not None else features_of(model),
            metrics={str(k): json_safe(v) for k, v in (metrics or {}).items()},
            created=datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds"),
            source=json_safe(source) if source is not None else None)
        write_meta(version)
        return version

    def _claim(self, folder: Path) -> tuple[int, Path]:
        """Make the folder of the next free version number; returns the number and folder."""
        number = (_numbers(folder) or [0])[-1] + 1
        for _ in range(MAX_TRIES):
            where = folder / str(number)
            try:
                where.mkdir()
            except FileExistsError:
                number += 1
                continue
            return number, where
        msg = f"could not take a version number in {folder} after {MAX_TRIES} tries"
        raise ModelRegistryError(msg)

    def versions(self, name: str) -> list[ModelVersion]:
        """Every complete version of ``name``, oldest first (damaged ones say so).

        Raises:
            ModelLookupError: the registry has no model ``name``.
        """
        folder = self._known(name)
        return [read_meta(name, n, folder / str(n)) for n in _numbers(folder)
                if (folder / str(n) / "meta.json").is_file()]

    def _missing_version(self, name: str, version: object) -> ModelLookupError:
        have = [v.version for v in self.versions(name)]
        listed = (f"its versions are {', '.join(map(str, have))}" if have
                  else "it has no complete version yet")
        return ModelLookupError(f"model '{name}' has no version {plain(version)}; {listed}")

    def version(self, name: str, version: int) -> ModelVersion:
        """One complete version of ``name``.

        Raises:
            ModelLookupError: no such model or version.
            DamagedModelError: the version's meta.json cannot be read.
        """
        folder = self._known(name)
        if type(version) is not int or version < 1 or not (
                folder / str(version) / "meta.json").is_file():
            raise self._missing_version(name, version)
        return readable(read_meta(name, version, folder / str(version)))

    def load(self, name: str, version: int) -> Any:
        """Load a version's estimator, with the safe-load rule of kept models.

        Raises:
            ModelLookupError: no such model or version.
            DamagedModelError: the version's meta.json cannot be read.
            UnsafeModelError: the skops file names a type outside the allow-list, or is
                unreadable.
        """
        from runtime._record import load_model

        found = self.version(name, version)
        return load_model(found.model_file, f"version {version} of model '{name}'")

    def log_path(self, name: str) -> Path:
        """The alias log of ``name`` (which may not exist yet)."""
        return self._folder(name) / LOG_FILE

    def log(self, name: str) -> list[AliasMove]:
        """Every alias move of ``name``, oldest first (damaged lines skipped).

        Raises:
            ModelLookupError: the registry has no model ``name``.
        """
        return read_log(self._known(name) / LOG_FILE).moves

    def log_damage(self, name: str) -> list[str]:
        """What is wrong with lines of the alias log of ``name`` (empty when nothing is)."""
        return read_log(self._known(name) / LOG_FILE).damage

    def aliases(self, name: str) -> dict[str, int]:
        """Each alias of ``name`` and the version it points to, as the log says."""
        return read_log(self._known(name) / LOG_FILE).aliases()

    def resolve(self, name: str, alias: str) -> int | None:
        """The version ``alias`` points to, or None if it was never set.

        Raises:
            ModelLookupError: the registry has no model ``name``.
            ModelNameError: ``alias`` is not a valid alias.
        """
        return self.aliases(name).get(check_alias(alias))

    def set_alias(self, name: str, alias: str, version: int, *, by: str,
                  why: str) -> AliasMove:
        """Point ``alias`` at ``version``, appending the move to the log.

        Raises:
            ModelLookupError: no such model or version (the message lists the versions).
            ModelNameError: ``alias`` is not a valid alias.
            DamagedModelError: the version's meta.json cannot be read.
        """
        check_alias(alias)
        self.version(name, version)
        return append_move(self._folder(name) / LOG_FILE, alias, version, by=by, why=why)


