"""Benchmark: run time against the number of nodes, on a 2-message chain of stream.identity."""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence

from bench._report import heading, parse_args, table, timed, verdict
from bench._spread import spread
from bench.chain import chain_flow
from runtime import Plan, Run, RunOptions, plan

SIZES = (1_000, 5_000, 10_000)
QUICK_SIZES = (200, 1_000)
MESSAGES = 2
REPEAT = 3
TARGET_SECONDS = 5.0
TARGET_NODES = 10_000


def run_once(checked: Plan, *, fuse: bool) -> None:
    """Run the chain and check that both messages reached the counter."""
    result = Run(checked, options=RunOptions(fuse=fuse)).run()
    if result.status != "ok" or result.nodes["count"].fired != MESSAGES:
        msg = f"scale run ended {result.status} after counting {result.nodes['count'].fired}"
        raise RuntimeError(msg)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table; return the exit code."""
    args = parse_args(__doc__ or "", argv)
    sizes = QUICK_SIZES if args.quick else SIZES
    repeat = args.repeat or (1 if args.quick else REPEAT)
    heading(f"Scale in nodes: stream.range ({MESSAGES} messages) -> N x stream.identity -> "
            "stream.count", [
        f"{repeat} runs per size; seconds as min / median / max. plan = checking the flow "
        "(runtime.plan); run = Run.run(), fused as by default.",
        "unfused = one task and queue per node (fusion off): the engine's own scaling.",
        "per node = median run seconds / nodes; flat from row to row means linear.",
        "The editor's and CLI's summaries are not included: this times the engine.",
    ])
    rows = []
    ok = True
    for size in sizes:
        flow = chain_flow(MESSAGES, stages=size)
        plans = [timed(functools.partial(plan, flow)) for _ in range(repeat)]
        checked = plans[0][1]
        fused = [timed(functools.partial(run_once, checked, fuse=True))[0].wall
                 for _ in range(repeat)]
        unfused = [timed(functools.partial(run_once, checked, fuse=False))[0].wall
                   for _ in range(repeat)]
        planning = [t.wall for t, _ in plans]
        total = sorted(p + r for p, r in zip(planning, fused, strict=True))
        if size == TARGET_NODES:
            ok = total[len(total) // 2] < TARGET_SECONDS
        rows.append((f"{size:,}", spread(planning), spread(fused), spread(unfused),
                     f"{sorted(fused)[len(fused) // 2] / size * 1e6:.0f} us",
                     f"{sorted(unfused)[len(unfused) // 2] / size * 1e6:.0f} us"))
    print(table(["nodes", "plan s", "run s", "run s (unfused)", "per node",
                 "per node (unfused)"], rows))
    if TARGET_NODES in sizes:
        print()
        print(table(["target", "verdict"], [
            (f"{TARGET_NODES:,}-node chain, plan + run under {TARGET_SECONDS:.0f} s (median)",
             verdict(ok))]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
