"""The face for the model registry: numbered versions of named models, and their aliases.

A workspace keeps its registered models under ``.edgewise/models`` (``registry_root``),
as a plain folder: ``<name>/<version>/model.skops`` and ``meta.json`` for each version,
and ``<name>/aliases.log``, the append-only log of alias moves (``champion``,
``challenger``, ...). ``ModelRegistry`` registers, lists, loads (safely) and moves
aliases; ``edgewise models`` and the ``model.register`` and ``model.get`` components use
it.
"""

from runtime._models import (
    AliasMove,
    DamagedModelError,
    ModelLookupError,
    ModelNameError,
    ModelRegistry,
    ModelRegistryError,
    ModelVersion,
    registry_root,
)

__all__ = [
    "AliasMove",
    "DamagedModelError",
    "ModelLookupError",
    "ModelNameError",
    "ModelRegistry",
    "ModelRegistryError",
    "ModelVersion",
    "registry_root",
]
