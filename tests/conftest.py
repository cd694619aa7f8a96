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
