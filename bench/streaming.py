"""Benchmark 3: rows per second of the streaming scoring flow against a hand-written loop."""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
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
from runtime import Flow, Plan, Run, default_registry, plan
from runtime.testing import memory_source

ROWS = 200_000
QUICK_ROWS = 20_000
TRAIN_ROWS = 20_000
QUICK_TRAIN_ROWS = 2_000
FEATURES = 6
CHUNK_ROWS = 1_000
REPEAT = 10
BEST_OF = 3
TARGET_RATIO = 1.05
ESTIMATOR = "sklearn.linear_model.LogisticRegression"
OPTIONS: dict[str, Any] = {"max_iter": 1000}
TARGET = "target"


def make_csv(path: Path, rows: int, seed: int) -> None:
    """Write a CSV of ``FEATURES`` float columns and a binary ``target`` column.

    Args:
        path: Where to write it.
        rows: How many data rows.
        seed: Seed of the random numbers, so that every run scores the same file.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, FEATURES))
    weights = np.linspace(-2.0, 2.0, FEATURES)
    noise = rng.normal(scale=0.5, size=rows)
    frame = pd.DataFrame(features.round(5), columns=[f"x{i}" for i in range(FEATURES)])
    frame[TARGET] = (features @ weights + noise > 0).astype(int)
    frame.to_csv(path, index=False)


def fit_by_hand(train: Path) -> Any:
    """Read the training CSV and fit the estimator as a script would (as ``ml.fit`` does)."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    data = pd.read_csv(train)
    features = [c for c in data.columns if c != TARGET]
    return LogisticRegression(**OPTIONS).fit(data[features], data[TARGET])


def score_by_hand(model: Any, source: Path, out: Path) -> int:
    """The hand-written loop: read chunks, predict with the model, append to one CSV.

    Args:
        model: A fitted scikit-learn estimator.
        source: The CSV to score.
        out: The CSV to write, with a ``prediction`` column added.

    Returns:
        How many rows were scored.
    """
    import pandas as pd

    features = list(model.feature_names_in_)
    rows = 0
    with (out.open("w", encoding="utf-8", newline="") as handle,
          pd.read_csv(source, chunksize=CHUNK_ROWS) as reader):
        for chunk in reader:
            scored = chunk.assign(prediction=model.predict(chunk[features]))
            scored.to_csv(handle, header=rows == 0, index=False)
            rows += len(chunk)
    return rows


def scoring_flow(source: Path, out: Path, *, train: Path | None) -> Flow:
    """The streaming scoring flow of ``flows/streaming-scoring.json`` (without its metrics).

    Args:
        source: The CSV that ``incoming`` reads in chunks of ``CHUNK_ROWS`` rows.
        out: The CSV that ``save`` writes.
        train: The training CSV for ``train`` -> ``fit``; None feeds ``predict.model``
            from the in-memory source ``bench.model`` instead (see :func:`flow_plan`).

    Returns:
        The flow, checked against the file format.
    """
    nodes: list[dict[str, Any]] = [
        {"id": "incoming", "component": "csv.read",
         "params": {"path": str(source), "chunk_rows": CHUNK_ROWS}},
        {"id": "predict", "component": "ml.predict"},
        {"id": "save", "component": "csv.write", "params": {"path": str(out)}},
    ]
    edges = [{"source": "incoming.data", "target": "predict.data"},
             {"source": "predict.data", "target": "save.data"}]
    if train is None:
        nodes.append({"id": "fit", "component": "bench.model"})
        edges.append({"source": "fit.data", "target": "predict.model"})
    else:
        nodes += [{"id": "train", "component": "csv.read", "params": {"path": str(train)}},
                  {"id": "fit", "component": "ml.fit",
                   "params": {"estimator": ESTIMATOR, "options": OPTIONS, "target": TARGET}}]
        edges += [{"source": "train.data", "target": "fit.data"},
                  {"source": "fit.model", "target": "predict.model"}]
    return Flow.model_validate({"edgewise": 1, "name": "bench-streaming-scoring",
                                "nodes": nodes, "edges": edges})


def flow_plan(flow: Flow, model: Any) -> Plan:
    """Plan a scoring flow; ``bench.model`` is a source that emits the given fitted model."""
    registry = default_registry().with_components(memory_source("bench.model", [model],
                                                                "Model"))
    return plan(flow, registry=registry)


def run_flow(checked: Plan, chunks: int) -> int:
    """Run a scoring flow once and check that ``predict`` scored every chunk.

    Args:
        checked: The plan to run.
        chunks: How many chunks ``incoming`` must emit.

    Returns:
        How many chunks were scored.

    Raises:
        RuntimeError: The run failed or scored too few chunks.
    """
    result = Run(checked).run()
    fired = result.nodes["predict"].fired
    if result.status != "ok" or fired != chunks:
        msg = (f"scoring flow ended {result.status} after scoring {fired} of {chunks} "
               f"chunks: {result.first_error}")
        raise RuntimeError(msg)
    return fired


@dataclass
class Case:
    """One comparison: the flow and the hand loop doing the same work, and what it covers."""

    name: str
    flow: Callable[[], object]
    hand: Callable[[], object]
    flow_out: Path
    hand_out: Path


@dataclass(frozen=True)
class Comparison:
    """The best run of each side, their ratios, and whether both wrote the same file."""

    flow: Timing
    hand: Timing
    wall_ratio: float
    cpu_ratio: float
    same: bool
    ratios: list[float]


