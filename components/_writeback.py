"""Write-back of an output file while it grows, so that the fsync that ends it is short.

An atomic save ends with an fsync, and the writer waits for it: for a file of a few hundred
megabytes that is seconds of disk work, all of it at the end. ``Writeback`` starts that work
early instead. Each time another ``STEP_BYTES`` have reached the operating system, it has the
file synced in a thread of its own, while the writer goes on formatting the next rows (a sync
holds no interpreter lock). The final fsync then has only the last step left to write.

A sync runs on a duplicate of the file's descriptor, so closing the file (a stopped run) never
leaves it syncing a descriptor number that has since been reused. Both descriptors share one
open file, and Linux reports a write-back error to an open file only once: so an error that a
background sync meets is kept, and :meth:`Writeback.finish` raises it, rather than letting the
final fsync succeed on a file whose early part never reached the disk.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

STEP_BYTES = 8 * 1024 * 1024
CHECK_SECONDS = 0.05  # the file's size is looked at no more often: a sink may fire per row


def _sync(fd: int, done: Writeback) -> None:
    try:
        os.fdatasync(fd)
    except OSError as exc:
        done.error = exc
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


class Writeback:
    """Syncs a file that is being written, in the background, every ``STEP_BYTES``."""

    def __init__(self, fd: int, step: int | None = None) -> None:
        self._fd = fd
        self._step = STEP_BYTES if step is None else step
        self._synced = 0
        self._thread: threading.Thread | None = None
        self._next_check = 0.0
        self.error: OSError | None = None

    def wrote(self) -> None:
        """After a write: start a background sync if a step more has reached the system.

        What is still in the writer's own buffer is not counted. This is on a sink's hot
        path, so it costs a clock read; at most every ``CHECK_SECONDS`` an ``fstat`` too,
        and a thread once per step.
        """
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + CHECK_SECONDS
        if self._thread is not None and self._thread.is_alive():
            return
        try:
            size = os.fstat(self._fd).st_size
        except OSError:
            return  # the file is closed already; finishing or failing says the rest
        if size - self._synced < self._step:
            return
        self._synced = size
        self._thread = threading.Thread(target=_sync, args=(os.dup(self._fd), self),
                                        name="edgewise-writeback", daemon=True)
        self._thread.start()

    def finish(self) -> None:
        """Wait for a sync under way; raise the error a background sync met, if any.

        Raises:
            OSError: A background sync failed: part of the file may not be on disk.
        """
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error
