"""The Ray engine gives the local engine's results: every example flow, replicas, crashes.

Every Ray test lives in this module, so that one pytest worker starts Ray, once.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runtime
from runtime.engines import RayEngine
from runtime.runs import RunStore, diff_runs
from tests.test_flows import CHECKS, FLOW_FILES, FLOWS, Outcome

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def engine() -> Iterator[RayEngine]:
    """One embedded Ray for the module, with the engine's pool of hosts started."""
    made = RayEngine()
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


# supervised-scoring is a live loop: which row its promotion lands on depends on how fast
# each hop is, on either engine; its check allows any row after the evidence
@pytest.mark.parametrize("flow_file", FLOW_FILES, ids=[f.stem for f in FLOW_FILES])
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


DETERMINISTIC = ["iris", "dead-letter", "scaled-pipeline", "streaming-scoring",
                 "confidence-routing", "feature-engineering"]


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_same_counts_sink_outputs_and_recorded_lineage_on_both_engines(
        name: str, tmp_path: Path, engine: RayEngine) -> None:
    local_folder = copy_flows(tmp_path / "local")
    ray_folder = copy_flows(tmp_path / "ray")
    local, local_store = run_example(local_folder / f"{name}.json", None, record=True)
    remote, ray_store = run_example(ray_folder / f"{name}.json", engine, record=True)
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
