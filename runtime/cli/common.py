"""What the commands of the CLI share: the console, safe text, the workspace, problem lines."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from runtime._errors import Problem
from runtime._record import runs_root
from runtime._terminal import plain


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


def problem_lines(flow: str, problems: Sequence[Problem]) -> list[str]:
    """One line per problem, led by the flow file unless the message already names it."""
    named = (f"{flow}:", f"{Path(flow)}:")
    return [plain(p.message if p.message.startswith(named) else f"{flow}: {p}")
            for p in problems]