def compare(case: Case, repeat: int, best_of: int) -> Comparison:
    """Time the flow and the hand loop back to back, and compare what they wrote.

    Args:
        case: What to run.
        repeat: Runs of the comparison; each gives one ratio.
        best_of: Calls of each side in one run, in the order flow, hand, hand, flow, ...
            (the next run starts the other way round); a run keeps each side's fastest.

    Returns:
        The best call of each side, and flow / hand loop as the median over the runs.
    """
    flows: list[Timing] = []
    hands: list[Timing] = []
    sides = [(case.flow, flows), (case.hand, hands)]
    for rep in range(repeat):
        calls: tuple[list[Timing], list[Timing]] = ([], [])
        for call in range(2 * best_of):
            side = (call + call // 2 + rep) % 2  # ABBA: drift in the machine's speed cancels
            calls[side].append(timed(sides[side][0])[0])
        flows.append(best(calls[0]))
        hands.append(best(calls[1]))
    return Comparison(
        flow=best(flows), hand=best(hands),
        wall_ratio=paired_ratio([t.wall for t in flows], [t.wall for t in hands]),
        cpu_ratio=paired_ratio([t.cpu for t in flows], [t.cpu for t in hands]),
        same=filecmp.cmp(case.flow_out, case.hand_out, shallow=False),
        ratios=[f.wall / h.wall for f, h in zip(flows, hands, strict=True)])


def _rows_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=None,
                        help=f"rows of the CSV to score (default {ROWS:,}; "
                             f"{QUICK_ROWS:,} with --quick)")
    parser.add_argument("--best-of", type=int, default=None,
                        help=f"calls of each side per run, the fastest kept (default {BEST_OF}; "
                             "1 with --quick)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table; return the exit code."""
    args = parse_args(__doc__ or "", argv, _rows_flag)
    rows = args.rows or (QUICK_ROWS if args.quick else ROWS)
    train_rows = QUICK_TRAIN_ROWS if args.quick else TRAIN_ROWS
    repeat = args.repeat or (1 if args.quick else REPEAT)
    best_of = args.best_of or (1 if args.quick else BEST_OF)
    chunks = -(-rows // CHUNK_ROWS)
    heading("Streaming scoring: csv.read (chunks) -> ml.predict (latest model) -> csv.write", [
        f"{rows:,} rows x {FEATURES} float features + target, in chunks of {CHUNK_ROWS:,} "
        f"rows; model: {ESTIMATOR.rsplit('.', 1)[1]}{OPTIONS} fit on {train_rows:,} rows.",
        "Both sides read the CSV, predict every chunk and write every row with its "
        "prediction to a new CSV; the two files are compared byte for byte.",
        "The flow is timed around Run.run() (plan built once before; csv.write fsyncs and "
        "renames its file at the end).",
        "scoring: predict.model gets the model the hand loop uses, from an in-memory "
        "source; no training is timed on either side.",
        "with training: the full flow shape (csv.read train -> ml.fit -> predict.model); the "
        "hand loop also reads the training CSV and fits first.",
        f"{repeat} runs per case. A run calls each side {best_of} times, back to back in the "
        "order flow, hand, hand, flow, ... (the next run starts with the hand loop), and "
        "keeps each side's fastest call: a burst of load from elsewhere on the machine then "
        "slows one call, not the run's figure. Times: the best call; ratios: flow / hand "
        "loop per run, their median and spread (min / median / max); the target holds for "
        "the worst run.",
        "noise: the hand loop against itself, in runs made the same way, measures how far "
        "two runs of the very same code differ on this machine now; a worst run can be no "
        "nearer 1.00 than that.",
    ])
    with tempfile.TemporaryDirectory(prefix="edgewise-bench-") as tmp:
        folder = Path(tmp)
        source, train = folder / "score.csv", folder / "train.csv"
        make_csv(source, rows, seed=1)
        make_csv(train, train_rows, seed=2)
        model = fit_by_hand(train)
        flow_out, hand_out = folder / "flow.csv", folder / "hand.csv"
        scoring = flow_plan(scoring_flow(source, flow_out, train=None), model)
        full = flow_plan(scoring_flow(source, flow_out, train=train), model)
        cases = [
            Case("scoring", lambda: run_flow(scoring, chunks),
                 lambda: score_by_hand(model, source, hand_out), flow_out, hand_out),
            Case("with training", lambda: run_flow(full, chunks),
                 lambda: score_by_hand(fit_by_hand(train), source, hand_out), flow_out,
                 hand_out),
            Case("noise: hand loop / hand loop", lambda: score_by_hand(model, source, flow_out),
                 lambda: score_by_hand(model, source, hand_out), flow_out, hand_out),
        ]
        run_flow(scoring, chunks)  # warm up: lazy imports and first calls, untimed
        results = [(case, compare(case, repeat, best_of)) for case in cases]
    times = []
    ratios = []
    for case, found in results:
        if found is not results[-1][1]:  # the noise case times nothing new
            for side, t in (("flow", found.flow), ("hand loop", found.hand)):
                times.append((f"{case.name}: {side}", f"{t.wall:.3f}", f"{t.cpu:.3f}",
                              rate(rows, t.wall)))
        ratios.append((case.name, f"{found.wall_ratio:.2f}x", f"{found.cpu_ratio:.2f}x",
                       spread(found.ratios), "yes" if found.same else "NO"))
    print(table(["case", "best s", "CPU s", "rows/s"], times))
    print()
    print(table(["flow / hand loop", "time", "CPU time", "time, min / median / max",
                 "same output"], ratios))
    print()
    worst = max(results[0][1].ratios)
    noise = max(results[-1][1].ratios)
    print(table(["target", "measured", "verdict"], [
        (f"scoring flow within {TARGET_RATIO}x of the hand loop, worst run", f"{worst:.2f}x",
         verdict(worst <= TARGET_RATIO)),
        ("noise: the hand loop against itself, worst run", f"{noise:.2f}x", "-"),
    ]))
    if not all(found.same for _case, found in results):
        print("error: the flow and the hand loop wrote different files", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
