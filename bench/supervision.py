"""Supervised scoring: ml.serve's shadow and canary modes against champion; decision delay."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
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
from runtime import ComponentSpec, Flow, Plan, Run, default_registry, plan
from runtime.testing import memory_source

ROWS = 200_000
QUICK_ROWS = 10_000
CHUNK_ROWS = 1_000
FEATURES = 8
REPEAT = 7
TARGET_RATIO = 2.1
CANARY_PERCENT = 10
MODES = ("champion", "shadow", "canary")
# flows/supervised-scoring.json: the concept changes at this row (make_data.py's DRIFT_ROW),
# and ml.monitor grades windows of this many labelled rows
DRIFT_ROW = 3000
WINDOW_ROWS = 250
DELAY_RUNS = 3


def make_data(rows: int) -> tuple[list[Any], Any, Any]:
    """Chunks of ``rows`` rows of float features, and two fitted classifiers to score them.

    Returns:
        The chunks (DataFrames of ``CHUNK_ROWS`` rows, row ids kept from 0), the champion
        (LogisticRegression, C=1) and the challenger (LogisticRegression, C=0.1), both fitted
        on 5,000 other rows of the same kind.
    """
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(8)
    weights = np.linspace(-2.0, 2.0, FEATURES)
    columns = [f"x{i}" for i in range(FEATURES)]

    def frame(count: int) -> tuple[pd.DataFrame, Any]:
        values = rng.normal(size=(count, FEATURES))
        return pd.DataFrame(values, columns=columns), (values @ weights > 0).astype(int)

    train, labels = frame(5_000)
    champion = LogisticRegression(max_iter=1000).fit(train, labels)
    challenger = LogisticRegression(max_iter=1000, C=0.1).fit(train, labels)
    data, _labels = frame(rows)
    return [data.iloc[i:i + CHUNK_ROWS] for i in range(0, rows, CHUNK_ROWS)], champion, \
        challenger


def serve_specs() -> list[ComponentSpec]:
    """The ``ml.serve`` component under test, so that the benchmark runs before it is installed."""
    import components.ml_serve as module

    return [v for v in vars(module).values() if isinstance(v, ComponentSpec)]


def serving_plan(mode: str, chunks: list[Any], champion: Any, challenger: Any) -> Plan:
    """In-memory chunks -> ml.serve (both models connected, in ``mode``); no sink.

    The data comes from memory so that the figures are the scorer's, not a CSV reader's.
    """
    registry = default_registry().with_components(
        *serve_specs(), memory_source("bench.chunks", chunks, "DataFrame"),
        memory_source("bench.champion", [champion], "Model"),
        memory_source("bench.challenger", [challenger], "Model"))
    flow = Flow.model_validate({"edgewise": 1, "name": f"bench-serve-{mode}", "nodes": [
        {"id": "data", "component": "bench.chunks"},
        {"id": "champion", "component": "bench.champion"},
        {"id": "challenger", "component": "bench.challenger"},
        {"id": "serve", "component": "ml.serve",
         "params": {"mode": mode, "canary_percent": CANARY_PERCENT}},
    ], "edges": [
        {"source": "data.data", "target": "serve.data"},
        {"source": "champion.data", "target": "serve.champion"},
        {"source": "challenger.data", "target": "serve.challenger"},
    ]})
    return plan(flow, registry=registry)


def run_once(checked: Plan, chunks: int) -> int:
    """Run a plan once and check that ``serve`` scored every chunk without an error.

    Raises:
        RuntimeError: The run failed, or scored too few chunks.
    """
    result = Run(checked).run()
    node = result.nodes["serve"]
    if result.status != "ok" or node.fired != chunks or node.errors:
        msg = (f"serving flow ended {result.status} after {node.fired} of {chunks} chunks "
               f"and {node.errors} error(s): {result.first_error}")
        raise RuntimeError(msg)
    return node.fired


def decision_delay() -> tuple[int, int]:
    """Run the supervised-scoring example once, from a clean copy; where its promotion came.

    Returns:
        The labelled rows past the drift when the supervisor decided, and the rows the old
        champion still answered past the drift (until the new one reached the scorer).

    Raises:
        RuntimeError: The run failed, or did not promote exactly once.
    """
    import shutil
    import tempfile
    from pathlib import Path

    import pandas as pd

    flows = Path(__file__).resolve().parents[1] / "flows"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "flows"
        shutil.copytree(flows, folder, ignore=shutil.ignore_patterns("out", ".*"))
        run = Run(plan(folder / "supervised-scoring.json"))
        decisions: list[Any] = []
        run.hooks.add("produced", lambda origin, batch: decisions.extend(
            batch.values) if origin == "supervisor.decisions" else None)
        result = run.run()
        actions = [d.iloc[0]["action"] for d in decisions]
        if result.status != "ok" or actions != ["promote"]:
            msg = f"the example ended {result.status} with decisions {actions}"
            raise RuntimeError(msg)
        decided = decisions[0].iloc[0]
        scored = pd.read_csv(folder / "out" / "scored.csv")
        switch = int((scored["model"] == decided["to"]).to_numpy().argmax())
    return (int(decided["window"]) + 1) * WINDOW_ROWS - DRIFT_ROW, switch - DRIFT_ROW


def _rows_flag(parser: Any) -> None:
    parser.add_argument("--rows", type=int, default=None,
                        help=f"rows to score (default {ROWS:,}; {QUICK_ROWS:,} with --quick)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables; return the exit code."""
    args = parse_args(__doc__ or "", argv, _rows_flag)
    rows = args.rows or (QUICK_ROWS if args.quick else ROWS)
    repeat = args.repeat or (1 if args.quick else REPEAT)
    heading("Champion/challenger scoring: in-memory chunks -> ml.serve (champion, challenger)", [
        f"{rows:,} rows x {FEATURES} float features, in chunks of {CHUNK_ROWS:,} rows; "
        "champion LogisticRegression(C=1), challenger LogisticRegression(C=0.1), both "
        "connected in every mode.",
        "champion: the champion answers every row (the baseline). shadow: both models score "
        "every row; the challenger's predictions go out on 'shadow'. canary: "
        f"{CANARY_PERCENT}% of the rows, by a hash of the row id, are answered by the "
        "challenger.",
        "Each run is timed around Run.run() (plan built once before); every chunk is "
        "checked to be scored, without an error.",
        f"{repeat} rounds of the three modes back to back, in rotating order. Times: the best "
        "run; ratios: the median over the rounds of mode / champion, and their spread "
        "(min / median / max).",
    ])
    chunks, champion, challenger = make_data(rows)
    plans = {mode: serving_plan(mode, chunks, champion, challenger) for mode in MODES}
    run_once(plans["shadow"], len(chunks))  # warm up: lazy imports and first calls, untimed
    times: dict[str, list[Timing]] = {mode: [] for mode in MODES}
    for rep in range(repeat):
        for mode in MODES[rep % 3:] + MODES[:rep % 3]:
            times[mode].append(timed(functools.partial(run_once, plans[mode], len(chunks)))[0])
    print(table(["mode", "best s", "CPU s", "rows/s"], [
        (mode, f"{best(times[mode]).wall:.3f}", f"{best(times[mode]).cpu:.3f}",
         rate(rows, best(times[mode]).wall)) for mode in MODES]))
    print()
    base = [t.wall for t in times["champion"]]
    ratios = {mode: [t.wall / b for t, b in zip(times[mode], base, strict=True)]
              for mode in MODES[1:]}
    print(table(["mode / champion", "time", "CPU time", "time, min / median / max"], [
        (mode, f"{paired_ratio([t.wall for t in times[mode]], base):.2f}x",
         f"{paired_ratio([t.cpu for t in times[mode]], [t.cpu for t in times['champion']]):.2f}x",
         spread(ratios[mode])) for mode in MODES[1:]]))
    print()
    shadow = paired_ratio([t.wall for t in times["shadow"]], base)
    print(table(["target", "measured", "verdict"], [
        (f"shadow within {TARGET_RATIO}x of champion mode, median", f"{shadow:.2f}x",
         verdict(shadow <= TARGET_RATIO)),
    ]))
    print()
    runs = 1 if args.quick else DELAY_RUNS
    heading("Decision delay: flows/supervised-scoring.json, concept change at row 3,000", [
        f"{runs} run(s) of the example from a clean copy (stream at 1,000 rows/s, labels "
        "0.25 s behind, windows of 250 labelled rows, promotion after 2 winning windows).",
        "decided after: labelled rows past the drift when the supervisor promoted (set by "
        "the windows, the same every run). old champion after: rows the old champion still "
        "answered past the drift, until the new one reached the scorer (depends on timing).",
    ])
    delays = [decision_delay() for _ in range(runs)]
    print(table(["figure", "rows, min / median / max"], [
        ("decided after", spread([float(d) for d, _s in delays], "{:,.0f}".format)),
        ("old champion after", spread([float(s) for _d, s in delays], "{:,.0f}".format)),
    ]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
