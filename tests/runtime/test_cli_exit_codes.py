"""The CLI's one set of exit codes: a user's mistake is a message and code 2, a bug a traceback.

The commands run in-process through ``runtime.cli.main`` on a run recorded once for the module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from runtime import Run, plan
from runtime._record import record_run
from runtime._record.lineage import Lineage
from runtime.cli import EXIT_BUG, EXIT_ERRORS, EXIT_INVALID, EXIT_OK, main


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with one kept run: 20 rows in chunks of 5, through a query, counted."""
    folder = tmp_path_factory.mktemp("kept")
    (folder / "data").mkdir()
    pd.DataFrame({"a": range(20)}).to_csv(folder / "data" / "in.csv", index=False)
    flow = folder / "flow.json"
    flow.write_text(json.dumps({"edgewise": 1, "name": "t", "nodes": [
        {"id": "read", "component": "csv.read",
         "params": {"path": "data/in.csv", "chunk_rows": 5}},
        {"id": "q", "component": "frame.query", "params": {"expr": "a >= 0"}},
        {"id": "n", "component": "stream.count"}],
        "edges": [{"source": "read.data", "target": "q.data"},
                  {"source": "q.data", "target": "n.data"}]}), encoding="utf-8")
    run = Run(plan(flow))
    record_run(run, folder)
    assert run.run().status == "ok"
    return folder


def edgewise(capsys: pytest.CaptureFixture[str], workspace: Path,
             *args: str) -> tuple[int, str, str]:
    code = main([*args, "-w", str(workspace)])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_codes_are_the_documented_ones() -> None:
    assert (EXIT_OK, EXIT_ERRORS, EXIT_INVALID, EXIT_BUG) == (0, 1, 2, 3)


def test_help_lists_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    out = capsys.readouterr().out

    assert exited.value.code == 0
    assert "exit codes" in out
    for code in (EXIT_OK, EXIT_ERRORS, EXIT_INVALID, EXIT_BUG):
        assert f"\n  {code}  " in out, out


def test_a_good_question_exits_0(capsys: pytest.CaptureFixture[str], workspace: Path) -> None:
    code, out, err = edgewise(capsys, workspace, "trace", "latest", "q.data", "--row", "7")

    assert code == EXIT_OK, err
    assert "source: data/in.csv line 9" in out


MISTAKES = {
    "unknown run": (("inspect", "nosuchrun", "q.data->n.data"), "no run 'nosuchrun'"),
    "port without a dot": (("trace", "latest", "q"), "must name an output port as NODE.PORT"),
    "port with no messages": (("trace", "latest", "q.nope"),
                              "no message was recorded on q.nope"),
    "unknown edge": (("inspect", "latest", "q.data->m.data"), "did you mean q.data->n.data?"),
    "unknown message id": (("trace", "latest", "q.data", "--id", "9999"),
                           "has no message 9999 on q.data"),
    "unknown row": (("trace", "latest", "q.data", "--row", "999"), "a row with id '999'"),
    "position out of range": (("trace", "latest", "q.data", "--message", "40"),
                              "--message 40 is out of range"),
    "not a model": (("trained-on", "latest", "q.data"), "is not a model"),
    "no model on the path": (("scored-by", "latest", "q.data", "--row", "3"),
                             "no model took part in making row '3'"),
    "unknown node to replay from": (("replay", "latest", "--from", "nope"), "no node 'nope'"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_mistake_is_a_message_and_code_2(capsys: pytest.CaptureFixture[str], workspace: Path,
                                           mistake: str) -> None:
    args, message = MISTAKES[mistake]
    code, out, err = edgewise(capsys, workspace, *args)

    assert code == EXIT_INVALID, out + err
    assert "Traceback" not in out + err
    assert message in err
    assert err.startswith(f"edgewise {args[0]}: "), err


@pytest.mark.parametrize("error", [KeyError("cache slot"), LookupError("cache slot"),
                                   ValueError("cache slot")])
def test_a_bug_shows_its_traceback_and_code_3(capsys: pytest.CaptureFixture[str],
                                              workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                              error: Exception) -> None:
    # A KeyError (or any LookupError, ValueError) from our own code is a bug, not a
    # mistake of the user's: it must not be shown as one and hidden behind exit code 2.
    def broken(self: Lineage, message_id: int, row: Any = None) -> Any:
        raise error

    monkeypatch.setattr(Lineage, "trace", broken)
    code, out, err = edgewise(capsys, workspace, "trace", "latest", "q.data")

    assert code == EXIT_BUG
    assert "Traceback (most recent call last)" in err
    assert f"{type(error).__name__}: " in err
    assert "in broken" in err  # the traceback reaches where the bug is
    assert "this is a bug in Edgewise" in err
