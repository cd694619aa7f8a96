"""File sinks (csv.write, jsonl.write) never damage what is already on disk.

A full disk is simulated for real: a child process lowers its file-size limit
(``RLIMIT_FSIZE``), so writing past it fails with an OSError (EFBIG), as on a full disk.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from contract import one_node_flow

import runtime
from runtime.cli import main
from runtime.testing import memory_source, run_component

SINKS = {"csv.write": "out.csv", "jsonl.write": "out.jsonl"}

CHILD = textwrap.dedent("""
    import json, resource, signal, sys
    import pandas as pd
    from runtime.testing import run_component

    component, path, limit, chunks, rows = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
    frames = [pd.DataFrame({"n": range(i * rows, (i + 1) * rows), "text": "some words"},
                           index=range(i * rows, (i + 1) * rows)) for i in range(chunks)]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    out = run_component(component, {"data": frames}, {"path": path})
    print(json.dumps({"status": out.result.status,
                      "errors": [[e.error, e.message] for e in out.errors]}))
""")


def write_with_size_limit(component: str, path: Path, limit: int, chunks: int,
                          rows: int) -> dict[str, Any]:
    """Run one sink in a child process that cannot write files bigger than ``limit``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", CHILD, component, str(path), str(limit),
                           str(chunks), str(rows)], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer


def good_file(path: Path, size: int) -> bytes:
    """Put a good file of about ``size`` bytes at ``path`` and return its bytes."""
    line = b"good,row,of,an,earlier,run\n"
    data = b"a,b,c,d,e,f\n" + line * (size // len(line))
    path.write_bytes(data)
    return data


@pytest.mark.parametrize("component", list(SINKS))
def test_a_full_disk_mid_stream_leaves_the_good_file_untouched(tmp_path: Path,
                                                                component: str) -> None:
    path = tmp_path / SINKS[component]
    before = good_file(path, 600_000)
    # 20 chunks of about 30 KB: the limit of 100 KB is hit in the middle of a chunk.
    answer = write_with_size_limit(component, path, 100_000, chunks=20, rows=1_000)
    assert answer["status"] == "errors"
    assert path.read_bytes() == before
    first, *later, at_end = answer["errors"]
    assert first[0] == "WriteError"
    assert f"writing {path} failed" in first[1]
    assert "File too large" in first[1]
    assert f"kept as {path.name}.partial in the same folder" in first[1]
    assert later and all("an earlier message failed" in m for _e, m in later)
    assert f"{path} was not written" in at_end[1]
    assert "it is left as it was" in at_end[1]
    partial = tmp_path / f"{path.name}.partial"
    assert 0 < partial.stat().st_size <= 100_000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, partial.name])


@pytest.mark.parametrize("component", list(SINKS))
def test_a_full_disk_at_the_final_flush_leaves_the_good_file_untouched(
        tmp_path: Path, component: str) -> None:
    path = tmp_path / SINKS[component]
    before = good_file(path, 600_000)
    # About 2 KB in all stays in the file's buffer until the end, so the last flush fails.
    answer = write_with_size_limit(component, path, 500, chunks=2, rows=50)
    assert answer["status"] == "errors"
    assert path.read_bytes() == before
    [at_end] = answer["errors"]
    assert f"finishing {path} failed" in at_end[1]
    assert "it is left as it was" in at_end[1]
    assert f"kept as {path.name}.partial in the same folder" in at_end[1]
    assert (tmp_path / f"{path.name}.partial").stat().st_size <= 500


def test_a_full_disk_on_a_new_file_makes_no_file(tmp_path: Path) -> None:
    path = tmp_path / "new.csv"
    answer = write_with_size_limit("csv.write", path, 100_000, chunks=20, rows=1_000)
    assert answer["status"] == "errors"
    assert not path.exists()
    assert "no file was made, and the part written is kept as new.csv.partial" in (
        answer["errors"][-1][1])


