"""A recording that is killed, or cannot write, still leaves a readable, honest record.

``run --record`` runs as a real subprocess. Its sources are paced by a gate file that the
test writes, so the test decides how far a run gets and kills it (SIGKILL) at a known point,
waiting on the index rather than on the clock. A full disk is made real with RLIMIT_FSIZE:
past the limit every write fails with EFBIG, as it would with ENOSPC.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from codeplugin import write_dist

from runtime._record import RunStore, list_runs, runs_root
from runtime._record.health import DamagedRunError
from runtime.cli import main
from tests.flowkit import write_flow

REPO = Path(__file__).resolve().parents[2]
WAIT = 120.0  # a bound on every wait, so a broken recorder fails the test instead of hanging

GATE_PLUGIN = '''
    """Sources paced by a gate file: the file holds how many steps may go."""
    import time
    from pathlib import Path

    from pydantic import Field

    from runtime import Params, component


    class GateParams(Params):
        """Settings."""

        gate: str = Field(description="The file that holds how many steps may go.")


    def steps(gate):
        sent = 0
        while True:
            try:
                allowed = int(Path(gate).read_text() or "0")
            except (OSError, ValueError):
                allowed = 0
            if allowed < 0:
                return
            while sent < allowed:
                yield sent
                sent += 1
            time.sleep(0.005)


    @component("gate.frames", outputs={"data": "DataFrame"}, params=GateParams, threaded=True)
    def frames(*, params):
        """A DataFrame of 10 rows per step."""
        import pandas as pd

        for step in steps(params.gate):
            rows = list(range(step * 10, step * 10 + 10))
            yield pd.DataFrame({"x": rows, "half": [r / 2 for r in rows]}, index=rows)


    @component("gate.numbers", outputs={"data": "int"}, params=GateParams, threaded=True)
    def numbers(*, params):
        """One integer per step."""
        yield from steps(params.gate)
'''


def expected_frame(step: int) -> pd.DataFrame:
    rows = list(range(step * 10, step * 10 + 10))
    return pd.DataFrame({"x": rows, "half": [r / 2 for r in rows]}, index=rows)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the gate plugin, installed through the components entry point."""
    site = tmp_path_factory.mktemp("site")
    write_dist(site, "ew-gate-plugin", {"gate": "ew_gate_plugin"}, {"ew_gate_plugin": GATE_PLUGIN})
    return site


