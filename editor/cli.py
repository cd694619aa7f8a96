"""The ``edgewise edit`` command, added to the CLI through the ``edgewise.commands`` group.

Only the command itself imports NiceGUI, so every other command stays light.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from runtime import plain
from runtime.cli.hosting import add_listen_options, host_problem, read_token


def host_name(text: str) -> str:
    """An argparse type: a host name for ``--allow-host`` (not a pattern, not an address)."""
    name = text.strip().lower()
    if not name or any(c in name for c in "*/?#@ ") or name in (".",):
        msg = (f"'{text}' is not a host name: give a name such as editor.example.org, "
               "or .example.org for a domain and its subdomains")
        raise argparse.ArgumentTypeError(msg)
    return name


def _fail(message: str) -> int:
    print(f"edgewise edit: {plain(message)}", file=sys.stderr)
    return 2


def _edit(args: argparse.Namespace) -> int:
    token, problem = read_token(args)
    problem = problem or host_problem(args.host, token, "the editor")
    if problem:
        return _fail(problem)
    root = Path(args.workspace)
    if root.exists() and not root.is_dir():
        return _fail(f"{root} is not a folder")
    from editor.workspace import Workspace

    try:
        Workspace(root).ensure()
    except OSError as exc:
        return _fail(f"cannot create the workspace folder {root}: "
                     f"{exc.strerror or exc}; choose a folder you can write to")
    from editor.app import serve

    start = args.open
    url = f"http://{args.host}:{args.port}/" + (f"flow/{start}" if start else "")
    if token:
        url += f"?token={token}"
    print(f"Edgewise editor on {plain(root.resolve())}: {plain(url)}", flush=True)
    serve(root, host=args.host, port=args.port, token=token, start=start,
          allow_hosts=args.allow_host)
    return 0


def register(sub: Any) -> None:
    """Add ``edit`` to the CLI's subcommands."""
    p = sub.add_parser(
        "edit", help="open the browser editor on a folder of flows",
        description="Open the browser editor on a folder of flows. The editor answers only "
                    "to requests addressed to this machine's loopback names, to an IP "
                    "address, to --host, or to an --allow-host name, and only to pages it "
                    "served itself: a web page elsewhere cannot drive it.")
    p.add_argument("workspace", nargs="?", default="flows", metavar="WORKSPACE",
                   help="folder of flow files (default: ./flows)")
    add_listen_options(p, 8080)
    p.add_argument("--allow-host", action="append", default=[], type=host_name,
                   metavar="NAME",
                   help="also answer to requests addressed to this host name, e.g. the name "
                        "of a reverse proxy (repeatable; .example.org allows a whole domain)")
    p.add_argument("--open", default=None, metavar="FLOW",
                   help="the flow to show first (e.g. iris.json)")
    p.set_defaults(func=_edit)