def test_a_later_successful_write_replaces_the_file_and_removes_the_partial(
        tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    good_file(path, 600_000)
    write_with_size_limit("csv.write", path, 100_000, chunks=20, rows=1_000)
    assert (tmp_path / "out.csv.partial").exists()
    answer = write_with_size_limit("csv.write", path, 10_000_000, chunks=20, rows=1_000)
    assert answer == {"status": "ok", "errors": []}
    assert path.read_text().splitlines()[-1] == "19999,some words"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def kill_while_writing(path: Path) -> Path:
    """Start writing ``path`` in a child process, then kill it (SIGKILL): return its leftover."""
    child = textwrap.dedent("""
        import os, signal, sys
        from components._files import AtomicOutput
        handle = AtomicOutput(sys.argv[1]).handle()
        handle.write("half a row,")
        handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", child, str(path)], env=env, timeout=60,
                          check=False)
    assert done.returncode == -9
    [leftover] = [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")]
    assert leftover.name.endswith(".partial")
    return leftover


@pytest.mark.parametrize("component", list(SINKS))
def test_the_next_write_removes_what_a_killed_run_left(tmp_path: Path, component: str) -> None:
    path = tmp_path / SINKS[component]
    leftover = kill_while_writing(path)
    others = [tmp_path / f".other{path.suffix}.abcd1234.partial",  # another target's file
              tmp_path / f"{path.name}.abcd1234.partial",           # not hidden
              tmp_path / f".{path.name}.abcd1234.partial.keep"]     # not the exact pattern
    for other in others:
        other.write_text("not ours\n")
    out = run_component(component, {"data": [pd.DataFrame({"k": [1]})]}, {"path": str(path)})
    assert out.result.status == "ok"
    assert not leftover.exists()
    assert all(other.read_text() == "not ours\n" for other in others)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [path.name] + [p.name for p in others])


def test_a_hidden_file_of_a_live_writer_is_not_removed(tmp_path: Path) -> None:
    # Two runs writing the same file at once: the second must not delete the first one's
    # unfinished file (only files no live process holds are left over from a killed run).
    path = tmp_path / "out.jsonl"
    live = tmp_path / ".out.jsonl.abcd1234.partial"
    live.write_text('{"half": ')
    with live.open() as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        out = run_component("jsonl.write", {"data": [{"k": 1}]}, {"path": str(path)})
    assert out.result.status == "ok"
    assert live.read_text() == '{"half": '


# -- never replace anything but a regular file -------------------------------------------

def assert_null_is_intact() -> None:
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("component", list(SINKS))
def test_a_device_as_output_is_a_validation_problem(tmp_path: Path, component: str) -> None:
    problems = runtime.validate(one_node_flow(component, {"path": "/dev/null"}),
                                base_dir=tmp_path)
    [problem] = [p for p in problems if p.param]
    assert (problem.node, problem.param) == ("n", "path")
    assert "node 'n', param 'path'" in problem.message
    assert "/dev/null is a character device, not a regular file" in problem.message
    assert_null_is_intact()


@pytest.mark.parametrize("kind", ["fifo", "folder", "link to a fifo", "link to /dev/null"])
def test_other_special_files_as_output_are_validation_problems(tmp_path: Path,
                                                               kind: str) -> None:
    target = tmp_path / "out.csv"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "link to a fifo":
        os.mkfifo(tmp_path / "pipe")
        target.symlink_to(tmp_path / "pipe")
    else:
        target.symlink_to("/dev/null")
    problems = runtime.validate(one_node_flow("csv.write", {"path": "out.csv"}),
                                base_dir=tmp_path)
    [problem] = [p for p in problems if p.param]
    assert (problem.node, problem.param) == ("n", "path")
    assert "not a regular file" in problem.message
    assert_null_is_intact()


def test_a_path_that_turns_into_a_pipe_after_validation_is_refused_at_run_time(
        tmp_path: Path) -> None:
    # Checked when the flow is validated, and again when the file is opened and replaced.
    path = tmp_path / "out.jsonl"
    flow = runtime.Flow.model_validate({
        "edgewise": 1, "name": "late",
        "nodes": [{"id": "src", "component": "testing.values"},
                  {"id": "sink", "component": "jsonl.write", "params": {"path": "out.jsonl"}}],
        "edges": [{"source": "src.data", "target": "sink.data"}]})
    registry = runtime.default_registry().with_components(
        memory_source("testing.values", [{"k": 1}, {"k": 2}]))
    checked = runtime.plan(flow, registry=registry, base_dir=tmp_path)
    os.mkfifo(tmp_path / "pipe")
    path.symlink_to(tmp_path / "pipe")
    result = runtime.Run(checked).run()
    assert result.status == "errors"
    assert stat.S_ISFIFO(os.stat(path).st_mode)
    assert path.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "pipe"]
    assert result.first_error is not None
    assert result.first_error.node == "sink"
    assert "is a named pipe (FIFO), not a regular file" in result.first_error.message


def test_a_link_to_a_regular_file_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "data" / "real.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "out.csv"
    link.symlink_to(real)
    out = run_component("csv.write", {"data": [pd.DataFrame({"a": [1]})]}, {"path": str(link)})
    assert out.result.status == "ok"
    assert link.is_symlink()
    assert real.read_text() == "a\n1\n"


def test_the_run_summary_says_the_file_was_kept_and_where_the_part_went(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Two data sets with other columns into one csv.write: the second chunk is refused.
    monkeypatch.setenv("COLUMNS", "400")
    path = tmp_path / "out.csv"
    before = good_file(path, 1_000)
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({
        "edgewise": 1, "name": "two shapes",
        "nodes": [{"id": "iris", "component": "dataset.load", "params": {"name": "iris"}},
                  {"id": "wine", "component": "dataset.load", "params": {"name": "wine"}},
                  {"id": "save", "component": "csv.write", "params": {"path": "out.csv"}}],
        "edges": [{"source": "iris.data", "target": "save.data"},
                  {"source": "wine.data", "target": "save.data"}]}))
    assert main(["run", str(flow)]) == 1
    shown = capsys.readouterr().out
    assert f"node 'save' failed on 2 firing(s); last error: WriteError: {path} was not " \
           "written (1 message(s) failed): it is left as it was, and the part written is " \
           "kept as out.csv.partial in the same folder" in shown
    assert path.read_bytes() == before
