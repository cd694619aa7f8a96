"""The exit codes of the ``edgewise`` command: one set, the same for every subcommand."""

from __future__ import annotations

EXIT_OK = 0
"""The command did what was asked, and the answer is good."""

EXIT_ERRORS = 1
"""The command ran, but the answer is bad.

A node failed on a message, the run was stopped (``--fail-fast``, Ctrl-C, a recording that
failed), a replay did not reproduce its run, ``trust --check`` found a flow not trusted, or
a kept run could not be deleted.
"""

EXIT_INVALID = 2
"""A mistake in what was asked; nothing was done.

The flow is invalid, unreadable or not trusted; a run, message, row, port or node does not
exist; an option is wrong. The message says what to change. argparse's own usage errors
exit with 2 too.
"""

EXIT_BUG = 3
"""A bug in Edgewise: the traceback is printed, to be reported."""

EPILOG = f"""exit codes (the same for every command):
  {EXIT_OK}  done, and the answer is good
  {EXIT_ERRORS}  done, but the answer is bad: a node failed on a message, the run was stopped,
     a replay did not reproduce its run, `trust --check` found a flow not trusted
  {EXIT_INVALID}  a mistake in what was asked (invalid flow, unknown run, message, row or port,
     bad option); nothing was done, and the message says what to change
  {EXIT_BUG}  a bug in Edgewise: a traceback is printed; please report it"""
