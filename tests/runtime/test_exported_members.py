"""``runtime.__all__`` is the public surface: complete, importable, and nothing else."""

from __future__ import annotations

import importlib.metadata
import inspect
import types

import runtime

INCLUDED_PRIVATE_MEMBERS = {"__version__"}


def public_names() -> list[str]:
    """Names bound in ``runtime/__init__.py`` that a user may rely on (not its submodules)."""
    return [
        name
        for name, value in vars(runtime).items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS)
        and not isinstance(value, types.ModuleType)
    ]


def test_all_lists_every_public_name_once() -> None:
    assert len(runtime.__all__) == len(set(runtime.__all__))
    assert sorted(runtime.__all__) == sorted(public_names())


def test_every_exported_name_is_importable() -> None:
    namespace: dict[str, object] = {}
    exec("from runtime import *", namespace)

    for name in runtime.__all__:
        assert namespace[name] is getattr(runtime, name), name


def test_exported_classes_and_functions_are_defined_in_the_runtime_package() -> None:
    checked = 0
    for name in runtime.__all__:
        value = getattr(runtime, name)
        if isinstance(value, type) or inspect.isfunction(inspect.unwrap(value)):
            assert value.__module__.split(".")[0] == "runtime", (name, value.__module__)
            checked += 1
    assert checked >= 20


def test_version_matches_the_installed_distribution() -> None:
    assert runtime.__version__ == importlib.metadata.version("edgewise")
