"""What the commands of the CLI share: the console, safe text, the workspace, problem lines."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from runtime._engine import Engine
from runtime._errors import Problem
from runtime._graph import Plan
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


def engine_from(args: argparse.Namespace, plan: Plan | None = None
                ) -> tuple[Engine | None, str | None]:
    """The engine ``--engine``/``--address`` ask for, connected; or what is wrong.

    With ``plan``, also whether that engine can run it (Ray: the resources its nodes ask for).

    The local engine is None (the default of ``Run``); Ray is imported only when asked for.
    """
    if getattr(args, "engine", "local") != "ray":
        if getattr(args, "address", None):
            return None, "--address names a Ray cluster: add --engine ray"
        return None, None
    from runtime._ray_engine import EngineUnavailable, RayEngine  # noqa: PLC0415

    engine = RayEngine(args.address)
    try:
        ray = engine.connect()
    except EngineUnavailable as exc:
        return None, str(exc)
    refused = engine.refusal(plan, ray) if plan is not None else None
    return (None, refused) if refused else (engine, None)
