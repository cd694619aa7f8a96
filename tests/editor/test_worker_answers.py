"""A warm run worker's answers about kept runs say what went wrong in words a user can act on."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import runtime.runs
from editor.worker_answers import answer


def test_a_file_that_cannot_be_read_is_named_with_the_systems_reason(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "values" / "7.npy"

    def unreadable(*_args: object) -> object:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(missing))

    monkeypatch.setattr(runtime.runs, "diff_runs", unreadable)
    monkeypatch.setattr(runtime.runs, "RunStore", lambda folder: folder)
    got = answer("diff", [str(tmp_path / "a"), str(tmp_path / "b")])
    # the reason and the file, not the bare errno ("2") of the exception's first argument
    assert got == {"error": f"[Errno 2] No such file or directory: '{missing}'"}


def test_a_lookup_sentence_is_given_as_written_not_quoted(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def lost(*_args: object) -> object:
        msg = "message 12 is not in this run"
        raise KeyError(msg)

    monkeypatch.setattr(runtime.runs, "diff_runs", lost)
    monkeypatch.setattr(runtime.runs, "RunStore", lambda folder: folder)
    assert answer("diff", [str(tmp_path / "a"), str(tmp_path / "b")]) == {
        "error": "message 12 is not in this run"}
