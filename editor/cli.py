"""The ``edgewise edit`` command, added to the CLI through the ``edgewise.commands`` group.

Only the command itself imports NiceGUI, so every other command stays light.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from runtime import plain

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TOKEN_ENV = "EDGEWISE_TOKEN"
TOKEN_HELP = (f"required on every request; needed to bind beyond this machine. An option is "
              f"visible to every user of this machine in the process list: prefer "
              f"--token-file or the {TOKEN_ENV} environment variable")


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        msg = f"'{text}' is not a port: give a number from 1 to 65535"
        raise argparse.ArgumentTypeError(msg)
    return port


def host_name(text: str) -> str:
    """An argparse type: a host name for ``--allow-host`` (not a pattern, not an address)."""
    name = text.strip().lower()
    if not name or any(c in name for c in "*/?#@ ") or name in (".",):
        msg = (f"'{text}' is not a host name: give a name such as editor.example.org, "
               "or .example.org for a domain and its subdomains")
        raise argparse.ArgumentTypeError(msg)
    return name


def _token(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The token from --token, else --token-file, else the environment; or an error."""
    if args.token:
        return args.token, None
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            return None, f"cannot read the token file {args.token_file}: {reason}"
        if not token:
            return None, f"the token file {args.token_file} is empty; write the token in it"
        return token, None
    return os.environ.get(TOKEN_ENV, "").strip() or None, None


def _fail(message: str) -> int:
    print(f"edgewise edit: {plain(message)}", file=sys.stderr)
    return 2


def _edit(args: argparse.Namespace) -> int:
    token, problem = _token(args)
    if problem:
        return _fail(problem)
    if args.host not in LOOPBACK and not token:
        return _fail(f"binding to {args.host} exposes the editor to the network; give "
                     f"--token-file, {TOKEN_ENV} or --token (for example "
                     f"{TOKEN_ENV}={secrets.token_urlsafe(16)})")
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
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=port_number, default=8080, help="port, 1-65535 (default 8080)")
    p.add_argument("--token", default=None, help=TOKEN_HELP)
    p.add_argument("--token-file", default=None, metavar="PATH",
                   help="read the token from this file (used when --token is not given)")
    p.add_argument("--allow-host", action="append", default=[], type=host_name,
                   metavar="NAME",
                   help="also answer to requests addressed to this host name, e.g. the name "
                        "of a reverse proxy (repeatable; .example.org allows a whole domain)")
    p.add_argument("--open", default=None, metavar="FLOW",
                   help="the flow to show first (e.g. iris.json)")
    p.set_defaults(func=_edit)
