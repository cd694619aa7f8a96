"""The heavy case of ``bench.ray``: RandomForest predict on 1,000-row chunks, in replicas."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime import ComponentSpec, Flow, Plan, Run, component, default_registry, plan
from runtime.engines import Engine, RayEngine

FEATURES = 10
TRAIN_ROWS = 2_000
CHUNK_ROWS = 1_000
# name -> (replicas on the predict node, None: the local engine; ordered)
CASES: dict[str, tuple[int | None, bool]] = {
    "local engine": (None, True), "Ray, replicas 1": (1, True),
    "Ray, replicas 2": (2, True), "Ray, replicas 2, ordered false": (2, False)}


@dataclass
class HeavyTimes:
    """Per case: seconds of each run, and CPU seconds of the hosts and of this process.

    ``same`` says whether every run predicted what the forest's own ``predict`` does, on
    the same rows, with the same row ids.
    """

    seconds: dict[str, list[float]] = field(default_factory=dict)
    hosts_cpu: dict[str, list[list[float]]] = field(default_factory=dict)
    driver_cpu: dict[str, list[float]] = field(default_factory=dict)
    same: bool = True
    runs: int = 0


def forest_and_chunks(chunks: int, trees: int) -> tuple[Any, list[Any]]:
    """A fitted RandomForestClassifier (predicting on one thread), and chunks to score."""
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(14)
    columns = [f"x{i}" for i in range(FEATURES)]
    train = pd.DataFrame(rng.normal(size=(TRAIN_ROWS, FEATURES)), columns=columns)
    labels = (train.iloc[:, :4].sum(axis=1) + rng.normal(size=TRAIN_ROWS) > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=trees, random_state=0, n_jobs=2)
    forest.fit(train, labels).set_params(n_jobs=None)
    data = pd.DataFrame(rng.normal(size=(chunks * CHUNK_ROWS, FEATURES)), columns=columns)
    return forest, [data.iloc[i:i + CHUNK_ROWS] for i in range(0, len(data), CHUNK_ROWS)]


def chunk_source(chunks: list[Any]) -> ComponentSpec:
    """A source handing over one chunk at a time, as csv.read with chunk_rows does.

    A plain source's messages leave in batches of up to ``MAX_BATCH_ROWS`` rows, and each
    batch goes to one copy of a replicated node: 40 chunks in one batch is one call.
    """
    def emit() -> Iterator[Any]:
        yield from chunks

    emit.__doc__ = "Emit DataFrames held in memory, one at a time."
    return component("bench.chunks", outputs={"data": "DataFrame"}, threaded=True,
                     category="testing")(emit)


def heavy_plan(forest: Any, chunks: list[Any], replicas: int | None,
               ordered: bool = True) -> Plan:
    """Chunks and the forest -> ml.predict (``replicas`` copies) -> stream.count (rows).

    ``ordered`` False lets the copies' outputs go on in the order they come.
    """
    from runtime.testing import memory_source

    registry = default_registry().with_components(
        chunk_source(chunks), memory_source("bench.forest", [forest], "Model"))
    predict: dict[str, Any] = {"id": "predict", "component": "ml.predict"}
    if replicas is not None:
        predict["replicas"] = replicas
    if not ordered:
        predict["ordered"] = False
    flow = Flow.model_validate({"edgewise": 1, "name": "bench-ray-heavy", "nodes": [
        {"id": "data", "component": "bench.chunks"},
        {"id": "forest", "component": "bench.forest"}, predict,
        {"id": "count", "component": "stream.count", "params": {"unit": "rows"}},
    ], "edges": [
        {"source": "data.data", "target": "predict.data"},
        {"source": "forest.data", "target": "predict.model"},
        {"source": "predict.data", "target": "count.data"},
    ]})
    return plan(flow, registry=registry)


def run_heavy(checked: Plan, rows: int, engine: Engine | None,
              hosts: list[Any] | None = None) -> tuple[float, Any]:
    """Run the heavy flow once; its seconds and its predictions, in one DataFrame.

    Args:
        checked: The plan from :func:`heavy_plan`.
        rows: How many rows the chunks hold.
        engine: The Ray engine, or None for the local engine.
        hosts: When given, the Ray hosts running the predict copies are appended to it.

    Raises:
        RuntimeError: The run failed, or scored too few rows.
    """
    import pandas as pd

    run = Run(checked, engine=engine)
    out: list[Any] = []

    def produced(port: str, batch: Any) -> None:
        if port != "predict.data":
            return
        out.extend(batch.values)
        if hosts is not None and not hosts and isinstance(engine, RayEngine):
            hosts.extend(s.place.host for s in engine.chains["predict"].slots)

    run.hooks.add("produced", produced)
    began = time.perf_counter()
    result = run.run()
    took = time.perf_counter() - began
    counted = sum(len(frame) for frame in out)
    if result.status != "ok" or counted != rows:
        msg = (f"heavy run ended {result.status} with {counted} of {rows} rows predicted: "
               f"{result.first_error}")
        raise RuntimeError(msg)
    return took, pd.concat(out)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process of this machine has used; 0 if unknown."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return 0.0
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_heavy(engine: RayEngine, ray: Any, chunks: int, trees: int,
                  repeat: int) -> HeavyTimes:
    """Time predict on the local engine and on Ray at 1 and 2 replicas, in turns.

    Every run's predictions are compared with the forest's own ``predict`` on all rows
    (in row-id order for ``ordered: false``).
    """
    import pandas as pd

    forest, frames = forest_and_chunks(chunks, trees)
    everything = pd.concat(frames)
    expected = everything.assign(prediction=forest.predict(everything))
    hosts: list[Any] = []
    for copies in (2, 1):  # the hosts import pandas and scikit-learn on their first predict
        run_heavy(heavy_plan(forest, frames[:2], copies), 2 * CHUNK_ROWS, engine,
                  hosts if copies == 2 else None)
    pids = [ray.get(host.pid.remote()) for host in hosts]  # the pool's, the same every run
    plans = {name: heavy_plan(forest, frames, copies, ordered)
             for name, (copies, ordered) in CASES.items()}
    found = HeavyTimes()
    names = list(CASES)
    for rep in range(repeat):
        for name in names if rep % 2 == 0 else names[::-1]:
            on = None if CASES[name][0] is None else engine
            before = [process_cpu(pid) for pid in pids]
            cpu = time.process_time()
            took, predicted = run_heavy(plans[name], len(everything), on)
            found.driver_cpu.setdefault(name, []).append(time.process_time() - cpu)
            found.hosts_cpu.setdefault(name, []).append(
                [process_cpu(pid) - b for pid, b in zip(pids, before, strict=True)])
            found.seconds.setdefault(name, []).append(took)
            if not CASES[name][1]:
                predicted = predicted.sort_index()
            found.same = found.same and predicted.equals(expected) and bool(
                (predicted.index == expected.index).all())
            found.runs += 1
    return found
