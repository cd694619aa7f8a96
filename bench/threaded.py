"""Benchmark: many small messages through threaded nodes, against the same calls in a loop."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from bench._report import heading, paired_ratio, parse_args, rate, table, timed
from bench._spread import spread
from runtime import Flow, Plan, Run, component, default_registry, latest, plan
from runtime.testing import memory_source

COUNT = 100_000
QUICK_COUNT = 5_000
REPEAT = 5
SIZE = [COUNT]  # how many messages the source below emits, set before each run


@component("bench.numbers", outputs={"data": "Any"}, threaded=True)
def numbers() -> Iterator[int]:
    """Count up, one message a number."""
    yield from range(SIZE[0])


@component("bench.scale", inputs={"data": "Any", "factor": latest()},
           outputs={"data": "Any"}, threaded=True)
def scale(data: Any, factor: Any) -> Any:
    """Multiply by the latest factor."""
    return data * factor


TOTAL = [0]  # what the sum below has added up


class Sum:
    """Add up what comes."""

    def __call__(self, data: Any) -> None:
        """Add one message."""
        TOTAL[0] += data


sum_spec = component("bench.sum", inputs={"data": "Any"}, threaded=True)(Sum)


def threaded_plan() -> Plan:
    """The flow numbers -> scale (with a latest factor) -> sum, every node threaded."""
    registry = default_registry().with_components(numbers, scale, sum_spec,
                                                  memory_source("bench.factor", [3]))
    flow = Flow.model_validate({"edgewise": 1, "name": "bench-threaded", "nodes": [
        {"id": "numbers", "component": "bench.numbers"},
        {"id": "factor", "component": "bench.factor"},
        {"id": "scale", "component": "bench.scale"},
        {"id": "sum", "component": "bench.sum"}], "edges": [
        {"source": "numbers.data", "target": "scale.data"},
        {"source": "factor.data", "target": "scale.factor"},
        {"source": "scale.data", "target": "sum.data"}]})
    return plan(flow, registry=registry)


def run_flow(checked: Plan, count: int, *, stats: bool = False) -> int:
    """Run the flow (with live statistics, as the CLI does); return its full collections."""
    full = [0]

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            full[0] += 1

    TOTAL[0] = 0
    run = Run(checked)
    if stats:
        _ = run.stats  # hooks handed every batch, as the CLI and the editor run flows
    gc.callbacks.append(note)
    try:
        result = run.run()
    finally:
        gc.callbacks.remove(note)
    if result.status != "ok" or TOTAL[0] != 3 * count * (count - 1) // 2:
        msg = f"threaded run ended {result.status} with total {TOTAL[0]}"
        raise RuntimeError(msg)
    return full[0]


def run_loop(count: int) -> int:
    """The same three components called in a plain loop."""
    TOTAL[0] = 0
    add = Sum()
    for value in numbers.target():
        add(scale.target(value, 3))
    if TOTAL[0] != 3 * count * (count - 1) // 2:
        msg = f"loop total {TOTAL[0]}"
        raise RuntimeError(msg)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table; return the exit code."""
    args = parse_args(__doc__ or "", argv)
    count = QUICK_COUNT if args.quick else COUNT
    repeat = args.repeat or (1 if args.quick else REPEAT)
    SIZE[0] = count
    heading("Threaded: a threaded source of one-number messages -> threaded scale (latest "
            "factor) -> threaded sum", [
        f"{count:,} messages; {repeat} runs, each timing the flow (Run.run(), plan built "
        "once), the flow with live statistics on (hooks handed every batch, as the CLI and "
        "the editor run it), and the same three components called in a plain loop.",
        "The source is read by the node it feeds, in its worker thread, several messages a "
        "read while the work is quick; what a slice did is kept until it is reported.",
        "full GCs: full garbage collections during one flow run (each scans the whole heap; "
        "what a slice keeps must not grow with its messages, or they come).",
        "Threaded nodes are for heavy work (a DataFrame a message); with trivial work, as "
        "here, the figures are the engine's own cost a message.",
    ])
    checked = threaded_plan()
    run_flow(checked, count)  # warm up: first calls, untimed
    flows, watched, loops, fulls, watched_fulls = [], [], [], [], []
    for _ in range(repeat):
        timing, full = timed(lambda: run_flow(checked, count))
        flows.append(timing.wall)
        fulls.append(full)
        timing, full = timed(lambda: run_flow(checked, count, stats=True))
        watched.append(timing.wall)
        watched_fulls.append(full)
        loops.append(timed(lambda: run_loop(count))[0].wall)
    print(table(["case", "s, min / median / max", "msg/s (median)", "full GCs a run"], [
        ("flow", spread(flows, "{:.3f}".format), rate(count, sorted(flows)[len(flows) // 2]),
         spread(fulls, "{:.0f}".format)),
        ("flow, live statistics on", spread(watched, "{:.3f}".format),
         rate(count, sorted(watched)[len(watched) // 2]), spread(watched_fulls, "{:.0f}".format)),
        ("plain loop", spread(loops, "{:.3f}".format),
         rate(count, sorted(loops)[len(loops) // 2]), "-"),
    ]))
    print()
    print(f"flow / plain loop (median of paired runs): {paired_ratio(flows, loops):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
