"""Damaged run folders: every run command names the damaged file and what is wrong with it.

One run of the streaming-scoring flow is recorded; each test copies it twice into a fresh
workspace, damages one copy in one way (an index that is empty, cut short, garbage or lacks
a table; a manifest that is not an object or has a key of the wrong type; a values file
cut short or missing) and runs every command that takes a run on it, in process.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from runtime import Run, plan
from runtime._record import RunStore, list_runs, record_run
from runtime.cli import main

FLOWS = Path(__file__).resolve().parents[2] / "flows"
HEALTHY, DAMAGED = "20200101-000000-000-aaaaaa", "20200102-000000-000-bbbbbb"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    """One kept run of the streaming-scoring flow: DataFrames, a model, and metrics."""
    root = tmp_path_factory.mktemp("damaged")
    flows = root / "flows"
    shutil.copytree(FLOWS, flows, ignore=shutil.ignore_patterns("out", ".edgewise"))
    run = Run(plan(flows / "streaming-scoring.json"))
    recorder = record_run(run, flows)
    run.run()
    return recorder.store


def runs_folder(workspace: Path) -> Path:
    return workspace / ".edgewise" / "runs"


@pytest.fixture
def workspace(recorded: RunStore, tmp_path: Path) -> Path:
    """A workspace with two copies of the recorded run: HEALTHY and DAMAGED."""
    for run_id in (HEALTHY, DAMAGED):
        shutil.copytree(recorded.folder, runs_folder(tmp_path) / run_id)
    return tmp_path


def first(folder: Path, pattern: str) -> Path:
    return sorted((folder / "values").glob(pattern))[0]


def truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def drop_table(table: str) -> Callable[[Path], Path]:
    def damage(folder: Path) -> Path:
        with sqlite3.connect(folder / "index.sqlite") as db:
            db.execute(f"DROP TABLE {table}")
        return folder / "index.sqlite"
    return damage


def write_index(data: bytes) -> Callable[[Path], Path]:
    def damage(folder: Path) -> Path:
        (folder / "index.sqlite").write_bytes(data)
        return folder / "index.sqlite"
    return damage


def cut_index(folder: Path) -> Path:
    truncate(folder / "index.sqlite", 0.3)
    return folder / "index.sqlite"


def manifest_is(value: object) -> Callable[[Path], Path]:
    def damage(folder: Path) -> Path:
        (folder / "manifest.json").write_text(json.dumps(value), encoding="utf-8")
        return folder / "manifest.json"
    return damage


def manifest_with(key: str, value: object) -> Callable[[Path], Path]:
    def damage(folder: Path) -> Path:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        target = manifest
        *path, last = key.split("/")
        for part in path:
            target = target[part]
        target[last] = value
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return folder / "manifest.json"
    return damage


def manifest_text(text: str) -> Callable[[Path], Path]:
    def damage(folder: Path) -> Path:
        (folder / "manifest.json").write_text(text, encoding="utf-8")
        return folder / "manifest.json"
    return damage


def no_manifest(folder: Path) -> Path:
    (folder / "manifest.json").unlink()
    return folder / "manifest.json"


# Damage to the manifest or the index: every command must refuse the run, naming the file.
WHOLE_RUN: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty index": (write_index(b""), "is empty"),
    "cut-short index": (cut_index, "SQLite"),
    "garbage index": (write_index(b"not a database at all " * 200), "SQLite"),
    "no table batches": (drop_table("batches"), "no table 'batches'"),
    "no table kept": (drop_table("kept"), "no table 'kept'"),
    "no table inline_values": (drop_table("inline_values"), "no table 'inline_values'"),
    "manifest []": (manifest_is([]), "should hold a JSON object"),
    "manifest {}": (manifest_is({}), "has no 'status'"),
    "manifest not JSON": (manifest_text(""), "is not valid JSON"),
    "manifest cut short": (manifest_text('{"run": "x", "status": "o'), "is not valid JSON"),
    "manifest missing": (no_manifest, "is missing"),
    "status 5": (manifest_with("status", 5), "'status' = 5"),
    "flow a text": (manifest_with("flow", "x"), "'flow' = 'x'"),
    "nodes a list": (manifest_with("nodes", []), "'nodes' = []"),
    "edges of numbers": (manifest_with("edges", {"a->b": 5}), "'edges.a->b' = 5"),
    "started a number": (manifest_with("started", 5), "'started' = 5"),
    "started not a time": (manifest_with("started", "yesterday"), "not a time"),
    "flow nodes of numbers": (manifest_with("flow/nodes", [5]), "'flow.nodes[0]' = 5"),
    "flow node params a list": (manifest_with("flow/nodes", [{"id": "fit", "params": []}]),
                                "'flow.nodes[0].params' = []"),
    "recording a text": (manifest_with("recording", "x"), "'recording' = 'x'"),
    "port statistics a number": (manifest_with("recording/ports/fit.model", 5),
                                 "'recording.ports.fit.model' = 5"),
    "base_dir a number": (manifest_with("base_dir", 7), "'base_dir' = 7"),
}


def commands(ref: str) -> dict[str, list[str]]:
    return {
        "inspect": ["inspect", ref, "predict.data->save.data"],
        "inspect message": ["inspect", ref, "predict.data", "--message", "-1"],
        "trace": ["trace", ref, "predict.data", "--message", "0", "--row", "5"],
        "scored-by": ["scored-by", ref, "predict.data", "--message", "0", "--row", "5"],
        "trained-on": ["trained-on", ref, "fit.model"],
        "replay": ["replay", ref, "--from", "predict"],
        "diff": ["diff", HEALTHY, ref],
    }


def run_cli(capsys: pytest.CaptureFixture[str], workspace: Path,
            args: list[str]) -> tuple[int, str]:
    code = main([*args, "-w", str(workspace)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


@pytest.mark.parametrize("kind", list(WHOLE_RUN))
def test_every_command_names_a_damaged_manifest_or_index(
        kind: str, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    damage, problem = WHOLE_RUN[kind]
    path = damage(runs_folder(workspace) / DAMAGED)

    for name, args in commands(DAMAGED).items():
        code, said = run_cli(capsys, workspace, args)
        assert code == 2, f"{name}: {said}"
        assert str(path) in said and problem in said, f"{name}: {said}"


@pytest.mark.parametrize("kind", list(WHOLE_RUN))
def test_runs_marks_the_damaged_run_and_lists_the_others(
        kind: str, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    damage, problem = WHOLE_RUN[kind]
    path = damage(runs_folder(workspace) / DAMAGED)

    code, said = run_cli(capsys, workspace, ["runs"])
    assert code == 0
    [healthy] = [line for line in said.splitlines() if line.split()[:1] == [HEALTHY]]
    [damaged] = [line for line in said.splitlines() if line.split()[:1] == [DAMAGED]]
    assert "ok" in healthy and "damaged" in damaged
    assert str(path) in said and problem in said
    code, said = run_cli(capsys, workspace, ["runs", "--json"])
    listed = {r["run"]: r for r in json.loads(said)}
    assert listed[HEALTHY]["status"] == "ok"
    assert listed[DAMAGED]["status"] == "damaged" and problem in listed[DAMAGED]["problem"]
    assert [r.id for r in list_runs(workspace)] == [HEALTHY, DAMAGED]
    assert RunStore(runs_folder(workspace) / DAMAGED).damage is not None


@pytest.mark.parametrize("garble", [
    "UPDATE batches SET rows = x'010203' WHERE rows IS NOT NULL",
    "UPDATE batches SET parents_kind = 'json', parents = 'not json'",
    "UPDATE batches SET parents_kind = 'list', parents = x'01'",
])
def test_every_command_names_an_index_with_garbled_entries(
        garble: str, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = runs_folder(workspace) / DAMAGED / "index.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(garble)

    for name, args in commands(DAMAGED).items():
        code, said = run_cli(capsys, workspace, args)
        assert code == 2, f"{name}: {said}"
        assert str(path) in said and "garbled entry for message" in said, f"{name}: {said}"


def cut_values(pattern: str, keep: float) -> Callable[[Path], Path]:
    def damage(folder: Path) -> Path:
        path = first(folder, pattern)
        truncate(path, keep)
        return path
    return damage


def remove_values(pattern: str) -> Callable[[Path], Path]:
    def damage(folder: Path) -> Path:
        path = first(folder, pattern)
        path.unlink()
        return path
    return damage


# Damage to one values file: the commands that read it refuse, naming the file; the others
# answer as usual.
VALUES: dict[str, tuple[Callable[[Path], Path], str, tuple[str, ...]]] = {
    "predictions cut short": (cut_values("predict.data.*.arrows", 0.5), "cut short",
                              ("inspect message",)),
    "predictions garbage": (cut_values("predict.data.*.arrows", 0.001), "not a readable Arrow",
                            ("inspect message", "trace", "scored-by")),
    "predictions missing": (remove_values("predict.data.*.arrows"), "is missing",
                            ("inspect message", "trace", "scored-by")),
    "training frame cut short": (cut_values("train.data.*.arrows", 0.5), "cut short",
                                 ("trained-on",)),
    "model cut short": (cut_values("*.skops", 0.5), "cannot be read", ("replay",)),
    "metrics cut short": (cut_values("score.metrics.values", 0.5), "cut short or garbled",
                          ()),
}


@pytest.mark.parametrize("kind", list(VALUES))
def test_a_damaged_values_file_is_named_by_the_commands_that_read_it(
        kind: str, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    damage, problem, refusing = VALUES[kind]
    path = damage(runs_folder(workspace) / DAMAGED)

    for name, args in commands(DAMAGED).items():
        code, said = run_cli(capsys, workspace, args)
        if name in refusing:
            assert code == 2, f"{name}: {said}"
        if code == 2:
            assert str(path) in said and problem in said, f"{name}: {said}"
    code, said = run_cli(capsys, workspace, ["inspect", DAMAGED, "score.metrics",
                                             "--json"])
    if kind == "metrics cut short":
        assert code == 2 and str(path) in said and problem in said


def test_a_damaged_run_is_named_by_the_real_command_too(workspace: Path) -> None:
    manifest_is([])(runs_folder(workspace) / DAMAGED)

    for args in (["runs"], ["inspect", DAMAGED, "predict.data"]):
        proc = subprocess.run([sys.executable, "-m", "runtime.cli", *args, "-w", str(workspace)],
                              capture_output=True, text=True, timeout=120, check=False)
        assert "Traceback" not in proc.stderr
        said = proc.stdout + proc.stderr
        assert "manifest.json should hold a JSON object" in said
        assert proc.returncode == (0 if args == ["runs"] else 2)


# --- mistakes in what the user asks for: a message and exit 2, never a traceback ------------


def refused(capsys: pytest.CaptureFixture[str], workspace: Path, args: list[str]) -> str:
    """Run a command that must be refused with exit 2; what it said."""
    try:
        code = main([*args, "-w", str(workspace)])
    except SystemExit as exc:  # argparse refuses bad values this way
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 2, out + err
    return out + err


@pytest.mark.parametrize("command", ["trace", "scored-by", "trained-on"])
def test_a_message_id_too_large_for_the_index_is_refused(
        command: str, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [command, HEALTHY, "predict.data", "--id", "99999999999999999999999"]
    said = refused(capsys, workspace, args + (["--row", "1"] if command == "scored-by" else []))
    assert "99999999999999999999999 is too large" in said


@pytest.mark.parametrize("days", ["inf", "1e300", "nan", "-inf"])
def test_prune_refuses_an_age_that_is_not_a_date(days: str, workspace: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    said = refused(capsys, workspace, ["runs", "prune", f"--older-than={days}"])

    assert "--older-than" in said and "number of days from 0" in said
    assert [r.id for r in list_runs(workspace)] == [HEALTHY, DAMAGED]


@pytest.mark.parametrize(("target", "problem"), [
    ("folder", "is a folder; give a file name"),
    ("/dev/full", "No space left on device"),
    ("/proc/version", "cannot write the training rows to /proc/version"),
])
def test_trained_on_export_to_a_place_that_cannot_be_written_is_refused(
        target: str, problem: str, workspace: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    if target == "folder":
        target = str(tmp_path)
    elif not Path(target).exists():
        pytest.skip(f"{target} exists on Linux only")
    said = refused(capsys, workspace, ["trained-on", HEALTHY, "fit.model", "--export", target])

    assert target in said and problem in said


def test_prune_removes_a_symlinked_run_folder_but_not_what_it_points_at(
        workspace: Path, tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path_factory.mktemp("outside") / "precious"
    shutil.copytree(runs_folder(workspace) / HEALTHY, outside)
    (outside / "notes.txt").write_text("keep me", encoding="utf-8")
    link = runs_folder(workspace) / "20190101-000000-000-linked"
    link.symlink_to(outside, target_is_directory=True)

    code = main(["runs", "prune", "--keep", "0", "-w", str(workspace)])
    out, err = capsys.readouterr()

    assert code == 0, out + err
    assert "Traceback" not in out + err
    assert "the link was removed, its target left alone" in out
    assert not link.exists() and not link.is_symlink()
    assert (outside / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert (outside / "manifest.json").is_file()
    assert list_runs(workspace) == []


def test_prune_older_than_removes_a_run_with_a_damaged_manifest_by_its_id(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest_is([])(runs_folder(workspace) / DAMAGED)

    code = main(["runs", "prune", "--older-than", "1", "--json", "-w", str(workspace)])
    out, err = capsys.readouterr()

    assert code == 0, err
    # the healthy copy started today, by its manifest; the damaged one in 2020, by its id
    assert json.loads(out)["deleted"] == [DAMAGED]
    assert [r.id for r in list_runs(workspace)] == [HEALTHY]


# --- escape sequences from flow files and data never reach the terminal raw -----------------

ESCAPE = "\x1b]0;owned\x07\x1b[2J"


def test_escape_sequences_in_a_flow_and_its_data_are_shown_not_obeyed(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = runs_folder(workspace) / HEALTHY
    manifest_with("flow/name", f"evil{ESCAPE}")(folder)
    outputs = []
    for args in (["runs"], ["inspect", HEALTHY, "score.metrics"],
                 ["inspect", HEALTHY, f"predict.data{ESCAPE}"]):
        main([*args, "-w", str(workspace)])
        out, err = capsys.readouterr()
        outputs.append(out + err)

    assert all("\x1b" not in text and "\x07" not in text for text in outputs)
    assert "evil\\x1b]0;owned\\x07" in outputs[0]
    assert "\\x1b[2J" in outputs[2]


def test_escape_sequences_in_recorded_values_are_shown_not_obeyed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in.csv").write_text(f"name,n\nred{ESCAPE},1\nplain,2\n", encoding="utf-8")
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({"edgewise": 1, "name": "esc", "nodes": [
        {"id": "read", "component": "csv.read", "params": {"path": "in.csv"}},
        {"id": "q", "component": "frame.query", "params": {"expr": "n > 0"}}],
        "edges": [{"source": "read.data", "target": "q.data"}]}), encoding="utf-8")
    run = Run(plan(flow))
    store = record_run(run, tmp_path).store
    run.run()

    outputs = []
    for args in (["inspect", store.id, "q.data", "--message", "0"],
                 ["trace", store.id, "q.data", "--row", "0"],
                 ["inspect", store.id, "read.data->q.data"]):
        code = main([*args, "-w", str(tmp_path)])
        out, err = capsys.readouterr()
        assert code == 0, err
        outputs.append(out + err)

    assert all("\x1b" not in text and "\x07" not in text for text in outputs)
    assert "red\\x1b]0;owned\\x07" in outputs[0]


def test_a_cut_short_array_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         ) -> None:
    import numpy as np

    from runtime._registry import default_registry
    from runtime.testing import memory_source

    registry = default_registry().with_components(
        memory_source("mem.arrays", [np.arange(1000.0), np.ones((50, 4))]))
    flow = {"edgewise": 1, "name": "arrays", "nodes": [{"id": "a", "component": "mem.arrays"}],
            "edges": []}
    run = Run(plan(flow, registry=registry, base_dir=tmp_path))
    store = record_run(run, tmp_path).store
    run.run()
    first_id = next(store.messages("a.data")).id
    path = store.values_dir / f"{first_id}.npy"
    truncate(path, 0.5)

    with pytest.raises(LookupError, match="cannot be read") as caught:
        store.value(first_id)
    assert str(path) in str(caught.value)
    code = main(["inspect", store.id, "a.data", "--message", "0", "-w", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and str(path) in err and "Traceback" not in out + err
    assert store.value(first_id + 1).shape == (50, 4)
