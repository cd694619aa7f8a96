"""What the run commands of the CLI share: exit codes, usage errors, the console, the workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from runtime.record import runs_root
from runtime.terminal import plain

EXIT_OK, EXIT_ERRORS, EXIT_INVALID = 0, 1, 2


class UsageError(Exception):
    """A mistake in what the user asked for; the message says what and where."""


def safe(text: object) -> str:
    """Flow- or data-derived text made safe for a rich console: no markup, no escapes."""
    return escape(plain(text))


def out() -> Console:
    """The console for a command's report (wide when it is not a terminal)."""
    console = Console(highlight=False, soft_wrap=True)
    if not console.is_terminal:
        console.width = 200
    return console


def workspace_of(args: argparse.Namespace) -> Path:
    """The workspace whose runs a command looks at."""
    if args.workspace:
        return Path(args.workspace)
    here = Path(".")
    if not runs_root(here).is_dir() and runs_root(here / "flows").is_dir():
        return here / "flows"
    return here
