"""The Ray engine gives the local engine's results: every example flow, replicas, crashes.

The tests join the test session's Ray cluster (``ray_address``); only the test of Ctrl-C
starts a Ray of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import runtime
from runtime.cli import main as cli_main
from runtime.engines import RayEngine, RunOptions
from runtime.runs import RunStore, diff_runs, replay
from tests.flowkit import node, run_guarded, write_flow
from tests.test_flows import CHECKS, FLOW_FILES, FLOWS, Outcome

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def engine(ray_address: str) -> Iterator[RayEngine]:
    """The session's Ray cluster, joined once for the module, with the engine's pool of hosts."""
    made = RayEngine(ray_address)
    made.connect()
    yield made
    ray.shutdown()


def copy_flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS, folder, ignore=shutil.ignore_patterns("out", ".*"))
    return folder


def run_example(path: Path, engine: RayEngine | None, record: bool = False
                ) -> tuple[Outcome, RunStore | None]:
    run = runtime.Run(runtime.plan(path), engine=engine)
    shown: dict[str, list[Any]] = {}
    edges: dict[str, list[tuple[int, Any]]] = {}
    run.on_display(lambda node, batch: shown.setdefault(node, []).extend(batch.values))
    run.hooks.add("emitted", lambda edge, batch: edges.setdefault(edge, []).extend(
        zip(batch.ids, batch.values, strict=True)))
    recorder = runtime.record_run(run, path.parent) if record else None
    result = run.run()
    store = RunStore(recorder.folder) if recorder is not None else None
    return Outcome(folder=path.parent, result=result, shown=shown, edges=edges), store


DETERMINISTIC = ["iris", "dead-letter", "scaled-pipeline", "streaming-scoring",
                 "confidence-routing", "feature-engineering"]
# the others: the deterministic ones are checked in the comparison with the local engine.
# supervised-scoring is a live loop: which row its promotion lands on depends on how fast
# each hop is, on either engine; its check allows any row after the evidence
OTHERS = [f for f in FLOW_FILES if f.stem not in DETERMINISTIC]


@pytest.mark.parametrize("flow_file", OTHERS, ids=[f.stem for f in OTHERS])
def test_every_example_flow_makes_what_it_promises_on_ray(
        flow_file: Path, tmp_path: Path, engine: RayEngine) -> None:
    folder = copy_flows(tmp_path)
    outcome, _store = run_example(folder / flow_file.name, engine)
    CHECKS[flow_file.name](outcome)
    assert [p for p in folder.rglob("*") if p.name.endswith(".partial")] == []


def lineage(store: RunStore) -> dict[str, list[list[tuple[str, int]]]]:
    """Each port's messages, in order, with their parents named by port and position."""
    names: dict[int, tuple[str, int]] = {}
    for origin in store.origins():
        for info in store.messages(origin):
            names[info.id] = (origin, info.position)
    return {origin: [sorted(names[p] for a, b in ranges for p in range(a, b))
                     for _id, ranges in store.parents_of_port(origin)]
            for origin in store.origins()}


def named_letters(path: Path, store: RunStore) -> list[dict[str, Any]]:
    """A dead-letter file's records, their input ids named by port and position.

    Ids are the run's own (each Ray worker numbers from a range of its own), as in two
    local runs; ``edgewise diff`` names them the same way.
    """
    letters = [json.loads(line) for line in path.read_text().splitlines()]
    for letter in letters:
        infos = [store.message(i) for i in letter["inputs"]]
        letter["inputs"] = [(i.origin, i.position) for i in infos if i is not None]
    return letters


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_same_counts_sink_outputs_and_recorded_lineage_on_both_engines(
        name: str, tmp_path: Path, engine: RayEngine) -> None:
    local_folder = copy_flows(tmp_path / "local")
    ray_folder = copy_flows(tmp_path / "ray")
    local, local_store = run_example(local_folder / f"{name}.json", None, record=True)
    remote, ray_store = run_example(ray_folder / f"{name}.json", engine, record=True)
    CHECKS[f"{name}.json"](remote)  # what the example promises, on Ray too
    assert remote.result.to_json()["nodes"] == local.result.to_json()["nodes"]
    assert remote.result.to_json()["edges"] == local.result.to_json()["edges"]
    assert remote.result.status == local.result.status
    outputs = sorted(p.relative_to(local_folder) for p in (local_folder / "out").rglob("*"))
    assert outputs == sorted(p.relative_to(ray_folder) for p in (ray_folder / "out").rglob("*"))
    assert local_store is not None and ray_store is not None
    for output in outputs:
        if output.name == "dead-letter.jsonl":  # error records name their inputs by id
            assert named_letters(ray_folder / output, ray_store) == named_letters(
                local_folder / output, local_store)
        else:
            assert (ray_folder / output).read_bytes() == (local_folder / output).read_bytes()
    assert lineage(ray_store) == lineage(local_store)
    # what `edgewise diff` says of the two kept runs: the same values on every edge
    diff = diff_runs(local_store, ray_store)
    assert (diff["changed"], diff["only_in_a"], diff["only_in_b"]) == ([], [], [])


