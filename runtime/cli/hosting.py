"""What the commands that listen on a port share: the port, the host rules and the token.

``edgewise edit`` and ``edgewise serve`` follow the same rules: they bind to 127.0.0.1 by
default; a host beyond this machine needs a token; the token comes from ``--token``, else
``--token-file``, else the ``EDGEWISE_TOKEN`` environment variable.
"""

from __future__ import annotations

import argparse
import os
import secrets
from pathlib import Path

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


def read_token(args: argparse.Namespace) -> tuple[str | None, str | None]:
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


def host_problem(host: str, token: str | None, what: str) -> str | None:
    """Why ``host`` may not be bound without a token, or None when it may."""
    if host in LOOPBACK or token:
        return None
    return (f"binding to {host} exposes {what} to the network; give --token-file, "
            f"{TOKEN_ENV} or --token (for example {TOKEN_ENV}={secrets.token_urlsafe(16)})")


def add_listen_options(p: argparse.ArgumentParser, default_port: int) -> None:
    """``--host``, ``--port``, ``--token`` and ``--token-file``."""
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=port_number, default=default_port,
                   help=f"port, 1-65535 (default {default_port})")
    p.add_argument("--token", default=None, help=TOKEN_HELP)
    p.add_argument("--token-file", default=None, metavar="PATH",
                   help="read the token from this file (used when --token is not given)")
