"""The argument parser of the ``edgewise`` command: every subcommand and option, in one place.

The commands themselves live in their own modules and are imported only when they run, so
``edgewise components`` does not pay for what ``edgewise replay`` needs. Add-on packages add
commands through the ``edgewise.commands`` entry-point group.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys
from typing import Any

import runtime
from runtime._model import MAX_FLOW_BYTES
from runtime.cli.argtypes import count, days, message_id, whole
from runtime.cli.exits import EPILOG

COMMANDS_GROUP = "edgewise.commands"
FLOW_HELP = f"the flow file (.json, at most {MAX_FLOW_BYTES // 2**20} MiB)"
RUN_HELP = "run id (or a prefix), latest, latest~N, or a run folder"



def _command(module: str, name: str) -> Any:
    """A command function, imported from ``runtime.cli.<module>`` when it is called."""
    def call(args: argparse.Namespace) -> int:
        func = getattr(importlib.import_module(f"runtime.cli.{module}"), name)
        code: int = func(args)
        return code
    call.__name__ = name
    return call


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``edgewise`` command."""
    parser = argparse.ArgumentParser(
        prog="edgewise", description="Run and check Edgewise flows from the command line.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"edgewise {runtime.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _flow_commands(sub)
    _run_store_commands(sub)
    _lineage_commands(sub)
    _trust_command(sub)
    _models_command(sub)
    for ep in importlib.metadata.entry_points(group=COMMANDS_GROUP):
        try:
            ep.load()(sub)
        except Exception as exc:  # noqa: BLE001 - a broken add-on must not break the CLI
            print(f"warning: command plugin '{ep.name}' failed to load: {exc}", file=sys.stderr)
    return parser


def _flow_commands(sub: Any) -> None:
    p = sub.add_parser("run", help="run a flow headless", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("flow", metavar="FLOW", help=FLOW_HELP)
    p.add_argument("--json", action="store_true",
                   help="end stdout with one JSON line summarising the run")
    p.add_argument("--fail-fast", action="store_true",
                   help="stop the whole run at the first failed firing")
    p.add_argument("--trust", action="store_true",
                   help="run it this once even if it holds code and is not trusted "
                        "(see `edgewise trust`)")
    _record_options(p)
    _engine_options(p)
    p.set_defaults(func=_command("run", "cmd_run"))
    _serve_command(sub)
    p = sub.add_parser("validate", help="list every problem of a flow")
    p.add_argument("flow", metavar="FLOW", help=FLOW_HELP)
    p.add_argument("--json", action="store_true", help="print the problems as JSON")
    p.set_defaults(func=_command("flows", "cmd_validate"))
    p = sub.add_parser("components", help="list the installed components")
    p.add_argument("--json", action="store_true", help="describe them as JSON")
    p.set_defaults(func=_command("flows", "cmd_components"))
    p = sub.add_parser("schema", help="print the JSON Schema of flow files")
    p.set_defaults(func=_command("flows", "cmd_schema"))


def _engine_options(p: argparse.ArgumentParser) -> None:
    """--engine and --address: where the flow's nodes run."""
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process (the default); ray: Ray actors, on a Ray started "
                        "here or on the cluster of --address (pip install 'edgewise[ray]')")
    p.add_argument("--address", metavar="ADDR", default=None,
                   help="with --engine ray: the Ray cluster to run on (host:6379, or "
                        "ray://host:10001); default: start Ray here")


def _record_options(p: argparse.ArgumentParser) -> None:
    """--record and its storage policy, the same for ``run`` and ``serve``."""
    p.add_argument("--record", action="store_true",
                   help="keep the run under .edgewise/runs/ next to the flow file")
    p.add_argument("--keep-values", type=count, default=None, metavar="N",
                   help="with --record: keep at most N values per output port (default: all)")
    p.add_argument("--sample", type=count, default=0, metavar="K",
                   help="with --keep-values: past the cap, keep one value in K")


def _serve_command(sub: Any) -> None:
    from runtime.cli.hosting import add_listen_options

    p = sub.add_parser(
        "serve", help="serve a flow over HTTP until stopped (its http.in endpoints)",
        description="Run a flow until SIGINT or SIGTERM, answering HTTP requests on its "
                    "http.in endpoints, with /health, /metrics and /docs. A stop drains: "
                    "sources end, what is in flight is answered, sinks close. Exit 0 when "
                    "everything was drained, 1 when something was left undone.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("flow", metavar="FLOW", help=FLOW_HELP)
    add_listen_options(p, 8090)
    p.add_argument("--drain-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="on stop, how long what is in flight may take (default 10)")
    p.add_argument("--trust", action="store_true",
                   help="serve it this once even if it holds code and is not trusted")
    p.add_argument("--watch", action="store_true",
                   help="redeploy without a restart each time the flow file is saved and "
                        "validates (a version that does not is refused, and logged)")
    _record_options(p)
    _engine_options(p)
    p.set_defaults(func=_command("serve", "cmd_serve"))


def _workspace(p: argparse.ArgumentParser) -> None:
    p.add_argument("-w", "--workspace", default=None,
                   help="folder whose .edgewise/runs to use (default: . or ./flows)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _which(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--message", type=whole, default=None, metavar="N",
                       help="position of the message on the port (0 first, -1 last, the "
                            "default; with --row, the message holding that row)")
    group.add_argument("--id", type=message_id, default=None, help="the message id")


def _run_store_commands(sub: Any) -> None:
    p = sub.add_parser("runs", help="list kept runs, or prune them")
    p.add_argument("action", nargs="?", choices=["list", "prune"], default="list")
    p.add_argument("--older-than", type=days, default=None, metavar="DAYS",
                   help="prune: delete runs started more than DAYS ago")
    p.add_argument("--keep", type=int, default=None, metavar="N",
                   help="prune: keep only the N newest runs")
    _workspace(p)
    p.set_defaults(func=_command("runs_list", "cmd_runs"))

    p = sub.add_parser("inspect", help="print what passed along an edge in a kept run")
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("edge", metavar="EDGE",
                   help="the edge, e.g. 'predict.data->score.data', or an output port with "
                        "or without edges, e.g. 'predict.error'")
    p.add_argument("--message", type=whole, default=None, metavar="N",
                   help="show message N in full (0 first, -1 last); default: list them all")
    _workspace(p)
    p.set_defaults(func=_command("inspect_edge", "cmd_inspect"))

    p = sub.add_parser("replay", help="re-run a node and what is downstream on recorded inputs",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("--from", dest="from_node", required=True, metavar="NODE")
    p.add_argument("--flow", default=None, metavar="EDITED_FLOW",
                   help="run this edited flow instead of the recorded one")
    p.add_argument("--write-outputs", action="store_true",
                   help="let sinks write the flow's own output files (default: inside the "
                        "new run's folder)")
    p.add_argument("--trust", action="store_true",
                   help="replay it even if a replayed node runs code and the flow is not "
                        "trusted (see `edgewise trust`)")
    _workspace(p)
    p.set_defaults(func=_command("replay", "cmd_replay"))

    p = sub.add_parser("diff", help="compare two kept runs edge by edge")
    p.add_argument("run_a", metavar="RUN_A", help=RUN_HELP)
    p.add_argument("run_b", metavar="RUN_B", help=RUN_HELP)
    _workspace(p)
    p.set_defaults(func=_command("diff", "cmd_diff"))


def _lineage_commands(sub: Any) -> None:
    p = sub.add_parser("trace", help="walk an output, or one row of it, back to its sources")
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("port", metavar="NODE.PORT")
    _which(p)
    p.add_argument("--row", default=None, help="follow this DataFrame row id")
    _workspace(p)
    p.set_defaults(func=_command("lineage", "cmd_trace"))

    p = sub.add_parser("scored-by", help="which model scored this record?")
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("port", metavar="NODE.PORT", help="where the record is, e.g. predict.data")
    _which(p)
    p.add_argument("--row", required=True, help="the record's row id")
    _workspace(p)
    p.set_defaults(func=_command("lineage", "cmd_scored_by"))

    p = sub.add_parser("trained-on", help="which records trained this model?")
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    p.add_argument("port", metavar="NODE.PORT", help="the model's port, e.g. fit.model")
    _which(p)
    p.add_argument("--export", default=None, metavar="FILE.csv",
                   help="write the training rows, with their sources, to a CSV file")
    _workspace(p)
    p.set_defaults(func=_command("lineage", "cmd_trained_on"))

    p = sub.add_parser("decisions", help="list a run's supervisor decisions and their evidence")
    p.add_argument("run", metavar="RUN", help=RUN_HELP)
    _workspace(p)
    p.set_defaults(func=_command("decisions", "cmd_decisions"))


def _trust_command(sub: Any) -> None:
    p = sub.add_parser(
        "trust", help="trust flow files that hold code (after reading them), or check/revoke",
        description="A flow with code nodes runs only once trusted. Trust is kept per exact "
                    "content: any change to the file makes it untrusted again. Flows you "
                    "save in the editor are trusted already.")
    p.add_argument("flows", nargs="+", metavar="FLOW", help="flow files (.json)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--check", action="store_true",
                      help="only say whether each flow is trusted (exit 1 if one is not)")
    what.add_argument("--revoke", action="store_true", help="stop trusting these flows")
    p.add_argument("--json", action="store_true", help="report as JSON")
    p.set_defaults(func=_command("trust", "cmd_trust"))


def _models_command(sub: Any) -> None:
    p = sub.add_parser(
        "models", help="list registered models, show one, move an alias, read its log",
        description="The workspace's model registry (.edgewise/models): `models list`, "
                    "`models show NAME`, `models alias NAME ALIAS VERSION [--why TEXT]`, "
                    "`models log NAME`.")
    p.add_argument("action", nargs="?", choices=["list", "show", "alias", "log"],
                   default="list")
    p.add_argument("words", nargs="*", metavar="ARG", help="NAME, or NAME ALIAS VERSION")
    p.add_argument("--why", default=None, metavar="TEXT", help="alias: why it is moved")
    p.add_argument("-w", "--workspace", default=None,
                   help="folder whose .edgewise/models to use (default: . or ./flows)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_command("models", "cmd_models"))
