"""``edgewise decisions``: a kept run's supervisor decisions, with evidence that ``trace`` walks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

import runtime
import runtime.cli.decisions as decisions_command
from components._model_label import tag_model
from components.supervisor import Supervisor
from runtime import Batch, StoragePolicy, record_run
from runtime.cli import EXIT_INVALID, EXIT_OK, main
from runtime.testing import memory_source
from tests.flowkit import make_run, run_guarded

REGISTRY = runtime.default_registry().with_components(Supervisor)


@pytest.fixture(autouse=True)
def _supervisor_known(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command finds supervisors by tag in the installed components; add this one."""
    monkeypatch.setattr(decisions_command, "default_registry", lambda: REGISTRY)


def model(version: int) -> Any:
    fitted = DummyClassifier(strategy="constant", constant=version).fit([[0], [1]],
                                                                         [version, version])
    return tag_model(fitted, "m", version)


def metrics(window: int, label: str, value: float) -> pd.DataFrame:
    return pd.DataFrame([{"window": window, "model": label, "model_message": 1, "rows": 50,
                          "unlabelled": 0, "first_row": window * 50,
                          "last_row": window * 50 + 49, "accuracy": value}])


def drift(window: int) -> pd.DataFrame:
    return pd.DataFrame([{"window": window, "rows": 40, "first_row": window * 40,
                          "last_row": window * 40 + 39, "psi:x": 0.4, "ks:x": 0.2,
                          "drifted": "x", "drift": True}])


def record(workspace: Path, nodes: dict[str, Any], edges: list[str],
           sources: list[runtime.ComponentSpec],
           policy: StoragePolicy | None = None) -> tuple[str, dict[str, list[int]]]:
    """Run and keep a flow; its run id and the ids emitted on each port."""
    run = make_run(nodes, edges, [Supervisor, *sources])
    ids: dict[str, list[int]] = {}

    def emitted(edge: str, batch: Batch) -> None:
        ids.setdefault(batch.origin, []).extend(batch.ids)

    run.hooks.add("emitted", emitted)
    recorder = record_run(run, workspace, policy=policy)
    run_guarded(run)
    return recorder.run_id, ids


def supervised(workspace: Path, policy: StoragePolicy | None = None,
               ) -> tuple[str, dict[str, list[int]]]:
    """A promotion after two winning windows, then a floor breach that rolls it back."""
    stream = [metrics(0, "m:1", 0.7), metrics(0, "m:2", 0.9), metrics(1, "m:1", 0.7),
              metrics(1, "m:2", 0.9), metrics(2, "m:2", 0.3)]
    sources = [memory_source("dc.metrics", stream), memory_source("dc.champion", [model(1)]),
               memory_source("dc.challenger", [model(2)])]
    return record(workspace, {
        "monitor": "dc.metrics", "champion": "dc.champion", "challenger": "dc.challenger",
        "sup": ("model.supervisor", {"windows": 2, "cooldown_windows": 0, "floor": 0.5}),
    }, ["monitor.data->sup.metrics", "champion.data->sup.champion",
        "challenger.data->sup.challenger"], sources, policy)


def drifting(workspace: Path) -> tuple[str, dict[str, list[int]]]:
    """A champion whose input drifts three windows running, with nothing to fall back to."""
    sources = [memory_source("dd.metrics", [metrics(0, "m:1", 0.9)]),
               memory_source("dd.drift", [drift(w) for w in range(3)]),
               memory_source("dd.champion", [model(1)])]
    return record(workspace, {
        "monitor": "dd.metrics", "watch": "dd.drift", "champion": "dd.champion",
        "sup": ("model.supervisor", {"drift_windows": 3}),
    }, ["monitor.data->sup.metrics", "watch.data->sup.drift",
        "champion.data->sup.champion"], sources)


