"""Benchmark 1: messages per second through range -> 10 x identity -> count, taps off and on."""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench._report import (
    Timing,
    best,
    heading,
    paired_ratio,
    parse_args,
    rate,
    table,
    timed,
    verdict,
)
from bench._spread import spread
from runtime import (
    Flow,
    Plan,
    Registry,
    Run,
    RunOptions,
    RunResult,
    Snapshot,
    default_registry,
    plan,
)
from runtime.engines import Engine

STAGES = 10
COUNT = 200_000
QUICK_COUNT = 20_000
REPEAT = 9
TARGET_RATE = 200_000
TARGET_STEADY = 1_000_000
TARGET_TAPS_COST = 0.10
# Node-RED 4.1.15, 10 pass-through function nodes, 200,000 messages, on a 2-core machine
# like this one (../shared/notes/performance.md): messages per CPU-second.
NODE_RED_PER_CPU_SECOND = 5_835


def chain_flow(count: int, stages: int = STAGES) -> Flow:
    """The flow ``stream.range`` -> ``stages`` x ``stream.identity`` -> ``stream.count``.

    Args:
        count: How many messages the source emits.
        stages: How many identity nodes sit between the source and the counter.

    Returns:
        The flow, checked against the file format.
    """
    nodes: list[dict[str, Any]] = [
        {"id": "source", "component": "stream.range", "params": {"count": count}}]
    edges: list[dict[str, str]] = []
    previous = "source"
    for index in range(1, stages + 1):
        node = f"step{index}"
        nodes.append({"id": node, "component": "stream.identity"})
        edges.append({"source": f"{previous}.data", "target": f"{node}.data"})
        previous = node
    nodes.append({"id": "count", "component": "stream.count"})
    edges.append({"source": f"{previous}.data", "target": "count.data"})
    return Flow.model_validate({"edgewise": 1, "name": f"chain-{stages}", "nodes": nodes,
                                "edges": edges})


def chain_plan(count: int) -> Plan:
    """The checked plan of :func:`chain_flow`, ready to run."""
    return plan(chain_flow(count))


def run_chain(checked: Plan, count: int, *, taps: bool, fuse: bool = True,
              steady: list[float] | None = None, engine: Engine | None = None) -> int:
    """Run the chain once and check that every message reached the counter.

    Args:
        checked: The plan from :func:`chain_plan`.
        count: How many messages the source emits.
        taps: Subscribe to the run's live statistics (which switches the edge taps on).
        fuse: Run chains of nodes as one task (False: one task and queue per node).
        steady: When given, the rate after start-up (messages per second from the first
            batch leaving the source to the end of the run) is appended to it.
        engine: The engine to run on (default: the local engine).

    Returns:
        How many snapshots the subscriber received (0 with taps off).

    Raises:
        RuntimeError: The run failed or lost messages.
    """
    run = Run(checked, engine=engine, options=RunOptions(fuse=fuse))
    snapshots: list[int] = []
    if taps:
        def trivial(snapshot: Snapshot) -> None:
            snapshots.append(len(snapshot["edges"]))

        run.subscribe(trivial)
    marks: dict[str, float] = {}

    def first_batch(edge: str, batch: Any) -> None:
        if "start" not in marks and edge.startswith("source."):
            marks["start"], marks["first"] = time.perf_counter(), len(batch)

    if steady is not None:
        run.hooks.add("emitted", first_batch)
        run.hooks.add("run_ended", lambda _result: marks.setdefault("end", time.perf_counter()))
    result: RunResult = run.run()
    counted = result.nodes["count"].fired
    if result.status != "ok" or counted != count:
        msg = (f"chain run on {engine.name if engine else 'local'} ended {result.status} "
               f"with {counted} of {count} messages counted: {result.first_error}")
        raise RuntimeError(msg)
    if steady is not None:
        steady.append((count - marks["first"]) / (marks["end"] - marks["start"]))
    return len(snapshots)


def _target(registry: Registry, component_id: str) -> Callable[..., Any]:
    """The plain function (or class) behind a component."""
    spec = registry.get(component_id)
    if spec is None:
        msg = f"component '{component_id}' is not installed"
        raise RuntimeError(msg)
    return spec.target


def run_plain(count: int, stages: int = STAGES) -> int:
    """The baseline: call the same component functions in a plain Python loop.

    Args:
        count: How many integers to push through.
        stages: How many times each integer goes through ``stream.identity``'s function.

    Returns:
        What the ``stream.count`` instance counted.
    """
    registry = default_registry()
    steps: list[Callable[[Any], Any]] = [_target(registry, "stream.identity")] * stages
    count_spec = registry.get("stream.count")
    assert count_spec is not None  # noqa: S101 - a core component
    counter = count_spec.target(count_spec.params_model())
    for value in range(count):
        for step in steps:
            value = step(value)
        counter(value)
    counted: int = counter.end()
    if counted != count:
        msg = f"plain loop counted {counted} of {count}"
        raise RuntimeError(msg)
    return counted


