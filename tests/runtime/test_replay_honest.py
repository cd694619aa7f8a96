"""Replay runs only what it shows, feeds only what was recorded, and says "reproduced exactly"
only when it did; it never overwrites the flow's own outputs unless asked. Diff shows edges
that exist in one run only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from runtime import Run, plan
from runtime._record import RunStore, record_run
from runtime._record.diff import compare_replay, diff_runs
from runtime._record.replay import ReplayRefusedError, plan_replay, replay
from tests.flowkit import flow_doc, node


def small_flow() -> dict[str, Any]:
    """data/in.csv in chunks -> frame.query -> stream.count -> debug, and q -> out/q.csv."""
    return flow_doc([node("read", "csv.read", path="data/in.csv", chunk_rows=4),
                     node("q", "frame.query", expr="a >= 2"), node("n", "stream.count"),
                     node("show", "debug"), node("save", "csv.write", path="out/q.csv")],
                    [("read.data", "q.data"), ("q.data", "n.data"), ("n.count", "show.data"),
                     ("q.data", "save.data")])


def edgewise(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runtime.cli", *map(str, args)], cwd=cwd,
                          env={**os.environ, "COLUMNS": "200"}, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    pd.DataFrame({"a": np.arange(10), "b": np.arange(10) ** 2}).to_csv(
        tmp_path / "data" / "in.csv", index=False)
    (tmp_path / "flow.json").write_text(json.dumps(small_flow()), encoding="utf-8")
    return tmp_path


def record(flow: dict[str, Any], workspace: Path) -> RunStore:
    run = Run(plan(flow, base_dir=workspace))
    recorder = record_run(run, workspace, links={"flow_file": "flow.json"})
    assert run.run().status == "ok"
    return recorder.store


def write_flow(workspace: Path, name: str, flow: dict[str, Any]) -> Path:
    path = workspace / name
    path.write_text(json.dumps(flow), encoding="utf-8")
    return path


# --- the flow stored in manifest.json -----------------------------------------------------


def add_node_to_manifest(store: RunStore) -> None:
    """Edit a kept run as someone else could: a node that writes a file, added after 'q'."""
    path = store.folder / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    manifest["flow"]["nodes"].append(node("leak", "csv.write", path="leaked.csv"))
    manifest["flow"]["edges"].append({"source": "q.data", "target": "leak.data"})
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_a_changed_stored_flow_is_refused_and_its_node_never_runs(workspace: Path) -> None:
    store = record(small_flow(), workspace)
    add_node_to_manifest(store)

    with pytest.raises(ReplayRefusedError, match="changed after the run was recorded.*leak"):
        replay(store, "q", workspace)
    result = edgewise("replay", store.id, "--from", "q", "-w", workspace, cwd=workspace)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "--flow" in result.stderr and "leak" in result.stderr
    assert not (workspace / "leaked.csv").exists()
    assert not list(workspace.rglob("leaked.csv"))


def test_a_changed_stored_flow_replays_with_an_explicit_flow(workspace: Path) -> None:
    store = record(small_flow(), workspace)
    add_node_to_manifest(store)

    result = edgewise("replay", store.id, "--from", "q", "--flow", workspace / "flow.json",
                      "--json", "-w", workspace, cwd=workspace)

    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["reproduced"] is True
    assert not list(workspace.rglob("leaked.csv"))


def test_replay_says_what_it_will_run_before_it_runs(workspace: Path) -> None:
    store = record(small_flow(), workspace)

    human = edgewise("replay", store.id, "--from", "q", "-w", workspace, cwd=workspace)
    answer = json.loads(edgewise("replay", store.id, "--from", "q", "--json", "-w", workspace,
                                 cwd=workspace).stdout)

    assert human.returncode == 0, human.stdout + human.stderr
    lines = human.stdout.splitlines()
    assert lines[0].startswith(f"replaying run {store.id} from 'q'; will run:")
    for shown in ("q (frame.query)", "n (stream.count)", "show (debug)", "save (csv.write)",
                  "fed 3 recorded message(s) of read.data into q.data"):
        assert any(shown in line for line in lines[:8]), human.stdout
    assert lines.index(next(x for x in lines if x.startswith("replayed run"))) > 5
    assert {n["node"]: n["component"] for n in answer["plan"]["nodes"]} == {
        "q": "frame.query", "n": "stream.count", "show": "debug", "save": "csv.write"}
    assert answer["plan"]["inputs"]["read.data"]["messages"] == 3


# --- inputs that the recording does not cover ----------------------------------------------


def test_an_unrelated_flow_is_refused_naming_the_unfed_input(workspace: Path) -> None:
    store = record(small_flow(), workspace)
    other = flow_doc([node("numbers", "stream.range", count=5), node("q", "stream.identity"),
                      node("show", "debug")],
                     [("numbers.data", "q.data"), ("q.data", "show.data")])

    with pytest.raises(ReplayRefusedError,
                       match=r"node 'q', input 'data' would be fed from numbers\.data.*"
                             r"no node 'numbers'"):
        replay(store, "q", workspace, flow=other)
    result = edgewise("replay", store.id, "--from", "q", "--flow",
                      write_flow(workspace, "other.json", other), "-w", workspace,
                      cwd=workspace)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "numbers.data" in result.stderr and "reproduced" not in result.stdout


def test_a_renamed_upstream_node_is_refused(workspace: Path) -> None:
    store = record(small_flow(), workspace)
    renamed = json.loads(json.dumps(small_flow()).replace('"read', '"source'))

    with pytest.raises(ReplayRefusedError, match=r"from source\.data.*no node 'source'"
                                                 r".*renamed"):
        replay(store, "q", workspace, flow=renamed)


def test_an_upstream_node_of_another_component_is_refused(workspace: Path) -> None:
    store = record(small_flow(), workspace)
    swapped = small_flow()
    swapped["nodes"][0] = node("read", "stream.range", count=3)

    with pytest.raises(ReplayRefusedError, match="'read' is stream.range in this flow and "
                                                 "csv.read in run"):
        replay(store, "q", workspace, flow=swapped)


# --- what "reproduced exactly" means ---------------------------------------------------------


def test_an_unchanged_replay_is_reproduced_exactly(workspace: Path) -> None:
    store = record(small_flow(), workspace)

    result, recorder = replay(store, "q", workspace)
    verdict = compare_replay(store, recorder.store, {"q", "n", "show", "save"})

    assert result.status == "ok"
    assert verdict["reproduced"] is True
    assert set(verdict["downstream"]) == {"read.data->q.data", "q.data->n.data",
                                          "n.count->show.data", "q.data->save.data"}


def test_a_failing_added_node_is_not_reproduced_exactly(workspace: Path) -> None:
    store = record(small_flow(), workspace)
    edited = small_flow()
    edited["nodes"].append(node("bad", "frame.query", expr="no_such_column > 1"))
    edited["edges"].append({"source": "q.data", "target": "bad.data"})

    result = edgewise("replay", store.id, "--from", "q", "--flow",
                      write_flow(workspace, "edited.json", edited), "-w", workspace,
                      cwd=workspace)
    answer = json.loads(edgewise("replay", store.id, "--from", "q", "--flow",
                                 workspace / "edited.json", "--json", "-w", workspace,
                                 cwd=workspace).stdout)

    assert "reproduced exactly" not in result.stdout, result.stdout
    assert "not reproduced" in result.stdout
    assert "failed nodes: bad" in result.stdout
    assert "only in the replay: q.data->bad.data" in result.stdout
    assert answer["reproduced"] is False
    assert "bad" in answer["failed"]
    assert set(answer["only_in_replay"]) == {"q.data->bad.data", "bad.error"}


def test_a_replay_whose_values_differ_is_not_reproduced_exactly(workspace: Path) -> None:
    store = record(small_flow(), workspace)
    edited = small_flow()
    edited["nodes"][1]["params"]["expr"] = "a >= 5"

    result = edgewise("replay", store.id, "--from", "q", "--flow",
                      write_flow(workspace, "edited.json", edited), "-w", workspace,
                      cwd=workspace)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "reproduced exactly" not in result.stdout
    assert "not reproduced" in result.stdout and "q.data->n.data" in result.stdout


# --- the flow's own output files -------------------------------------------------------------


def test_a_replay_writes_its_outputs_inside_its_run_folder(workspace: Path) -> None:
    store = record(small_flow(), workspace)
    own = workspace / "out" / "q.csv"
    own.write_text("made by the user\n", encoding="utf-8")

    result = edgewise("replay", store.id, "--from", "q", "--json", "-w", workspace,
                      cwd=workspace)
    answer = json.loads(result.stdout)
    written = store.folder.parent / answer["run"] / "outputs" / "save" / "q.csv"

    assert own.read_text("utf-8") == "made by the user\n"
    assert pd.read_csv(written)["a"].tolist() == list(range(2, 10))
    assert answer["plan"]["outputs"] == {"save.path": {"flow": "out/q.csv",
                                                       "written": str(written)}}
    human = edgewise("replay", store.id, "--from", "q", "-w", workspace, cwd=workspace)
    assert "save.path: writes" in human.stdout and "instead of out/q.csv" in human.stdout
    assert own.read_text("utf-8") == "made by the user\n"


def test_write_outputs_writes_the_flows_own_files(workspace: Path) -> None:
    store = record(small_flow(), workspace)
    own = workspace / "out" / "q.csv"
    own.write_text("made by the user\n", encoding="utf-8")

    result = edgewise("replay", store.id, "--from", "q", "--write-outputs", "--json", "-w",
                      workspace, cwd=workspace)

    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["plan"]["outputs"] == {}
    assert pd.read_csv(own)["a"].tolist() == list(range(2, 10))


def test_plan_replay_runs_nothing(workspace: Path) -> None:
    store = record(small_flow(), workspace)

    plan_replay(store, "q", workspace)

    assert len(list(store.folder.parent.iterdir())) == 1


# --- diff: edges in one run only ---------------------------------------------------------------


def test_diff_shows_the_real_count_of_an_edge_in_one_run_only(workspace: Path) -> None:
    before = record(small_flow(), workspace)
    wider = small_flow()
    wider["nodes"].append(node("twice", "stream.identity"))
    wider["edges"].append({"source": "q.data", "target": "twice.data"})
    after = record(wider, workspace)

    report = diff_runs(before, after)
    edges = {e["edge"]: e for e in report["edges"]}
    reverse = {e["edge"]: e for e in diff_runs(after, before)["edges"]}
    human = edgewise("diff", before.id, after.id, "-w", workspace, cwd=workspace)

    assert edges["q.data->twice.data"]["count"] == [0, 3]
    assert edges["q.data->twice.data"]["values"] == "only in B"
    assert reverse["q.data->twice.data"]["count"] == [3, 0]
    assert reverse["q.data->twice.data"]["values"] == "only in A"
    [line] = [x for x in human.stdout.splitlines() if "q.data->twice.data" in x]
    assert "3 (only in B)" in line and "0 → 0" not in line
