"""Settings every test shares."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_config_dir(tmp_path_factory: pytest.TempPathFactory,
                    monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep each test's user config (the trust store) out of the real home folder.

    Set in the environment, so CLI and editor processes that tests start inherit it.
    """
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("EDGEWISE_CONFIG_DIR", str(folder))
    return folder


# Modules whose tests are slow and share no module fixture: run first, so that the two
# workers of `pytest -n 2` do not end with one of them alone on a long test.
SLOW_FIRST = ("tests/test_bench_editor.py", "tests/test_bench.py", "tests/test_flows.py",
              "tests/runtime/test_replay_honest.py", "tests/runtime/test_schema.py")


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep a module's tests on one worker when they share a module fixture; slow ones first.

    With ``--dist loadgroup`` (as ``./dev test`` runs), a module fixture (a recorded run, an
    editor's Chromium) is then made once instead of once per worker; the other tests are
    spread one by one. Before the grouping, tests of SLOW_FIRST modules are moved ahead.
    """
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))
    sharing: dict[str, list[pytest.Item]] = {}
    for item in items:
        if _shares_a_module_fixture(item):
            sharing.setdefault(item.nodeid.split("::")[0], []).append(item)
    for module, grouped in sharing.items():
        if len(grouped) > 1:
            for item in grouped:
                item.add_marker(pytest.mark.xdist_group(name=module))