@dataclass(frozen=True)
class ChainTimes:
    """The best timing of each case, the taps cost, rates after start-up, fewest snapshots."""

    off: Timing
    on: Timing
    unfused: Timing
    plain: Timing
    taps_cost: float
    taps_cost_cpu: float
    snapshots: int
    steady_on: list[float]
    steady_unfused: list[float]


def measure(count: int, repeat: int) -> ChainTimes:
    """Time taps off, taps on, taps on unfused and the plain loop, interleaved.

    Args:
        count: Messages per run.
        repeat: Repetitions of each case.

    Returns:
        The best of each case, the rates after start-up of every taps-on run, and the
        taps cost ``(a - b) / a`` in messages per second (and per CPU-second) as the
        median over the pairs of runs made back to back.
    """
    checked = chain_plan(count)
    off: list[Timing] = []
    on: list[Timing] = []
    unfused: list[Timing] = []
    plain: list[Timing] = []
    snapshots: list[int] = []
    steady_on: list[float] = []
    steady_unfused: list[float] = []
    run_chain(chain_plan(1_000), 1_000, taps=True)  # warm up: lazy imports, first calls
    for rep in range(repeat):
        order = (False, True) if rep % 2 == 0 else (True, False)
        for taps in order:
            timing, got = timed(functools.partial(run_chain, checked, count, taps=taps,
                                                  steady=steady_on if taps else None))
            (on if taps else off).append(timing)
            if taps:
                snapshots.append(got)
        unfused.append(timed(functools.partial(run_chain, checked, count, taps=True,
                                               fuse=False, steady=steady_unfused))[0])
        plain.append(timed(functools.partial(run_plain, count))[0])
    # (a - b) / a with a = count / t_off and b = count / t_on is 1 - t_off / t_on.
    cost = 1 - paired_ratio([t.wall for t in off], [t.wall for t in on])
    cost_cpu = 1 - paired_ratio([t.cpu for t in off], [t.cpu for t in on])
    return ChainTimes(best(off), best(on), best(unfused), best(plain), cost, cost_cpu,
                      min(snapshots), steady_on, steady_unfused)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table; return the exit code."""
    args = parse_args(__doc__ or "", argv)
    count = QUICK_COUNT if args.quick else COUNT
    repeat = args.repeat or (2 if args.quick else REPEAT)
    heading(f"Chain: stream.range -> {STAGES} x stream.identity -> stream.count", [
        f"{count:,} integer messages, {repeat} runs per case; taps off and on run back to "
        "back, in alternating order.",
        "Rates come from the best run of each case; the taps cost is the median over the "
        "back-to-back pairs (steadier on a busy machine).",
        "Engine runs are timed around Run.run() (event loop set-up included, plan built "
        "once before).",
        "taps on = Run.subscribe() with a callback that stores one number per snapshot.",
        "unfused = taps on, with operator fusion off (one task and queue per node).",
        "after start-up = messages per second from the first batch leaving the source to "
        "the end of the run.",
        "plain = a Python loop calling stream.identity's function 10 times per integer, "
        "then a stream.count instance.",
    ])
    found = measure(count, repeat)
    off, on, plain = found.off, found.on, found.plain
    rows = [
        (name, f"{t.wall:.3f}", rate(count, t.wall), rate(count, t.cpu),
         f"{plain.wall / t.wall:.2f}", f"{count / t.cpu / NODE_RED_PER_CPU_SECOND:,.0f}x")
        for name, t in (("engine, taps off (a)", off), ("engine, taps on (b)", on),
                        ("engine, taps on, unfused", found.unfused),
                        ("plain Python composition", plain))
    ]
    print(table(["case", "seconds", "msg/s", "msg/CPU-s", "speed vs plain",
                 "vs Node-RED per CPU-s"], rows))
    rate_on = count / on.wall
    taps_cost = found.taps_cost
    steady = statistics.median(found.steady_on)
    print()
    per_second = "{:,.0f}".format
    print(table(["msg/s after start-up (taps on)", "min / median / max"], [
        ("fused (default)", spread(found.steady_on, per_second)),
        ("unfused", spread(found.steady_unfused, per_second))]))
    print()
    print(f"subscriber snapshots per taps-on run: {found.snapshots}")
    print(f"engine (taps on) / plain composition time: {on.wall / plain.wall:.2f}x")
    print(f"taps cost ((a-b)/a, in msg/s): {taps_cost:+.1%}   "
          f"(in msg per CPU-second: {found.taps_cost_cpu:+.1%})")
    print(f"Node-RED anchor: {NODE_RED_PER_CPU_SECOND:,} msg per CPU-second "
          "(10 function nodes, notes/performance.md)")
    print()
    print(table(["target", "measured", "verdict"], [
        (f">= {TARGET_RATE:,} msg/s with taps on", f"{rate_on:,.0f} msg/s",
         verdict(rate_on >= TARGET_RATE)),
        (f">= {TARGET_STEADY:,} msg/s after start-up, taps on (median)",
         f"{steady:,.0f} msg/s", verdict(steady >= TARGET_STEADY)),
        (f"taps cost <= {TARGET_TAPS_COST:.0%}", f"{taps_cost:+.1%}",
         verdict(taps_cost <= TARGET_TAPS_COST)),
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
