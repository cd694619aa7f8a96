"""The three audit questions, answered by one command each, on the supervised example.

Which model scored this row (on both sides of the promotion)? Why was the champion
replaced, and on what evidence? Does a replay make the same decision?
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from runtime.cli import EXIT_OK, main

FLOWS = Path(__file__).resolve().parents[1] / "flows"


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example, run and kept once for the module: its flows folder."""
    folder = tmp_path_factory.mktemp("audit") / "flows"
    shutil.copytree(FLOWS, folder, ignore=shutil.ignore_patterns("out", ".*"))
    assert main(["run", str(folder / "supervised-scoring.json"), "--record"]) == EXIT_OK
    return folder


@pytest.fixture(scope="module")
def run_id(kept: Path) -> str:
    """The kept run's id (a replay made by a test is a newer run)."""
    [folder] = (kept / ".edgewise" / "runs").iterdir()
    return folder.name


def edgewise(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    """Run a command with --json; its parsed answer."""
    capsys.readouterr()
    assert main([*args, "--json"]) == EXIT_OK
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_why_the_champion_was_replaced_and_on_what_evidence(
        kept: Path, run_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    answer = edgewise(capsys, "decisions", run_id, "-w", str(kept))
    [decision] = answer["decisions"]
    assert decision["action"] == "promote" and decision["window"] == 13
    assert "beat" in decision["reason"] and "accuracy" in decision["reason"]
    shown = {(e["values"]["window"], e["values"]["model"]) for e in decision["evidence"]}
    assert shown == {(w, m) for w in (12, 13) for m in (decision["from"], decision["to"])}
    for evidence in decision["evidence"]:  # each piece traces back to the rows it graded
        assert evidence["origin"] == "monitor.metrics"
        command = evidence["trace"].split()[1:]
        trace = edgewise(capsys, *command, "-w", str(kept))
        assert {step["message"]["node"] for step in trace["steps"]} >= {"monitor", "serve",
                                                                          "stream"}


def test_which_model_scored_a_row_before_and_after_the_promotion(
        kept: Path, run_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    [decision] = edgewise(capsys, "decisions", run_id, "-w", str(kept))["decisions"]
    scored = pd.read_csv(kept / "out" / "scored.csv")
    switch = int((scored["model"] == decision["to"]).to_numpy().argmax())
    for row, label in ((0, decision["from"]), (switch - 1, decision["from"]),
                       (switch, decision["to"]), (5999, decision["to"])):
        chunk = row // 250  # the stream is read and scored in chunks of 250 rows
        answer = edgewise(capsys, "scored-by", run_id, "serve.data", "--message", str(chunk),
                          "--row", str(row), "-w", str(kept))
        assert answer["model"]["label"] == label, row
        assert answer["model"]["message"] == scored["model_message"].iloc[row]


def test_the_registry_alias_followed_the_promotion(
        kept: Path, run_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    [decision] = edgewise(capsys, "decisions", run_id, "-w", str(kept))["decisions"]
    log = edgewise(capsys, "models", "log", "scorer", "-w", str(kept))
    moves = [(m["alias"], m["to"]) for m in log["moves"]] if isinstance(log, dict) else [
        (m["alias"], m["to"]) for m in log]
    promoted = int(decision["to"].split(":")[1])
    assert moves[-1] == ("champion", promoted)
    assert sorted(moves[:2]) == sorted([("champion", int(decision["from"].split(":")[1])),
                                        ("challenger", promoted)])


def test_a_replay_of_the_supervisor_makes_the_same_decision(
        kept: Path, run_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    [original] = edgewise(capsys, "decisions", run_id, "-w", str(kept))["decisions"]
    replayed = edgewise(capsys, "replay", run_id, "--from", "supervisor", "-w", str(kept))
    [again] = edgewise(capsys, "decisions", replayed["run"], "-w", str(kept))["decisions"]
    keys = ("action", "from", "to", "window", "metric", "champion_value", "challenger_value")
    assert {k: again[k] for k in keys} == {k: original[k] for k in keys}
    def graded(decision: dict[str, Any]) -> list[dict[str, Any]]:
        return sorted((e["values"] for e in decision["evidence"]),
                      key=lambda v: (v["window"], v["model"]))

    assert graded(again) == graded(original)  # the same windows, whatever order they came in


SERVED = ("serve.data->scored.data", "serve.data->monitor.predictions",
          "serve.shadow->monitor.predictions", "monitor.metrics->supervisor.metrics")


@pytest.mark.parametrize("start", ["supervisor", "serve"])
def test_a_replay_answers_every_row_with_the_model_the_record_names(
        kept: Path, run_id: str, capsys: pytest.CaptureFixture[str], start: str) -> None:
    # The new champion comes round the live loop in the replay too; each row waits for the
    # model its recorded call used, so the switch lands on the record's row. The monitor
    # takes predictions and labels in the recorded order, so its windows come as recorded.
    replayed = edgewise(capsys, "replay", run_id, "--from", start, "-w", str(kept))
    diff = edgewise(capsys, "diff", run_id, replayed["run"], "-w", str(kept))
    edges = {e["edge"]: e for e in diff["edges"]}
    for edge in SERVED:
        assert edges[edge]["values"] == "identical", (edge, edges[edge]["reasons"])
        assert not edges[edge]["changed"], (edge, edges[edge]["reasons"])
    recorded = pd.read_csv(kept / "out" / "scored.csv")
    again = pd.read_csv(replayed["plan"]["outputs"]["scored.path"]["written"])
    ids = "model_message"  # message ids differ from run to run; the diff names them
    pd.testing.assert_frame_equal(again.drop(columns=ids), recorded.drop(columns=ids))
    assert again.groupby(ids)["model"].nunique().max() == 1  # one model per model message
    decided = edges["supervisor.decisions->decisions.data"]  # the same evidence, named
    assert decided["reasons"] == ["'time' differs on 1 of 1 rows"]  # the wall clock's
    # ... which the replay's verdict knows: every edge it ran is reproduced
    assert replayed["reproduced"], {k: replayed[k] for k in ("changed", "failed", "status")}
    assert replayed["clock_only"] == ["supervisor.decisions->decisions.data"]
    [original] = edgewise(capsys, "decisions", run_id, "-w", str(kept))["decisions"]
    [decision] = edgewise(capsys, "decisions", replayed["run"], "-w", str(kept))["decisions"]
    keys = ("action", "from", "to", "window", "metric", "champion_value", "challenger_value")
    assert {k: decision[k] for k in keys} == {k: original[k] for k in keys}
