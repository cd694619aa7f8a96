"""Each public face's ``__all__`` is its public surface: complete, importable, nothing else.

The faces are ``runtime`` (flow hosts and component authors) and, where present, the faces
for engine writers and run-store readers; each is checked the same way.
"""

from __future__ import annotations
import __future__

import importlib
import importlib.metadata
import importlib.util
import inspect
import types

import pytest

import runtime

INCLUDED_PRIVATE_MEMBERS = {"__version__"}
FACES = [name for name in ("runtime", "runtime.engines", "runtime.runs",
                                    "runtime.models")
         if importlib.util.find_spec(name) is not None]


def public_names(face: types.ModuleType) -> list[str]:
    """Names bound in a face that a user may rely on (not its submodules)."""
    return [
        name
        for name, value in vars(face).items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE_MEMBERS)
        and not isinstance(value, types.ModuleType | __future__._Feature)
    ]


@pytest.fixture(params=FACES)
def face(request: pytest.FixtureRequest) -> types.ModuleType:
    return importlib.import_module(request.param)


def test_all_lists_every_public_name_once(face: types.ModuleType) -> None:
    assert len(face.__all__) == len(set(face.__all__))
    assert sorted(face.__all__) == sorted(public_names(face))


def test_every_exported_name_is_importable(face: types.ModuleType) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {face.__name__} import *", namespace)

    for name in face.__all__:
        assert namespace[name] is getattr(face, name), name


def test_exported_classes_and_functions_are_defined_in_the_runtime_package(
        face: types.ModuleType) -> None:
    checked = 0
    for name in face.__all__:
        value = getattr(face, name)
        if isinstance(value, type) or inspect.isfunction(inspect.unwrap(value)):
            assert value.__module__.split(".")[0] == "runtime", (name, value.__module__)
            checked += 1
    assert checked >= (20 if face is runtime else 1)


def test_version_matches_the_installed_distribution() -> None:
    assert runtime.__version__ == importlib.metadata.version("edgewise")