CRASH_COUNT = 60_000


def crash_flow(folder: Path) -> Path:
    """range -> identity -> (count -> jsonl, jsonl): a stateless stage, a stateful one, sinks."""
    return write_flow(folder, [
        node("r", "stream.range", count=CRASH_COUNT),
        node("i", "stream.identity"),
        node("c", "stream.count"),
        node("counted", "jsonl.write", path="out/count.jsonl"),
        node("w", "jsonl.write", path="out/values.jsonl")],
        ["r.data->i.data", "i.data->c.data", "c.count->counted.data", "i.data->w.data"])


def host_pid(engine: RayEngine, node_id: str) -> tuple[Any, int]:
    host = engine.chains[node_id].slots[0].place.host
    return host, ray.get(host.pid.remote())


@pytest.mark.parametrize("target", ["i", "c", "w"], ids=["stateless", "stateful", "sink"])
def test_a_stage_whose_process_is_killed_mid_run_loses_and_repeats_nothing(
        target: str, tmp_path: Path, engine: RayEngine) -> None:
    local = crash_flow(tmp_path / "local")
    expected = runtime.Run(runtime.plan(local)).run()
    assert expected.status == "ok"

    path = crash_flow(tmp_path / "ray")
    # each node a stage of its own, in batches of 500: 120 calls each, killed at the 20th
    run = runtime.Run(runtime.plan(path), engine=engine,
                      options=RunOptions(fuse=False, batch_size=500))
    killed: list[tuple[Any, int]] = []
    fired = {"n": 0}

    def kill(node_id: str, count: int) -> None:
        if node_id != target or killed:
            return
        fired["n"] += count
        if fired["n"] >= 20 * 500:
            host, pid = host_pid(engine, target)
            os.kill(pid, signal.SIGKILL)  # its process, as `kill -9` would
            killed.append((host, pid))

    run.hooks.add("fired", kill)
    result = run_guarded(run)
    assert killed, "the stage was never killed"
    host, pid = killed[0]
    assert ray.get(host.pid.remote()) != pid  # a new process took the stage over
    assert result.status == "ok", result.first_error
    assert result.to_json()["edges"] == expected.to_json()["edges"]
    assert {n: r.fired for n, r in result.nodes.items()} == {
        n: r.fired for n, r in expected.nodes.items()}
    for name in ("values.jsonl", "count.jsonl"):  # every message once, in order
        assert (path.parent / "out" / name).read_bytes() == (
            local.parent / "out" / name).read_bytes()
    assert (path.parent / "out" / "count.jsonl").read_text() == f'{{"value": {CRASH_COUNT}}}\n'


@pytest.mark.parametrize("ordered", [True, False])
def test_replicas_share_a_nodes_messages_and_give_its_outputs(
        ordered: bool, tmp_path: Path, engine: RayEngine) -> None:
    # streaming-scoring with two copies of its scorer: each chunk is scored by one of them,
    # with the model that reached both (a latest input goes to every copy)
    local_folder, ray_folder = copy_flows(tmp_path / "local"), copy_flows(tmp_path / "ray")
    doc = json.loads((ray_folder / "streaming-scoring.json").read_text())
    predict = next(n for n in doc["nodes"] if n["id"] == "predict")
    predict.update({"replicas": 2, "ordered": ordered})
    (ray_folder / "streaming-scoring.json").write_text(json.dumps(doc))
    local, _ = run_example(local_folder / "streaming-scoring.json", None)
    copies: list[int] = []
    run = runtime.Run(runtime.plan(ray_folder / "streaming-scoring.json"), engine=engine,
                      options=RunOptions(batch_size=1))  # a chunk a batch: both copies work
    run.hooks.add("run_ended", lambda _result: copies.extend(
        s.rules[0].fired for s in engine.chains["predict"].slots))
    result = run.run()
    assert len(copies) == 2 and all(copies), copies  # both copies scored chunks
    assert sum(copies) == 10
    assert result.to_json()["edges"] == local.result.to_json()["edges"]
    scored = pd.read_csv(ray_folder / "out" / "predictions.csv")
    expected = pd.read_csv(local_folder / "out" / "predictions.csv")
    if ordered:
        assert (ray_folder / "out" / "predictions.csv").read_bytes() == (
            local_folder / "out" / "predictions.csv").read_bytes()
    else:  # the same rows, chunk by chunk in the order the copies finished
        pd.testing.assert_frame_equal(scored.sort_values(list(scored.columns)).reset_index(
            drop=True), expected.sort_values(list(expected.columns)).reset_index(drop=True))


