"""The cases ``bench.ray`` measures: Ray's start-up, the chain, recovery after a killed host."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench import chain
from bench.chain import chain_plan
from runtime import Plan, Run
from runtime.engines import Engine, RayEngine

WARM_RUNS = 3
KILL_AFTER = 3  # the chain's batches delivered before its host is killed


@dataclass
class StartTimes:
    """Seconds of each ray.init (none: Ray was up already), each first run, later runs."""

    inits: list[float]
    firsts: list[float]
    warm: list[float]
    hosts: int


def run_chain(checked: Plan, count: int, engine: Engine | None, fuse: bool = True) -> float:
    """Run the chain once, taps on; its rate after start-up, once every message was counted.

    Raises:
        RuntimeError: The run failed or lost messages.
    """
    steady: list[float] = []
    chain.run_chain(checked, count, taps=True, fuse=fuse, steady=steady, engine=engine)
    return steady[0]


def measure_start(engine: RayEngine, ray: Any) -> StartTimes:
    """Time ray.init and the first run on Ray (its pool of hosts starts), then a few runs.

    Ray starts once per process: the engine keeps its pool by the Ray job's id, which a
    second ``ray.init`` in the same process gives again, so it is not restarted here. When
    Ray is up already (a test's), only the runs are timed.
    """
    inits: list[float] = []
    small = chain_plan(1_000)

    def one_run() -> float:
        began = time.perf_counter()
        run_chain(small, 1_000, engine)
        return time.perf_counter() - began

    if not ray.is_initialized():
        began = time.perf_counter()
        engine.connect()
        inits.append(time.perf_counter() - began)
    first = one_run()
    warm = [one_run() for _ in range(WARM_RUNS)]
    return StartTimes(inits, [first], warm, int(ray.cluster_resources().get("CPU", 1)))


def measure_chain(engine: RayEngine, count: int, repeat: int) -> dict[str, list[float]]:
    """Rates after start-up of the chain: local, Ray fused, Ray unfused, in turns."""
    checked = chain_plan(count)
    found: dict[str, list[float]] = {"local": [], "ray": [], "ray_unfused": []}
    cases: list[tuple[str, Engine | None, bool]] = [
        ("local", None, True), ("ray", engine, True), ("ray_unfused", engine, False)]
    for rep in range(repeat):
        for key, on, fuse in cases if rep % 2 == 0 else cases[::-1]:
            found[key].append(run_chain(checked, count, on, fuse))
    return found


@dataclass
class RecoveryTimes:
    """Per killed run: seconds from the kill to the next batch, wall seconds, count."""

    gaps: list[float] = field(default_factory=list)
    walls: list[float] = field(default_factory=list)
    counted: list[int] = field(default_factory=list)


def run_killed(engine: RayEngine, ray: Any, checked: Plan, count: int
               ) -> tuple[float, float, int]:
    """Run the chain, kill -9 its host after a few batches; the gap, wall time and count.

    Raises:
        RuntimeError: The run failed, or ended before the kill.
    """
    run = Run(checked, engine=engine)
    due = threading.Event()
    marks: dict[str, float] = {}
    counted: list[int] = []

    def produced(port: str, batch: Any) -> None:
        if port == "count.count":
            counted.extend(batch.values)
        if port != "step1.data":
            return
        marks["batches"] = marks.get("batches", 0) + 1
        if marks["batches"] == KILL_AFTER:
            due.set()
        elif ("killed" in marks and "next" not in marks
              and engine.chains["step1"].slots[0].restarts):
            marks["next"] = time.perf_counter()

    def kill() -> None:
        due.wait(timeout=300)
        chain = engine.chains.get("step1")
        if chain is None or "ended" in marks:  # the run ended first: nothing to kill
            return
        pid = ray.get(chain.slots[0].place.host.pid.remote())
        marks["killed"] = time.perf_counter()
        os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill, daemon=True)
    killer.start()
    run.hooks.add("produced", produced)
    began = time.perf_counter()
    result = run.run()
    wall = time.perf_counter() - began
    marks["ended"] = wall
    due.set()
    killer.join()
    if result.status != "ok" or "next" not in marks:
        msg = (f"killed chain run ended {result.status} before a batch came after the kill "
               f"({marks}): {result.first_error}")
        raise RuntimeError(msg)
    return marks["next"] - marks["killed"], wall, counted[-1] if counted else 0


def measure_recovery(engine: RayEngine, ray: Any, count: int, repeat: int) -> RecoveryTimes:
    """Kill the chain's host in ``repeat`` runs; time each recovery, count each run's messages."""
    checked = chain_plan(count)
    found = RecoveryTimes()
    for _ in range(repeat):
        gap, wall, counted = run_killed(engine, ray, checked, count)
        found.gaps.append(gap)
        found.walls.append(wall)
        found.counted.append(counted)
    return found
