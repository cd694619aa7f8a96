"""The model registry: numbered versions of named models in a plain folder, and their aliases."""

from runtime._models.aliases import AliasMove
from runtime._models.errors import (
    DamagedModelError,
    ModelLookupError,
    ModelNameError,
    ModelRegistryError,
)
from runtime._models.registry import ModelRegistry, registry_root
from runtime._models.versions import ModelVersion

__all__ = ["AliasMove", "DamagedModelError", "ModelLookupError", "ModelNameError",
           "ModelRegistry", "ModelRegistryError", "ModelVersion", "registry_root"]
