"""The ``edgewise`` command line: ``main`` parses the arguments and runs one command.

Each command lives in its own module (``run``, ``serve``, ``flows``, ``runs_list``,
``inspect_edge``, ``lineage``, ``replay``, ``diff``, ``decisions``, ``models``, ``trust``);
``parser`` wires them to argparse, and
``exits`` holds the one set of exit codes. A mistake in what the user asked raises an
``EdgewiseError`` and is shown as one message with exit code 2; anything else is a bug, shown
with its traceback and exit code 3.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

from runtime._errors import EdgewiseError
from runtime._terminal import plain
from runtime.cli.exits import EXIT_BUG, EXIT_ERRORS, EXIT_INVALID, EXIT_OK
from runtime.cli.parser import build_parser

__all__ = ["EXIT_BUG", "EXIT_ERRORS", "EXIT_INVALID", "EXIT_OK", "build_parser", "main"]

BUG_NOTE = ("edgewise: this is a bug in Edgewise, not a mistake in what you asked; please "
            "report it with the traceback above")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``edgewise`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except EdgewiseError as exc:
        print(plain(f"edgewise {args.command}: {exc}"), file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # noqa: BLE001 - a bug: show all of it, with its own exit code
        traceback.print_exc()
        print(BUG_NOTE, file=sys.stderr)
        return EXIT_BUG
    return code
