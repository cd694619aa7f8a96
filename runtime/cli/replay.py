"""The ``edgewise replay`` command: re-run a node and what is downstream on recorded inputs."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console

from runtime._errors import FlowFileError, FlowInvalidError, UsageError
from runtime._model import read_flow_document
from runtime.cli.common import out, safe
from runtime.cli.exits import EXIT_ERRORS, EXIT_OK
from runtime.cli.finding import open_run


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-run a node and everything downstream on a run's recorded inputs; compare."""
    from runtime._decisions import decision_nodes
    from runtime._record.diff import compare_replay
    from runtime._record.replay import plan_replay, run_replay

    store = open_run(args, args.run)
    edited = None
    if args.flow:
        try:
            edited = read_flow_document(args.flow)
        except FlowFileError as exc:
            raise UsageError(str(exc)) from exc
    workspace = store.folder.parent.parent.parent
    try:
        plan = plan_replay(store, args.from_node, workspace, flow=edited,
                           write_outputs=args.write_outputs, trust=args.trust,
                           flow_name=args.flow)
    except FlowInvalidError as exc:
        raise UsageError("; ".join(p.message for p in exc.problems)) from exc
    console = out()
    if not args.json:
        _print_plan(console, plan, args.write_outputs)
    try:
        result, recorder = run_replay(plan, workspace)
    except FlowInvalidError as exc:
        raise UsageError("; ".join(p.message for p in exc.problems)) from exc
    # a decision's time is when this run made it: the one thing a replay cannot repeat
    verdict = compare_replay(store, recorder.store, plan.part,
                             dict.fromkeys(decision_nodes(store), "time"))
    code = EXIT_OK if result.status == "ok" and not verdict["failed"] else EXIT_ERRORS
    if args.json:
        print(json.dumps({"run": recorder.run_id, "replay_of": store.id, "status": result.status,
                          "plan": plan.to_json(), **verdict}, default=str))
        return code
    console.print(f"replayed run {store.id} from '{safe(args.from_node)}' as run "
                  f"[bold]{recorder.run_id}[/] ({result.status}, {result.seconds:.2f} s)")
    downstream, same = verdict["downstream"], verdict["identical"]
    if verdict["reproduced"]:
        console.print(f"reproduced exactly: all {len(downstream)} edges downstream carry the "
                      "same values as the recorded run")
        if verdict["clock_only"]:
            console.print(safe("  but for the time each decision was made, on "
                               f"{', '.join(verdict['clock_only'])}: the replay's own clock"))
        return code
    console.print(f"[yellow]not reproduced[/]: {len(same)} of {len(downstream)} edges "
                  "downstream carry the same values as the recorded run")
    notes = [("run status", [result.status] if result.status != "ok" else []),
             ("failed nodes", [f"{n} ({e} error(s))" for n, e in verdict["failed"].items()]),
             ("only in the replay", verdict["only_in_replay"]),
             ("only in the recorded run", verdict["only_in_recorded"]),
             ("values not kept, not compared", verdict["not_kept"]),
             ("changed, most upstream first", verdict["first_changed"]
              + [e for e in verdict["changed"] if e not in verdict["first_changed"]])]
    for title, items in notes:
        if items:
            console.print(safe(f"  {title}: {', '.join(items)}"))
    console.print(f"see `edgewise diff {store.id} {recorder.run_id}`")
    return code


def _print_plan(console: Console, plan: Any, write_outputs: bool) -> None:
    """Say what a replay will run, on which recorded values, and where it will write."""
    console.print(f"replaying run {plan.store.id} from '{safe(plan.from_node)}'; will run:")
    for node in plan.nodes:
        code = " [yellow](runs code from its params)[/]" if node["runs_code"] else ""
        console.print(f"  {safe(node['node'])} ({safe(node['component'])}){code}")
    for origin, info in plan.inputs.items():
        console.print(safe(f"  fed {info['messages']} recorded message(s) of {origin} "
                           f"into {', '.join(info['feeds'])}"))
    for param, where in plan.outputs.items():
        console.print(safe(f"  {param}: writes {where['written']} instead of {where['flow']}"))
    if plan.outputs and not write_outputs:
        console.print("  (sinks write inside the new run's folder; --write-outputs writes the "
                      "flow's own files)")