def edgewise(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_json_lists_each_decision_with_its_evidence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, ids = supervised(tmp_path)
    code, out, _err = edgewise(capsys, "decisions", run_id, "-w", str(tmp_path), "--json")
    assert code == EXIT_OK
    answer = json.loads(out)
    assert answer["run"] == run_id
    made = answer["decisions"]
    assert [(d["action"], d["from"], d["to"], d["window"]) for d in made] == [
        ("promote", "m:1", "m:2", 1), ("rollback", "m:2", "m:1", 2)]
    assert made[0]["node"] == "sup" and made[0]["challenger_value"] == 0.9
    assert made[1]["challenger_value"] is None
    sent = ids["monitor.data"]
    assert [e["message"] for e in made[0]["evidence"]] == sent[:4]
    assert [e["message"] for e in made[1]["evidence"]] == [sent[4]]
    first = made[0]["evidence"][0]
    assert first["origin"] == "monitor.data"
    assert first["values"]["window"] == 0 and first["values"]["model"] == "m:1"
    assert first["values"]["accuracy"] == 0.7
    assert first["trace"] == f"edgewise trace {run_id} monitor.data --id {sent[0]}"


def test_the_text_is_readable_and_every_trace_command_works(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, ids = supervised(tmp_path)
    code, out, _err = edgewise(capsys, "decisions", run_id, "-w", str(tmp_path))
    assert code == EXIT_OK
    assert f"run {run_id}: 2 decision(s)" in out
    assert "1. promote m:1 -> m:2, window 1, node 'sup'" in out
    assert "accuracy: champion 0.7, challenger 0.9, 50 rows" in out
    assert "why: m:2 beat m:1 on accuracy" in out
    assert "2. rollback m:2 -> m:1, window 2" in out
    sent = ids["monitor.data"]
    assert (f"message {sent[4]} on monitor.data: window 2, model m:2, rows 50, "
            "unlabelled 0, first_row 100, last_row 149, accuracy 0.3") in out
    traces = [line.split("trace: ", 1)[1] for line in out.splitlines() if "trace: " in line]
    assert len(traces) == 5
    for command in traces:
        words = command.split()
        assert words[:2] == ["edgewise", "trace"]
        code, shown, err = edgewise(capsys, *words[1:], "-w", str(tmp_path))
        assert code == EXIT_OK, err
        assert f"message {words[-1]} on monitor.data" in shown


def test_drift_evidence_shows_the_reports(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    run_id, ids = drifting(tmp_path)
    code, out, _err = edgewise(capsys, "decisions", run_id, "-w", str(tmp_path), "--json")
    assert code == EXIT_OK
    [made] = json.loads(out)["decisions"]
    assert (made["action"], made["from"], made["to"]) == ("quarantine", "m:1", None)
    assert [e["message"] for e in made["evidence"]] == ids["watch.data"]
    assert [e["values"]["drifted"] for e in made["evidence"]] == ["x", "x", "x"]
    assert made["evidence"][2]["values"]["psi:x"] == 0.4
    code, text, _err = edgewise(capsys, "decisions", run_id, "-w", str(tmp_path))
    assert "1. quarantine m:1 -> nothing (quarantined)" in text
    assert "edgewise models alias NAME champion VERSION" in text


def test_a_run_without_a_supervisor_says_so_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, _ids = record(tmp_path, {"a": "dc.plain"}, [],
                          [memory_source("dc.plain", [1, 2])])
    code, out, err = edgewise(capsys, "decisions", run_id, "-w", str(tmp_path))
    assert code == EXIT_INVALID and out == ""
    assert err.strip().count("\n") == 0
    assert f"run {run_id} has no supervisor node" in err


def test_a_supervisor_that_decided_nothing(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    run_id, _ids = record(tmp_path, {
        "monitor": "dn.metrics", "champion": "dn.champion", "sup": "model.supervisor",
    }, ["monitor.data->sup.metrics", "champion.data->sup.champion"],
        [memory_source("dn.metrics", [metrics(0, "m:1", 0.9)]),
         memory_source("dn.champion", [model(1)])])
    code, out, _err = edgewise(capsys, "decisions", run_id, "-w", str(tmp_path))
    assert code == EXIT_OK and "its supervisor made no decision" in out
    code, out, _err = edgewise(capsys, "decisions", run_id, "-w", str(tmp_path), "--json")
    assert json.loads(out) == {"run": run_id, "decisions": []}


def test_evidence_whose_value_was_not_kept_is_still_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, ids = supervised(tmp_path, StoragePolicy(max_values=4))  # as --keep-values 4
    code, out, _err = edgewise(capsys, "decisions", run_id, "-w", str(tmp_path), "--json")
    assert code == EXIT_OK
    rollback = json.loads(out)["decisions"][1]
    [fifth] = rollback["evidence"]
    assert fifth["message"] == ids["monitor.data"][4]
    assert fifth["values"] is None and "not kept" in fifth["note"]
    assert fifth["origin"] == "monitor.data" and fifth["trace"]


def test_a_replay_of_the_supervisor_makes_the_same_decisions(tmp_path: Path) -> None:
    from runtime.runs import RunStore, list_runs, replay

    run_id, _ids = supervised(tmp_path)
    [store] = [r for r in list_runs(tmp_path) if r.id == run_id]
    result, recorder = replay(store, "sup", tmp_path, registry=REGISTRY)
    assert result.status == "ok"
    [again] = [r for r in list_runs(tmp_path) if r.id == recorder.run_id]

    def made(kept: RunStore) -> list[dict[str, Any]]:
        listed = decisions_command.run_decisions(kept)
        for decision in listed:
            evidence = decision.pop("evidence")
            decision["evidence"] = [
                (e["values"]["window"], e["values"]["model"]) for e in evidence]
            for key in ("time", "t", "message"):
                decision.pop(key)
        return listed

    assert [d["action"] for d in made(store)] == ["promote", "rollback"]
    assert made(again) == made(store)


def test_a_decision_whose_row_was_not_kept_is_still_listed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_id, _ids = supervised(tmp_path, StoragePolicy(max_values=1))
    code, out, _err = edgewise(capsys, "decisions", run_id, "-w", str(tmp_path))
    assert code == EXIT_OK
    assert "1. promote m:1 -> m:2" in out
    assert "2. node 'sup', message" in out and "its value was not kept" in out
