"""Mistakes a user can make with the editor get a clear message, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def edgewise(*args: str, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST",
                                                                "EDGEWISE_TOKEN")}
    return subprocess.run([sys.executable, "-m", "runtime.cli", *args], env=base | (env or {}),
                          cwd=REPO, capture_output=True, text=True, timeout=30)


# -- the command line --------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1", "http"])
def test_a_port_out_of_range_is_refused(tmp_path: Path, port: str) -> None:
    folder = tmp_path / "ws"

    result = edgewise("edit", str(folder), f"--port={port}")

    assert result.returncode == 2
    assert f"'{port}' is not a port: give a number from 1 to 65535" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not folder.exists()


@pytest.mark.parametrize("where", ["under-a-file", "in-proc"])
def test_a_workspace_that_cannot_be_created_is_refused(tmp_path: Path, where: str) -> None:
    if where == "under-a-file":
        blocker = tmp_path / "notes.txt"
        blocker.write_text("mine")
        folder = blocker / "flows"
        reason = "Not a directory"
    else:
        folder = Path("/proc/edgewise-flows")
        reason = "No such file or directory"

    result = edgewise("edit", str(folder), "--port", "8080")

    assert result.returncode == 2
    assert f"cannot create the workspace folder {folder}: {reason}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_token_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-token"
    empty = tmp_path / "empty-token"
    empty.write_text("\n")

    for path, says in [(missing, "cannot read the token file"), (empty, "is empty")]:
        result = edgewise("edit", str(tmp_path / "ws"), "--token-file", str(path))
        assert result.returncode == 2
        assert says in result.stderr and str(path) in result.stderr
        assert "Traceback" not in result.stderr


def test_binding_beyond_this_machine_names_the_safe_ways_to_give_a_token(tmp_path: Path) -> None:
    """Without any token, binding beyond loopback is refused, naming the safe ways to give it."""
    result = edgewise("edit", str(tmp_path / "ws"), "--host", "0.0.0.0")

    assert result.returncode == 2
    assert "--token-file" in result.stderr and "EDGEWISE_TOKEN" in result.stderr


def test_allow_host_refuses_a_pattern(tmp_path: Path) -> None:
    result = edgewise("edit", str(tmp_path / "ws"), "--allow-host", "*")

    assert result.returncode == 2
    assert "'*' is not a host name" in result.stderr
    assert "Traceback" not in result.stderr


def test_edit_help_explains_the_token_and_host_options() -> None:
    result = edgewise("edit", "--help")

    assert result.returncode == 0
    for text in ("--token-file", "EDGEWISE_TOKEN", "process list", "--allow-host"):
        assert text in " ".join(result.stdout.split())
