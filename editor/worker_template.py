"""Warms the template process that run workers are forked from; only that process imports it.

``editor.worker_start`` names this module as the forkserver's preload: importing it (once
per editor, in the forkserver) lowers the process's priority as a worker's, imports pandas,
scikit-learn, pyarrow, skops, scipy, the runtime, every component family and the worker's
own code. Each worker forked from the template then finds all of it imported, shared
copy-on-write, and starts in milliseconds instead of seconds.

A process forks safely only while no other thread of it can hold a lock, so the template
forks with its main thread alone: OpenBLAS stops its threads itself before each fork (its
``pthread_atfork`` handler) and starts them again in the child when it first needs them;
importing starts no OpenMP pool; and pyarrow's jemalloc, which would keep a purging thread
running, is told not to start one (a forked child has it off anyway: jemalloc turns it off
after a fork).
"""

from __future__ import annotations

import os

from editor.warm_up import WORKER_NICENESS, warm_up

JEMALLOC_CONF = "JE_ARROW_MALLOC_CONF"  # where pyarrow's bundled jemalloc reads its options
NO_BACKGROUND_THREAD = "background_thread:false"  # options read later take precedence


def _no_allocator_thread() -> None:
    """Keep pyarrow's jemalloc from starting its background thread (before pyarrow loads).

    Forked workers take the editor's environment (``editor.worker_process``), so this
    setting stays the template's own.
    """
    conf = os.environ.get(JEMALLOC_CONF)
    os.environ[JEMALLOC_CONF] = f"{conf},{NO_BACKGROUND_THREAD}" if conf else NO_BACKGROUND_THREAD


def _warm() -> None:
    """Import what every run needs; a failure leaves the template colder, never broken."""
    try:  # the editor and the browser come first, as for every worker
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    _no_allocator_thread()
    try:
        warm_up()
        import editor.worker_process  # noqa: F401 - the code each forked worker runs
    except Exception:  # noqa: BLE001, S110 - each worker warms up what is missing itself
        pass


_warm()