def env_with(site: Path) -> dict[str, str]:
    paths = [str(site), str(REPO), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def gated_flow(workspace: Path) -> tuple[Path, Path]:
    """Frames through a query into a CSV file, and a stream of integers; and the gate file."""
    workspace.mkdir(parents=True, exist_ok=True)
    gate = workspace / "gate.txt"
    set_gate(gate, 0)
    nodes = [{"id": "frames", "component": "gate.frames", "params": {"gate": str(gate)}},
             {"id": "query", "component": "frame.query", "params": {"expr": "x >= 0"}},
             {"id": "save", "component": "csv.write", "params": {"path": "out/rows.csv"}},
             {"id": "numbers", "component": "gate.numbers", "params": {"gate": str(gate)}},
             {"id": "same", "component": "stream.identity"}]
    edges = [("frames.data", "query.data"), ("query.data", "save.data"),
             ("numbers.data", "same.data")]
    return write_flow(workspace, nodes, edges, name="gated.json"), gate


def set_gate(gate: Path, steps: int) -> None:
    tmp = gate.with_suffix(".tmp")
    tmp.write_text(str(steps), encoding="utf-8")
    os.replace(tmp, gate)


def wait_for(what: str, check: Callable[[], Any], proc: subprocess.Popen[bytes]) -> Any:
    """Poll ``check`` until it returns something true; fail if the run ends or never gets there."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        assert proc.poll() is None, f"the run ended before {what}"
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"gave up waiting for {what}")


def new_run(workspace: Path, before: set[str]) -> Path | None:
    root = runs_root(workspace)
    for folder in root.iterdir() if root.is_dir() else []:
        if folder.name not in before and (folder / "index.sqlite").is_file():
            return folder
    return None


def counts(folder: Path, *ports: str) -> dict[str, int]:
    """How many messages the committed index holds per port, read as another process would."""
    store = RunStore(folder)
    try:
        return {port: store.count(port) for port in ports}
    except DamagedRunError:  # the index is being made
        return dict.fromkeys(ports, 0)
    finally:
        store.close()


def at_least(folder: Path, ports: tuple[str, ...], wanted: int) -> dict[str, int] | None:
    """The committed counts once every port has ``wanted`` messages, else None."""
    found = counts(folder, *ports)
    return found if min(found.values()) >= wanted else None


PORTS = ("frames.data", "query.data", "numbers.data", "same.data")

# name: (steps let through, the messages per port to see committed before the kill)
KILL_POINTS = {
    "as_the_run_folder_appears": (0, 0),
    "after_the_first_committed_batch": (1, 1),
    "early_in_the_run": (30, 30),
    "while_batches_are_being_written": (100_000, 100),
    "after_everything_passed_before_the_end": (200, 200),
}


@pytest.fixture(scope="module")
def killed(site: Path, tmp_path_factory: pytest.TempPathFactory,
           ) -> tuple[Path, dict[str, tuple[Path, dict[str, int]]]]:
    """One workspace where the gated flow was killed with SIGKILL at each kill point.

    Returns the workspace and, per kill point, the run folder and the message counts
    the index held just before the kill.
    """
    workspace = tmp_path_factory.mktemp("killed")
    flow, gate = gated_flow(workspace)
    found: dict[str, tuple[Path, dict[str, int]]] = {}
    for name, (steps, committed) in KILL_POINTS.items():
        set_gate(gate, 0)
        before = {p.name for p in runs_root(workspace).glob("*")}
        with open(workspace / f"{name}.err", "wb") as err:
            proc = subprocess.Popen([sys.executable, "-m", "runtime.cli", "run", str(flow),
                                     "--record"], cwd=workspace, env=env_with(site),
                                    stdout=subprocess.DEVNULL, stderr=err)
            try:
                folder = wait_for("the run folder", lambda b=before: new_run(workspace, b), proc)
                set_gate(gate, steps)
                ports = PORTS if name.startswith("after_everything") else PORTS[:1]
                seen = wait_for(f"{committed} committed messages",
                                lambda f=folder, p=ports, n=committed: at_least(f, p, n), proc)
                proc.send_signal(signal.SIGKILL)
            finally:
                proc.kill()
                proc.wait(timeout=WAIT)
        found[name] = (folder, counts(folder, *PORTS) | {"before": min(seen.values())})
        assert "Traceback" not in (workspace / f"{name}.err").read_text(), name
    return workspace, found


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_runs_lists_every_killed_run_as_interrupted(
        killed: tuple[Path, dict[str, tuple[Path, dict[str, int]]]],
        capsys: pytest.CaptureFixture[str]) -> None:
    workspace, found = killed
    code, out, _ = cli(capsys, "runs", "--json", "-w", workspace)

    assert code == 0
    listed = {r["run"]: r for r in json.loads(out)}
    assert {run: r["status"] for run, r in listed.items()} == {
        folder.name: "interrupted" for folder, _ in found.values()}
    for folder, seen in found.values():
        assert listed[folder.name]["messages"] == sum(seen[port] for port in PORTS)
    code, out, _ = cli(capsys, "runs", "-w", workspace)
    assert out.count("interrupted") == len(KILL_POINTS)


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_killed_run_keeps_everything_committed_before_the_kill(
        killed: tuple[Path, dict[str, tuple[Path, dict[str, int]]]], point: str) -> None:
    _, found = killed
    folder, seen = found[point]
    store = RunStore(folder)
    _, committed = KILL_POINTS[point]

    assert seen["frames.data"] >= seen["before"] >= committed
    frames = list(store.messages("frames.data"))
    for position, message in enumerate(frames):
        pd.testing.assert_frame_equal(store.value(message.id), expected_frame(position))
    numbers = [store.value(m.id) for m in store.messages("numbers.data")]
    assert numbers == list(range(len(numbers)))
    queried = list(store.messages("query.data"))
    for message in queried:
        assert message.parents and store.value(message.id) is not None
    if point.startswith("after_everything"):
        assert len(frames) == len(numbers) == len(queried) == 200


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_inspect_and_trace_read_a_killed_run(
        killed: tuple[Path, dict[str, tuple[Path, dict[str, int]]]], point: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    workspace, found = killed
    folder, seen = found[point]

    code, out, err = cli(capsys, "inspect", folder.name, "frames.data->query.data", "--json",
                         "-w", workspace)
    assert code == 0, err
    assert len(json.loads(out)["messages"]) == seen["frames.data"]
    if seen["frames.data"] == 0:
        return
    code, out, err = cli(capsys, "inspect", folder.name, "frames.data", "--message", "0",
                         "-w", workspace)
    assert code == 0, err
    assert "half" in out and "4.5" in out
    code, out, err = cli(capsys, "inspect", folder.name, "numbers.data", "--message", "-1",
                         "--json", "-w", workspace)
    assert code == 0, err
    assert str(json.loads(out)["value"]["value"]) == str(seen["numbers.data"] - 1)
    if seen["query.data"]:
        code, out, err = cli(capsys, "trace", folder.name, "query.data", "--message", "0",
                             "--row", "3", "--json", "-w", workspace)
        assert code == 0, err
        assert [s["message"]["node"] for s in json.loads(out)["steps"]] == ["query", "frames"]


# --- a recording that cannot write ---------------------------------------------------------


def limited_run(flow: Path, site: Path, max_bytes: int) -> subprocess.CompletedProcess[str]:
    """``run --record --json`` where no file may grow past ``max_bytes`` (EFBIG past it)."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return subprocess.run([sys.executable, "-m", "runtime.cli", "run", str(flow), "--record",
                           "--json"], cwd=flow.parent, env=env_with(site), text=True,
                          capture_output=True, timeout=WAIT, preexec_fn=limit, check=False)


