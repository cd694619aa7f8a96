"""The pure parts of the editor's runs: the re-run rule, the runs table, compare details."""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

import runtime
import runtime.runs
from editor.compare_view import edge_details, edge_mark
from editor.replay_rule import KeptFacts, facts_of, replay_blocker
from editor.run_actions import settled, stopped
from editor.runs_table import (
    RunFacts,
    metrics_of,
    param_changes,
    sort_runs,
    with_changes,
)
from editor.warm_up import flow_hints, module_of
from editor.worker import RunWorker
from editor.worker_replay import replay
from runtime._record import record_run
from runtime._record.replay import plan_replay

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, runtime.runs.RunStore]:
    """A workspace with the iris flow and one kept run of it."""
    workspace = tmp_path_factory.mktemp("runs") / "flows"
    shutil.copytree(REPO / "flows", workspace, ignore=shutil.ignore_patterns("out"))
    run = runtime.Run(runtime.plan(workspace / "iris.json"))
    store = record_run(run, workspace, links={"flow_file": "iris.json"}).store
    assert run.run().status == "ok"
    return workspace, store


def iris(workspace: Path) -> dict[str, Any]:
    flow: dict[str, Any] = json.loads((workspace / "iris.json").read_text())
    return flow


def node(flow: dict[str, Any], node_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(n for n in flow["nodes"] if n["id"] == node_id)
    return found


def edited(flow: dict[str, Any], node_id: str, **params: Any) -> dict[str, Any]:
    flow = copy.deepcopy(flow)
    node(flow, node_id)["params"].update(params)
    return flow


def test_rerun_rule_agrees_with_the_runtime_replay_on_what_can_work(
        kept: tuple[Path, runtime.runs.RunStore]) -> None:
    workspace, store = kept
    facts = facts_of(store)
    flow = iris(workspace)
    peek = copy.deepcopy(flow)
    peek["nodes"].append({"id": "peek", "component": "debug"})
    peek["edges"].append({"source": "split.test", "target": "peek.data"})
    cases = [
        (flow, "fit", None),
        (flow, "load", None),  # a source: nothing to feed
        (edited(flow, "fit", options={"C": 0.01, "max_iter": 500}), "fit", None),
        (edited(flow, "split", test_size=0.3), "split", None),
        (edited(flow, "split", test_size=0.3), "fit",
         "'split', upstream of 'fit', changed since run"),
        (edited(flow, "split", test_size=0.3), "metrics",
         "'split', upstream of 'metrics', changed"),
        (peek, "peek", None),  # a node added since: fed what the run recorded
    ]
    for doc, start, reason in cases:
        blocker = replay_blocker(doc, start, facts)
        if reason is None:
            assert blocker is None, (start, blocker)
            plan_replay(store, start, workspace, flow=doc, trust=True)  # and it can run
        else:
            assert blocker is not None and reason in blocker, (start, blocker)


def test_rerun_rule_refuses_what_the_runtime_replay_refuses(
        kept: tuple[Path, runtime.runs.RunStore]) -> None:
    workspace, store = kept
    flow = iris(workspace)
    renamed = copy.deepcopy(flow)  # 'split' renamed: the recording has no node 'part'
    node(renamed, "split")["id"] = "part"
    for edge in renamed["edges"]:
        edge["source"] = edge["source"].replace("split.", "part.")
        edge["target"] = edge["target"].replace("split.", "part.")
    blocker = replay_blocker(renamed, "fit", facts_of(store))
    assert blocker is not None and "'part', upstream of 'fit', was added after run" in blocker
    with pytest.raises(LookupError, match="has no node 'part'"):
        plan_replay(store, "fit", workspace, flow=renamed, trust=True)

    facts = facts_of(store)
    facts.not_kept = {"split.train"}
    assert "kept only some of the values on split.train" in str(
        replay_blocker(flow, "fit", facts))
    facts.not_kept, facts.origins = set(), facts.origins - {"split.train"}
    assert "did not record split.train" in str(replay_blocker(flow, "fit", facts))


def test_rerun_rule_says_why_without_a_run_a_node_or_a_finished_run() -> None:
    flow = {"nodes": [{"id": "a", "component": "x"}], "edges": []}
    assert replay_blocker(flow, None, None) == "Select one node to re-run from it."
    assert "no kept run of this flow yet" in str(replay_blocker(flow, "a", None))
    running = KeptFacts(run="r1", flow=flow, status="running")
    assert "Run r1 is running" in str(replay_blocker(flow, "a", running))
    damaged = KeptFacts(run="r1", flow={}, status="damaged", damage="manifest.json is missing")
    assert "damaged" in str(replay_blocker(flow, "a", damaged))
    assert "no node 'b'" in str(replay_blocker(flow, "b", KeptFacts(run="r", flow=flow,
                                                                     status="ok")))


def test_a_rerun_in_the_worker_is_a_function_call_that_keeps_and_compares_a_run(
        kept: tuple[Path, runtime.runs.RunStore]) -> None:
    workspace, store = kept
    flow = iris(workspace)
    same = replay(str(store.folder), "fit", flow, str(workspace))
    assert same["status"] == "ok", same
    assert same["report"]["first_changed"] == [] and same["report"]["run_a"] == store.id
    assert (workspace / ".edgewise" / "runs" / same["run"] / "manifest.json").is_file()
    other = replay(str(store.folder), "fit",
                   edited(flow, "fit", options={"C": 0.01, "max_iter": 500}), str(workspace))
    assert other["report"]["first_changed"] == ["fit.model->predict.model"]
    refused = replay(str(store.folder), "nope", flow, str(workspace))
    assert "no node 'nope'" in refused["error"]


def test_compare_details_are_those_of_edgewise_diff(
        kept: tuple[Path, runtime.runs.RunStore]) -> None:
    workspace, store = kept
    answer = replay(str(store.folder), "fit",
                    edited(iris(workspace), "fit", options={"C": 0.01, "max_iter": 500}),
                    str(workspace))
    report = answer["report"]
    assert edge_mark(report, "fit.model->predict.model") == "first"
    assert edge_mark(report, "split.train->fit.data") == "same"
    assert edge_mark(report, "no->such") == "one"
    model = dict(edge_details(report, "fit.model->predict.model"))
    assert model["messages"] == "1 → 1"
    assert "C 1.0 → 0.01" in model["why"]
    lines = edge_details(report, "predict.data->score.data")
    assert ("param", 'fit.options: {"max_iter": 500} → {"C": 0.01, "max_iter": 500}') in lines
    assert any(t == "drift" and "PSI" in x and "KS" in x for t, x in lines), lines
    metrics = edge_details(report, "score.metrics->metrics.data")
    entry = next(e for e in report["edges"] if e["edge"] == "score.metrics->metrics.data")
    accuracy = entry["metrics"]["accuracy"]
    delta = accuracy["b"] - accuracy["a"]
    assert delta < 0
    assert ("metric", f"accuracy: {accuracy['a']:.4g} → {accuracy['b']:.4g} ({delta:.4g})"
            ) in metrics, metrics


def test_runs_table_facts() -> None:
    a = {"nodes": [{"id": "fit", "component": "ml.fit", "params": {"C": 1, "x": "s"}},
                   {"id": "old", "component": "debug"}]}
    b = {"nodes": [{"id": "fit", "component": "ml.fit", "params": {"C": 0.5, "x": "s"}},
                   {"id": "new", "component": "debug"}]}
    assert param_changes(a, b) == ["fit.C 1 → 0.5", "new added", "old removed"]
    runs = with_changes([RunFacts(id="2", started="2026-01-02T00:00:00+00:00", flow=b,
                                  seconds=3.0, status="ok"),
                         RunFacts(id="1", started="2026-01-01T00:00:00+00:00", flow=a,
                                  seconds=90.0, status="errors")])
    assert runs[0].changes == ["fit.C 1 → 0.5", "new added", "old removed"]
    assert runs[1].changes == []
    assert [r.id for r in sort_runs(runs, "started", True)] == ["2", "1"]
    assert [r.id for r in sort_runs(runs, "started", False)] == ["1", "2"]
    assert [r.id for r in sort_runs(runs, "seconds", True)] == ["1", "2"]
    assert [r.id for r in sort_runs(runs, "status", False)] == ["1", "2"]
    with pytest.raises(ValueError, match="cannot sort runs by 'colour'"):
        sort_runs(runs, "colour", True)
    assert runs[1].duration_text == "1 min 30 s" and runs[0].duration_text == "3.00 s"
    found = metrics_of({"score.metrics": {"value": {"name": "score", "accuracy": 0.97368,
                                                    "rows": 38, "ok": True}},
                        "load.data": {"value": {"accuracy": 5}}})
    assert found == {"accuracy": 0.97368}
    assert RunFacts(id="x", metrics=found).metrics_text == "accuracy 0.9737"


def test_node_states_after_a_stop_or_a_lost_worker() -> None:
    states = {"a": {"state": "running", "errors": 0}, "b": {"state": "done", "errors": 0},
              "c": {"state": "starting", "errors": 0}, "d": {"state": "failed", "errors": 2}}
    assert {n: s["state"] for n, s in stopped(states).items()} == {
        "a": "stopped", "b": "done", "c": "stopped", "d": "failed"}
    assert {n: s["state"] for n, s in settled(states).items()} == {"a": "stopped",
                                                                    "c": "idle"}


def test_the_warm_worker_imports_the_estimators_a_flow_names() -> None:
    assert module_of("sklearn.ensemble.RandomForestClassifier") == "sklearn.ensemble"
    assert module_of("sklearn.preprocessing") == "sklearn.preprocessing"
    assert module_of("os.system") is None and module_of("petal length") is None
    flow = {"nodes": [{"id": "f", "component": "ml.fit", "params": {
        "estimator": "sklearn.svm.SVC",
        "steps": [{"estimator": "sklearn.preprocessing.StandardScaler"}]}},
        "junk", {"id": "g", "params": None}]}
    assert flow_hints(flow) == ["sklearn.svm", "sklearn.preprocessing"]


def test_a_waiting_worker_warms_up_answers_about_kept_runs_then_replays(
        kept: tuple[Path, runtime.runs.RunStore]) -> None:
    """One worker process: ready before any run, answers a diff, then replays in place."""
    workspace, store = kept
    messages: list[Any] = []
    found: dict[str, Any] = {}

    async def drive() -> None:
        ready = asyncio.Event()
        loop = asyncio.get_running_loop()

        def take(message: Any) -> None:
            messages.append(message)
            if message[0] == "ready":
                loop.call_soon_threadsafe(ready.set)

        worker = RunWorker(take)
        worker.spawn(("sklearn.linear_model",))
        await asyncio.wait_for(ready.wait(), 300)
        found["ready"] = worker.ready
        found["diff"] = await worker.ask("diff", str(store.folder), str(store.folder))
        try:
            await worker.ask("samples", str(workspace / "no-such-run"), "fit.model")
        except LookupError as exc:
            found["refused"] = str(exc)
        pid = worker._process.pid if worker._process else None
        found["replay"] = await worker.replay(
            store.folder, "fit", edited(iris(workspace), "fit", options={"C": 0.5}),
            workspace)
        found["same process"] = worker._process is not None and worker._process.pid == pid
        worker.close()

    # in a thread of its own: the browser tests' Playwright may hold this thread's loop
    runner = threading.Thread(target=asyncio.run, args=(drive(),))
    runner.start()
    runner.join()
    assert found["ready"] and messages[0] == ("ready",), messages
    assert found["diff"]["first_changed"] == [] and found["diff"]["run_a"] == store.id
    assert "no-such-run" in found["refused"]
    answer = found["replay"]
    assert answer["status"] == "ok", answer
    assert answer["report"]["first_changed"] == ["fit.model->predict.model"]
    assert answer["report"]["run_a"] == store.id and answer["report"]["run_b"] == answer["run"]
    assert found["same process"]
    assert [m[0] for m in messages] == ["ready"]  # a replay is no run of the page's
