"""The ``edgewise edit`` command, added to the CLI through the ``edgewise.commands`` group.

Only the command itself imports NiceGUI, so every other command stays light.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import Any

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _edit(args: argparse.Namespace) -> int:
    if args.host not in LOOPBACK and not args.token:
        print(f"edgewise edit: binding to {args.host} exposes the editor to the network; "
              f"give --token (for example --token {secrets.token_urlsafe(16)})",
              file=sys.stderr)
        return 2
    root = Path(args.workspace)
    if root.exists() and not root.is_dir():
        print(f"edgewise edit: {root} is not a folder", file=sys.stderr)
        return 2
    from editor.app import serve

    start = args.open
    url = f"http://{args.host}:{args.port}/" + (f"flow/{start}" if start else "")
    if args.token:
        url += f"?token={args.token}"
    print(f"Edgewise editor on {root.resolve()}: {url}", flush=True)
    serve(root, host=args.host, port=args.port, token=args.token, start=start)
    return 0


def register(sub: Any) -> None:
    """Add ``edit`` to the CLI's subcommands."""
    p = sub.add_parser("edit", help="open the browser editor on a folder of flows")
    p.add_argument("workspace", nargs="?", default="flows", metavar="WORKSPACE",
                   help="folder of flow files (default: ./flows)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--token", default=None,
                   help="required on every request; needed to bind beyond this machine")
    p.add_argument("--open", default=None, metavar="FLOW",
                   help="the flow to show first (e.g. iris.json)")
    p.set_defaults(func=_edit)