def test_a_full_disk_mid_run_stops_the_run_and_marks_the_record_incomplete(
        site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flow, gate = gated_flow(tmp_path)
    set_gate(gate, 100_000)  # far more than fits: the run goes on until the disk is full
    # frames only: the CSV output would fill up too, and this is about the recording
    doc = json.loads(flow.read_text())
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] in ("frames", "query")]
    doc["edges"] = [{"source": "frames.data", "target": "query.data"}]
    flow.write_text(json.dumps(doc))

    proc = limited_run(flow, site, 200_000)

    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert last["status"] == "stopped"
    assert last["recording"]["status"] == "incomplete"
    # the values or the index, whichever passes the limit first
    error = last["recording"]["error"]
    assert str(tmp_path) in error and ("File too large" in error or "disk I/O error" in error)
    assert "recording failed" in proc.stderr and error in proc.stderr
    [store] = list_runs(tmp_path)
    assert store.manifest()["status"] == "incomplete"
    assert store.id == last["recording"]["run"]
    frames = list(store.messages("frames.data"))
    assert frames
    pd.testing.assert_frame_equal(store.value(frames[-1].id), expected_frame(len(frames) - 1))
    code, out, _ = cli(capsys, "runs", "-w", tmp_path)
    assert code == 0 and "incomplete" in out and error in out


def test_a_run_folder_that_cannot_be_written_is_a_clean_error(site: Path,
                                                               tmp_path: Path) -> None:
    flow, gate = gated_flow(tmp_path)
    set_gate(gate, -1)

    proc = limited_run(flow, site, 0)  # not even the manifest can be written

    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1
    assert "cannot record the run" in proc.stderr and "File too large" in proc.stderr
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert last["status"] == "not-run" and last["recording"]["status"] == "failed"
    assert list_runs(tmp_path) == []
