"""The model registry's errors, and the rule for the names of models and aliases.

Hierarchy (all are ``UsageError``, so the command line shows one line and exits with 2)::

    ModelRegistryError
    ├── ModelLookupError   no such model, version or alias (also a LookupError)
    ├── ModelNameError     a name or alias that is not allowed (also a ValueError)
    └── DamagedModelError  a version's meta.json or the alias log cannot be read
"""

from __future__ import annotations

import re

from runtime._errors import UsageError
from runtime._terminal import plain

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
"""A model name: letters, digits, ``_``, ``.`` and ``-``, starting with a letter or digit."""
ALIAS_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
"""An alias: starts with a letter (so it is never taken for a version number)."""


class ModelRegistryError(UsageError):
    """Something asked of the model registry cannot be done; the message says what to change."""


class ModelLookupError(ModelRegistryError, LookupError):
    """The registry has no such model, version or alias."""


class ModelNameError(ModelRegistryError, ValueError):
    """A model name or alias is not allowed (it could leave the registry folder, say)."""


class DamagedModelError(ModelRegistryError):
    """A version's ``meta.json``, or a model's alias log, cannot be read."""


def check_name(name: object) -> str:
    """Return ``name`` if it may name a model; raise ``ModelNameError`` otherwise."""
    if not isinstance(name, str) or NAME_PATTERN.fullmatch(name) is None:
        msg = (f"'{plain(name)}' cannot name a model: use 1 to 100 letters, digits, '_', '.' "
               "or '-', starting with a letter or digit (no '/', no '..')")
        raise ModelNameError(msg)
    return name


def check_alias(alias: object) -> str:
    """Return ``alias`` if it may be an alias; raise ``ModelNameError`` otherwise."""
    if not isinstance(alias, str) or ALIAS_PATTERN.fullmatch(alias) is None:
        msg = (f"'{plain(alias)}' cannot be an alias: use 1 to 64 letters, digits, '_' or "
               "'-', starting with a letter, e.g. champion or challenger")
        raise ModelNameError(msg)
    return alias