def test_replicas_are_one_copy_on_the_local_engine(tmp_path: Path) -> None:
    folder = copy_flows(tmp_path)
    doc = json.loads((folder / "streaming-scoring.json").read_text())
    next(n for n in doc["nodes"] if n["id"] == "predict")["replicas"] = 2
    (folder / "streaming-scoring.json").write_text(json.dumps(doc))
    outcome, _ = run_example(folder / "streaming-scoring.json", None)
    CHECKS["streaming-scoring.json"](outcome)


def ray_processes(marker: str) -> list[str]:
    """The command lines of running processes that name ``marker`` (a Ray temp folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in line:
            found.append(line)
    return found


def test_ctrl_c_stops_a_ray_run_and_leaves_no_ray_process_behind(tmp_path: Path) -> None:
    path = write_flow(tmp_path, [node("r", "stream.range", count=10**9),
                                 node("i", "stream.identity"),
                                 node("w", "jsonl.write", path="out/values.jsonl")],
                      ["r.data->i.data", "i.data->w.data"])
    # a Ray of its own, in a short folder (Ray's socket paths have a length limit)
    temp = Path(tempfile.mkdtemp(prefix="ewray", dir="/tmp"))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "run", str(path), "--engine", "ray"],
            env={**{k: v for k, v in os.environ.items() if not k.startswith("RAY_")},
                 "RAY_TMPDIR": str(temp)}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 180
            while not any(p.name.endswith(".partial") for p in (tmp_path / "out").glob(".*")):
                assert proc.poll() is None, proc.communicate()[0]
                assert time.monotonic() < deadline, "the run never started writing"
                time.sleep(0.2)
            assert ray_processes(str(temp))  # Ray runs, started by this run
            proc.send_signal(signal.SIGINT)
            output, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 1, output
        assert "interrupted" in output
        assert "Traceback" not in output
        assert not (tmp_path / "out" / "values.jsonl").exists()  # a stopped run keeps nothing
        deadline = time.monotonic() + 60
        while ray_processes(str(temp)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ray_processes(str(temp)) == []
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def test_without_ray_the_ray_engine_is_refused_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError('No module named ray')\n")
    flow = FLOWS / "iris.json"
    paths = os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "run", str(flow), "--engine", "ray"],
        env={**os.environ, "PYTHONPATH": paths},
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "edgewise run: the Ray engine needs Ray, which is not installed: "
        "pip install 'edgewise[ray]'"]


def test_the_local_engine_never_imports_ray() -> None:
    code = ("import sys, runtime, runtime.engines, runtime.cli\n"
            f"result = runtime.run_flow({str(FLOWS / 'iris.json')!r})\n"
            "assert result.status == 'ok'\n"
            "print('ray' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert proc.stdout.strip() == "False"


def rss(pid: int) -> int:
    """A process's resident memory, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def test_a_slow_sink_slows_its_producers_and_memory_stays_flat(
        tmp_path: Path, engine: RayEngine) -> None:
    # 2,000,000 messages into a sink paced at 250,000 a second: the source is far faster,
    # so without back pressure they would pile up in the driver or in the hosts
    count = 2_000_000
    path = write_flow(tmp_path, [node("r", "stream.range", count=count),
                                 node("i", "stream.identity"),
                                 node("slow", "stream.throttle", rows_per_second=250_000),
                                 node("n", "stream.count")],
                      ["r.data->i.data", "i.data->slow.data", "slow.data->n.data"])
    run = runtime.Run(runtime.plan(path), engine=engine, options=RunOptions(fuse=False))
    hosts = [ray.get(h.pid.remote()) for h in engine.hosts()]
    samples: list[tuple[int, int]] = []  # (messages through the sink, bytes in use)
    done = {"n": 0}

    def sample(node_id: str, fired: int) -> None:
        if node_id == "slow":
            done["n"] += fired
            samples.append((done["n"], rss(os.getpid()) + sum(rss(p) for p in hosts)))

    run.hooks.add("fired", sample)
    result = run_guarded(run, timeout=600)
    assert result.status == "ok"
    assert result.nodes["n"].fired == count
    after_a_fifth = next(used for n, used in samples if n >= count // 5)
    peak = max(used for n, used in samples if n >= count // 5)
    # the last 1,600,000 messages add no more than a few batches' worth of memory
    assert peak - after_a_fifth < 40 * 2**20, (after_a_fifth, peak)


RUN_LOCAL = {"message", "id", "parents", "parent_ranges", "t", "run_started",
             "seconds_into_run", "_message", "run", "folder"}


def same_answer(value: Any) -> Any:
    """An audit answer without what is a run's own: ids, times, run names."""
    if isinstance(value, dict) and "_message" in value.get("columns", ()):  # a sample table
        keep = [i for i, c in enumerate(value["columns"]) if c != "_message"]
        value = {**value, "columns": [value["columns"][i] for i in keep],
                 "data": [[row[i] for i in keep] for row in value["data"]]}
    if isinstance(value, dict):
        return {k: same_answer(v) for k, v in value.items() if k not in RUN_LOCAL}
    if isinstance(value, list):
        return [same_answer(v) for v in value]
    return value


def audit(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    capsys.readouterr()
    assert cli_main([*args, "--json"]) == 0
    return same_answer(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))


def test_the_audit_questions_get_the_same_answers_on_both_engines(
        tmp_path: Path, engine: RayEngine, capsys: pytest.CaptureFixture[str]) -> None:
    answers = []
    for name, chosen in (("local", None), ("ray", engine)):
        folder = copy_flows(tmp_path / name)
        _outcome, store = run_example(folder / "iris.json", chosen, record=True)
        assert store is not None
        answers.append([
            audit(capsys, "trained-on", store.id, "fit.model", "-w", str(folder)),
            audit(capsys, "scored-by", store.id, "predict.data", "--row", "3", "-w",
                  str(folder)),
            audit(capsys, "trace", store.id, "score.metrics", "-w", str(folder))])
    assert answers[0] == answers[1]


def test_ray_benchmark_prints_its_figures(engine: RayEngine,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """bench.ray --quick, on this module's Ray (a second Ray start would cost seconds)."""
    import re

    from bench.ray import main
    from tests.test_bench import RAY_EXPECTED

    assert main(["--quick"]) == 0
    out = capsys.readouterr().out
    for pattern in RAY_EXPECTED:
        assert re.search(pattern, out, re.MULTILINE), (pattern, out)


def test_a_big_batch_is_shared_between_the_copies(tmp_path: Path, engine: RayEngine) -> None:
    nodes = [node("r", "stream.range", count=10_000), node("i", "stream.identity"),
             node("w", "jsonl.write", path="out/values.jsonl")]
    edges = ["r.data->i.data", "i.data->w.data"]
    local = write_flow(tmp_path / "local", nodes, edges)
    nodes[1]["replicas"] = 2
    path = write_flow(tmp_path / "ray", nodes, edges)
    assert runtime.Run(runtime.plan(local)).run().status == "ok"
    copies: list[int] = []
    run = runtime.Run(runtime.plan(path), engine=engine)
    run.hooks.add("run_ended", lambda _result: copies.extend(
        s.rules[0].fired for s in engine.chains["i"].slots))
    assert run.run().status == "ok"
    assert all(copies) and sum(copies) == 10_000, copies  # the source's batches were cut
    assert (path.parent / "out" / "values.jsonl").read_bytes() == (
        local.parent / "out" / "values.jsonl").read_bytes()


def test_resources_give_a_node_a_host_of_its_own_and_too_many_are_refused(
        tmp_path: Path, engine: RayEngine, capsys: pytest.CaptureFixture[str]) -> None:
    nodes = [node("r", "stream.range", count=100), node("i", "stream.identity"),
             node("n", "stream.count")]
    nodes[1]["resources"] = {"num_cpus": 0.5}
    path = write_flow(tmp_path, nodes, ["r.data->i.data", "i.data->n.data"])
    own: list[bool] = []
    run = runtime.Run(runtime.plan(path), engine=engine)
    run.hooks.add("node_started", lambda nid: own.append(
        engine.chains["i"].slots[0].place.host not in engine.hosts()) if nid == "i" else None)
    assert run.run().status == "ok"
    assert own == [True]  # placed by Ray, apart from the pool
    nodes[1]["resources"] = {"num_gpus": 4}
    path = write_flow(tmp_path, nodes, ["r.data->i.data", "i.data->n.data"])
    refused = engine.refusal(runtime.plan(path))
    assert refused == ("node 'i' asks for num_gpus 4, and the Ray cluster has 0 in all; "
                       "lower it, or run on a cluster that has it")
    capsys.readouterr()
    assert cli_main(["run", str(path), "--engine", "ray"]) == 2  # told, not left waiting
    assert capsys.readouterr().err.strip() == f"edgewise run: {refused}"


def test_an_aborted_run_kills_the_hosts_still_at_work(tmp_path: Path, engine: RayEngine) -> None:
    # --fail-fast: 'bad' fails three seconds in, while 'fit' trains for a minute in its host.
    # The run ends at once; its host must not train on for nothing, keeping the next run
    # waiting behind it: it is killed and comes back empty, as a stop does.
    long_fit = {"hidden_layer_sizes": [512, 512], "max_iter": 2000, "tol": 0,
                "n_iter_no_change": 2000}
    path = write_flow(tmp_path, [
        node("digits", "dataset.load", name="digits"),
        node("fit", "ml.fit", estimator="sklearn.neural_network.MLPClassifier",
             options=long_fit, target="target"),
        node("iris", "dataset.load", name="iris"),
        node("later", "stream.throttle", rows_per_second=1000, delay_seconds=3),
        node("bad", "frame.query", expr="target > 'no_such_text'")],
        ["digits.data->fit.data", "iris.data->later.data", "later.data->bad.data"])
    run = runtime.Run(runtime.plan(path), engine=engine, options=RunOptions(fail_fast=True))
    at_work: list[tuple[Any, int]] = []
    run.hooks.add("node_started", lambda node_id: at_work.append(host_pid(engine, "fit"))
                  if node_id == "fit" and not at_work else None)
    result = run_guarded(run)
    assert result.status == "aborted", result.first_error
    assert result.first_error is not None and result.first_error.node == "bad"
    assert at_work, "the fit never started"
    host, pid = at_work[0]
    # killed: a new process takes over (the kill lands a moment after the run ends)
    deadline = time.monotonic() + 60
    while host_answer(host) == pid and time.monotonic() < deadline:
        time.sleep(0.2)
    assert host_answer(host) != pid


def host_answer(host: Any) -> int:
    """A host's process id, once it answers (it may be restarting)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            answer: int = ray.get(host.pid.remote(), timeout=60)
        except ray.exceptions.ActorUnavailableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        return answer


def test_a_merge_recorded_on_ray_is_replayed_in_the_order_it_took_its_messages(
        tmp_path: Path, engine: RayEngine) -> None:
    # Each host numbers its messages from a range of its own, so ids say nothing of the
    # order in which 'm' took the two streams: the driver notes it as it sends them.
    path = write_flow(tmp_path, [
        node("low", "stream.range", count=3000),
        node("high", "stream.range", count=3000, start=10_000),
        node("a", "stream.identity"), node("b", "stream.identity"),
        node("m", "stream.identity")],
        ["low.data->a.data", "high.data->b.data", "a.data->m.data", "b.data->m.data"])
    run = runtime.Run(runtime.plan(path), engine=engine, options=RunOptions(batch_size=100))
    recorder = runtime.record_run(run, tmp_path)
    assert run_guarded(run).status == "ok"
    store = RunStore(recorder.folder)
    took = [value for _info, value in store.values("m.data")]
    assert sorted(took) == [*range(3000), *range(10_000, 13_000)]
    runs = store.manifest()["nodes"]["m"]["taken"]
    made = {"a.data": list(range(3000)), "b.data": list(range(10_000, 13_000))}
    assert [v for origin, first, count in runs for v in made[origin][first:first + count]] == took
    assert "taken" not in store.manifest()["nodes"]["a"]  # one edge: its order is given
    result, replayed = replay(store, "m", tmp_path)  # on the local engine
    assert result.status == "ok"
    assert [value for _info, value in replayed.store.values("m.data")] == took
