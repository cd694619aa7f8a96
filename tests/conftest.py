"""Settings every test shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import raycluster


@pytest.fixture(autouse=True)
def _own_config_dir(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep each test's user config (the trust store) out of the real home folder.

    Set in the environment, so CLI and editor processes that tests start inherit it.
    """
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("EDGEWISE_CONFIG_DIR", str(folder))
    return folder


def pytest_configure(config: pytest.Config) -> None:
    """In the controller: prepare the session's Ray cluster (see ``ray_address``)."""
    if not hasattr(config, "workerinput"):
        raycluster.prepare()


def pytest_unconfigure(config: pytest.Config) -> None:
    """In the controller: stop the session's Ray cluster, if a test started it."""
    if not hasattr(config, "workerinput"):
        raycluster.stop()


@pytest.fixture(scope="session")
def ray_address() -> str:
    """The address of the Ray cluster that every test on Ray joins; started once a session.

    Tests reach it with ``--address`` or ``RAY_ADDRESS`` (see ``tests/raycluster.py``).
    """
    pytest.importorskip("ray")
    return raycluster.join()


# Modules whose tests are slow but need no browser: they start first too (see below).
SLOW_FIRST = ("tests/runtime/test_ray_engine.py", "tests/test_bench_editor.py",
              "tests/test_bench.py", "tests/test_flows.py",
              "tests/runtime/test_replay_honest.py", "tests/runtime/test_schema.py")
BROWSER_FIXTURES = {"page", "server_factory", "examples_server"}


def _weight(item: pytest.Item) -> int:
    """0 for a slow test (a browser, an editor server, a SLOW_FIRST module); 1 for a test
    sharing a module fixture; 2 for the rest."""
    info = getattr(item, "_fixtureinfo", None)
    names = info.name2fixturedefs if info is not None else {}
    if item.nodeid.startswith(SLOW_FIRST) or BROWSER_FIXTURES & set(names):
        return 0
    if any(defs and defs[-1].scope == "module" for defs in names.values()):
        return 1
    return 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the modules with slow tests first, keeping each module's tests together.

    ``./dev test`` runs ``pytest -n 2 --dist loadfile --no-loadscope-reorder``: each module
    goes whole to one worker (a module fixture, such as a recorded run or an editor's
    Chromium, is made once, not once per worker), in this order, so the two workers end on
    short modules and finish together.
    """
    weight: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        weight[module] = min(weight.get(module, 2), _weight(item))
    items.sort(key=lambda item: weight[item.nodeid.split("::")[0]])
