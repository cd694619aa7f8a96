"""Starts run worker processes: forked from a warm template process, else spawned afresh.

The template is multiprocessing's forkserver, one per editor process, started by the first
worker: a fresh interpreter (it inherits no socket or state of the editor) that imports
``editor.worker_template`` once and then forks a worker per request, in milliseconds. If
the template cannot start, or a start through it fails, this worker and every later one is
spawned instead (each imports what runs need itself, in seconds): a run never depends on
the template. A template that was killed is started again by the next worker.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

TEMPLATE = "editor.worker_template"
TEMPLATE_GONE = 255  # the exit code multiprocessing reports once a forkserver is gone

_lock = threading.Lock()
_template = {"usable": "forkserver" in multiprocessing.get_all_start_methods()}


def start_process(target: Callable[..., None], args: tuple[Any, ...], name: str) -> BaseProcess:
    """Start ``target(*args)`` in a daemon process: forked from the template, else spawned.

    The first call waits until the template has imported everything (seconds): call it
    off the event loop.

    Raises:
        OSError: not even a spawned process could start (the system is out of processes).
    """
    with _lock:
        for attempt in (1, 2):  # a template that just died: forget it, and start another
            if not _template["usable"]:
                break
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([TEMPLATE])
            process: BaseProcess = context.Process(target=target, args=args, name=name,
                                                   daemon=True)
            try:
                process.start()
            except (OSError, EOFError, ValueError, RuntimeError) as exc:
                _forget_template()
                if attempt == 1:
                    continue
                _template["usable"] = False
                print(f"edgewise: run workers cannot be forked from a template process "
                      f"({type(exc).__name__}: {exc}); each is started afresh from now on "
                      f"(seconds per start)", file=sys.stderr, flush=True)
            else:
                return process
    process = multiprocessing.get_context("spawn").Process(
        target=target, args=args, name=name, daemon=True)
    process.start()
    return process


def _forget_template() -> None:
    """Drop multiprocessing's handle on a template that failed a start, so the next starts anew.

    A template killed a moment ago can still look alive to multiprocessing (it asks with
    ``waitpid``), which then talks to a dead socket.
    """
    from multiprocessing import forkserver  # noqa: PLC0415 - only where forkserver exists

    server: Any = getattr(forkserver, "_forkserver", None)
    if server is None:
        return
    with server._lock:  # noqa: SLF001 - the stdlib has no public way to restart it
        alive, pid = server._forkserver_alive_fd, server._forkserver_pid  # noqa: SLF001
        server._forkserver_alive_fd = server._forkserver_pid = None  # noqa: SLF001
        server._forkserver_address = None  # noqa: SLF001
    if alive is not None:
        try:
            os.close(alive)  # a template still alive ends when this closes
        except OSError:
            pass
    if pid is not None:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def forked() -> bool:
    """Whether workers are (still) forked from the template rather than spawned."""
    return _template["usable"]


def still_there(process: BaseProcess, ended: threading.Event) -> bool:
    """Whether a started worker process still runs.

    ``ended`` is set once the worker's pipe has closed. A worker whose template was killed
    runs on, but multiprocessing then reports it as ended with code 255: its pipe says.
    """
    if process.is_alive():
        return True
    return process.exitcode == TEMPLATE_GONE and not ended.is_set()


def send_signal(process: BaseProcess, ended: threading.Event, sig: signal.Signals) -> None:
    """Signal a worker process that still runs (``SIGTERM``, ``SIGKILL``), whoever forked it."""
    if process.pid is None or not still_there(process, ended):
        return
    try:
        os.kill(process.pid, sig)
    except ProcessLookupError:
        pass
