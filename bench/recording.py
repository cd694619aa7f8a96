"""What keeping a run costs: slowdown with recording, disk used, and the time to trace."""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import runtime
import runtime.runs
from bench._report import Timing, best, heading, parse_args, table, timed, verdict
from bench._spread import spread
from bench.chain import STAGES, chain_flow
from runtime import record_run

CHAIN_TARGET = 1.2
STREAMING_TARGET = 1.5


def streaming_workspace(folder: Path, rows: int) -> Path:
    """A copy of the streaming-scoring flow that scores a generated CSV of ``rows`` rows."""
    import json

    import numpy as np
    import pandas as pd

    repo = Path(__file__).resolve().parents[1] / "flows"
    (folder / "data").mkdir(parents=True)
    shutil.copy(repo / "data" / "train.csv", folder / "data" / "train.csv")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, 6)).round(4),
                         columns=[f"f{i}" for i in range(6)])
    frame["target"] = rng.integers(0, 3, size=rows)
    frame.to_csv(folder / "data" / "score.csv", index=False)
    flow = json.loads((repo / "streaming-scoring.json").read_text())
    path = folder / "streaming-scoring.json"
    path.write_text(json.dumps(flow))
    return path


def measure(plan: runtime.Plan, workspace: Path | None) -> tuple[Timing, Any]:
    """Run a plan once, kept under ``workspace`` when one is given."""
    timing, recorder, _ = measure_switches(plan, workspace)
    return timing, recorder


def measure_switches(plan: runtime.Plan, workspace: Path | None) -> tuple[Timing, Any, int]:
    """Run a plan once as :func:`measure` does; also count the process's voluntary switches.

    A thread that blocks, on a lock, an event or the GIL held by another thread, switches
    out voluntarily: the count shows how often the recorder's thread and the run take turns.
    """
    run = runtime.Run(plan)
    recorder = record_run(run, workspace) if workspace is not None else None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
    timing, _ = timed(run.run)
    return timing, recorder, resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw - before


def compare(name: str, plan: runtime.Plan, workspace: Path, repeat: int, target: float,
            ) -> tuple[list[str], Any]:
    """Times without and with recording, in back-to-back pairs; the slowdown's spread."""
    plain: list[Timing] = []
    kept: list[Timing] = []
    switches: list[int] = []
    recorder: Any = None
    for _ in range(repeat):
        plain.append(measure(plan, None)[0])
        timing, recorder, switched = measure_switches(plan, workspace)
        kept.append(timing)
        switches.append(switched)
    a, b = best(plain), best(kept)
    ratios = [k.wall / p.wall for p, k in zip(plain, kept, strict=True)]
    cpu = [k.cpu / p.cpu for p, k in zip(plain, kept, strict=True)]
    ratio = statistics.median(ratios)
    size = recorder.store.manifest()["recording"]["bytes"]
    return [name, f"{a.wall:.3f}", f"{b.wall:.3f}", spread(ratios), spread(cpu),
            str(int(statistics.median(switches))), f"{size / 1e6:.1f} MB",
            f"<= {target}x: {verdict(ratio <= target)}"], recorder


HEADERS = ["flow", "plain s", "recorded s", "slowdown, min / median / max",
           "CPU time, min / median / max", "switches", "kept run", "target"]


def _flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chain-only", action="store_true",
                        help="measure only the chain's slowdown (quicker, for many pairs)")
    parser.add_argument("--count", type=int, default=None,
                        help="messages the chain's source emits (default 200,000)")


def main(argv: Sequence[str] | None = None) -> int:
    """Measure recording's slowdown, its disk use, and tracing on a large run."""
    args = parse_args(__doc__ or "", argv, _flags)
    quick = args.quick
    repeat = args.repeat or (1 if quick else 5)
    heading("Recording (edgewise run --record)", [
        "Wall seconds of the same flow without and with recording (best of "
        f"{repeat}), the slowdown of each back-to-back pair as min / median / max (in wall "
        "time, then in the process's CPU time, which other load on the machine sways "
        "less), the voluntary context switches of a recorded run (median), and the size of "
        "the kept run.",
        f"Targets (on the median): the chain at most {CHAIN_TARGET}x, streaming scoring at "
        f"most {STREAMING_TARGET}x; a trace under 1 s on a run of 1M messages.",
        "Reading a port of the 1M-message run whole (as diff, replay and row lookups do): "
        "RunStore.values against value(id) for each message."])
    work = Path(tempfile.mkdtemp(prefix="ew-bench-rec-"))
    try:
        rows = []
        count = args.count or (20_000 if quick else 200_000)
        chain = runtime.plan(chain_flow(count))
        row, _ = compare(f"chain of {count:,} messages x 11 ports", chain, work / "chain",
                         repeat, CHAIN_TARGET)
        rows.append(row)
        if args.chain_only:
            print(table(HEADERS, rows))
            return 0
        score_rows = 20_000 if quick else 200_000
        flow_path = streaming_workspace(work / "streaming", score_rows)
        streaming = runtime.plan(flow_path)
        row, recorder = compare(f"streaming scoring, {score_rows:,} rows", streaming,
                                work / "streaming", repeat, STREAMING_TARGET)
        rows.append(row)
        print(table(HEADERS, rows))
        print()
        big = 9_091 if quick else 90_910  # x 11 ports = about 100k / 1M messages
        _, big_recorder = measure(runtime.plan(chain_flow(big)), work / "big")
        store = big_recorder.store
        messages = store.manifest()["recording"]["messages_indexed"]
        lineage = runtime.runs.Lineage(store)
        last = store.message_at(f"step{STAGES}.data", -1)
        assert last is not None  # noqa: S101 - the run made it
        trace_time, steps = timed(lambda: lineage.trace(last.id))
        st = runtime.runs.RunStore(recorder.folder)
        middle = st.message_at("predict.data", len(list(st.messages("predict.data"))) // 2)
        assert middle is not None  # noqa: S101 - the run made it
        frame = st.value(middle.id)
        row_id = frame.index[len(frame) // 2]
        row_lineage = runtime.runs.Lineage(st)
        row_time, row_steps = timed(lambda: row_lineage.trace(middle.id, row_id))
        print(table(["trace", "messages in run", "steps", "seconds", "target"], [
            ["one message back to its source", f"{messages:,}", str(len(steps)),
             f"{trace_time.wall:.3f}", verdict(trace_time.wall < 1.0)],
            ["one row back to its CSV line", f"{st.manifest()['recording']['messages_indexed']:,}",
             str(len(row_steps)), f"{row_time.wall:.3f}", verdict(row_time.wall < 1.0)],
        ]))
        print()
        port = f"step{STAGES}.data"
        ids = [m.id for m in store.messages(port)]
        one_by_one, singly = timed(lambda: [store.value(i) for i in ids])
        at_once, together = timed(lambda: [value for _m, value in store.values(port)])
        same = singly == together
        print(table(["read every value of a port", "messages", "seconds", "vs value(id) each"],
                    [["value(id) for each message (the baseline)", f"{len(ids):,}",
                      f"{one_by_one.wall:.3f}", "1.00x"],
                     ["values(port): each batch read once", f"{len(ids):,}",
                      f"{at_once.wall:.3f}",
                      f"{at_once.wall / one_by_one.wall:.2f}x"
                      + ("" if same else " (DIFFERENT VALUES)")]]))
        if not same:
            return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
