"""Warms the template process that run workers are forked from; only that process imports it.

``editor.worker_start`` names this module as the forkserver's preload: importing it (once
per editor, in the forkserver) lowers the process's priority as a worker's, imports pandas,
scikit-learn, pyarrow, skops, scipy, the runtime, every component family and the worker's
own code. Each worker forked from the template then finds all of it imported, shared
copy-on-write, and starts in milliseconds instead of seconds.
"""

from __future__ import annotations

import os

from editor.warm_up import WORKER_NICENESS, warm_up


def _warm() -> None:
    """Import what every run needs; a failure leaves the template colder, never broken."""
    try:  # the editor and the browser come first, as for every worker
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    try:
        warm_up()
        import editor.worker_process  # noqa: F401 - the code each forked worker runs
    except Exception:  # noqa: BLE001, S110 - each worker warms up what is missing itself
        pass


_warm()
