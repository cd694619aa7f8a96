"""The recorder: keeps a run on disk as it happens, through the run's hooks.

A cheap batch (plain numbers, or values passed on unchanged) is indexed and encoded on the
run's thread as it is produced, and held; a writer thread writes what is held every
``COMMIT_SECONDS``, or sooner once much is held, so it rarely takes the GIL from the run.
A batch that costs more to keep (DataFrames, models, JSON) is handed to the writer's inbox
instead, and so is every batch after it until the writer has caught up, so that batches
are indexed in the order they were produced. What the storage policy does not keep is
counted per output port and reported in the manifest, never silently dropped.

A killed run stays readable: DataFrames go to Arrow IPC streams (no footer needed), model
and array files are written under a temporary name and renamed, and the index is committed
at least every ``COMMIT_SECONDS`` once the files it points at are written. If the disk
fills or the folder cannot be written, the recorder stops the run (``on_failure``) and marks
the record ``incomplete``. The index is written through ``runtime._record.index``, the values
through ``runtime._record.values``, and the manifest through ``runtime._record.manifest``.

A host keeps a run with :func:`record_run`; the engine's ``run_ended`` hook finishes it,
writing what is left on the run's own thread if the writer is idle then.
"""

from __future__ import annotations

import collections
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from runtime._engine import RunOptions, RunResult
from runtime._graph import Plan
from runtime._hooks import Hooks
from runtime._messages import Batch
from runtime._previews import loaded_type
from runtime._record.identity import new_run_id
from runtime._record.index import IndexWriter, cheap_parents, pack_ints
from runtime._record.keeping import StoragePolicy, ValueKeeper
from runtime._record.manifest import ended_fields, folder_bytes, started_fields, write_manifest
from runtime._record.store import RunStore, runs_root

QUEUE_GROUPS = 16
GROUP_BATCHES = 64
GROUP_VALUES = 1 << 14
GROUP_SECONDS = 0.5
MAX_WAITING = QUEUE_GROUPS * GROUP_BATCHES
COMMIT_SECONDS = 0.5
COMMIT_BATCHES = 256
HELD_BATCHES = 4096
HELD_BYTES = 1 << 22
MAX_HELD = 4


class _Run(Protocol):
    """What :func:`record_run` needs of a run: its plan, hooks, options, a way to stop it."""

    plan: Plan
    hooks: Hooks
    options: RunOptions

    def stop(self) -> None: ...


def record_run(run: _Run, workspace: Path, *, policy: StoragePolicy | None = None,
               links: dict[str, Any] | None = None) -> Recorder:
    """Keep a run under ``<workspace>/.edgewise/runs/<run-id>/`` as it happens.

    Call it before the run starts. The recorder finishes when the run ends (the engine's
    ``run_ended`` hook), and a recording that cannot write stops the run.

    Args:
        run: The run to keep (a ``runtime.Run``).
        workspace: The folder whose ``.edgewise/runs/`` keeps it.
        policy: Which values to keep (default: all of them).
        links: More manifest fields, such as ``flow_file`` and ``started_by``.

    Returns:
        The recorder: its ``run_id``, ``folder``, ``store`` and, once the run has ended,
        ``failure`` (why recording failed, or None).

    Raises:
        OSError: the run folder cannot be made or written; nothing was kept.
    """
    recorder = Recorder(run.plan, workspace, policy=policy, links=links)
    run.options.run_id = recorder.run_id
    recorder.attach(run.hooks, stop=run.stop)
    return recorder


class Recorder:
    """Writes one run to ``<workspace>/.edgewise/runs/<run-id>/``."""

    def __init__(self, plan: Plan, workspace: Path, *, policy: StoragePolicy | None = None,
                 run_id: str | None = None, links: dict[str, Any] | None = None) -> None:
        self.plan = plan
        self.policy = policy or StoragePolicy()
        root = runs_root(workspace)
        newest = max((p.name for p in root.iterdir()), default="") if root.is_dir() else ""
        self.run_id = run_id or new_run_id(after=newest)
        self.folder = root / self.run_id
        self.values_dir = self.folder / "values"
        self.links = links or {}
        self.failure: str | None = None
        self.on_failure: Callable[[], None] | None = None
        self.started = time.time()
        self._clock0 = time.perf_counter()
        # A costly batch goes to the inbox, and the loop wakes the writer once per group of
        # GROUP_BATCHES batches or GROUP_VALUES values: not on every batch, so the two
        # threads do not trade the GIL each time, yet soon enough that few are held alive.
        # Cheap batches are kept at once (_keep_inline) while the inbox is empty: a
        # second thread contending for the GIL costs the run more than the work it does,
        # so the writer is only woken for them every HELD_BATCHES batches or HELD_BYTES
        # bytes held, and looks every COMMIT_SECONDS, so the index never lags long.
        # _lock guards what both threads touch: the held rows and values, and _queued,
        # the batches handed to the writer and not yet written.
        self._inbox: collections.deque[tuple[str, Batch, float]] = collections.deque()
        self._wake = threading.Event()
        self._room = threading.Event()
        self._closing = False
        self._finished = False
        self._done = False
        self._lock = threading.Lock()
        self._working = threading.Lock()  # held by whoever writes: the writer, or finish
        self._queued = 0
        self._unsignalled = 0
        self._unsignalled_values = 0
        self._handed = 0.0
        self.errors: list[str] = []
        self.indexed = 0
        self._flow = plan.flow.model_dump(mode="json", exclude_unset=True)
        self._started_fields: dict[str, Any] | None = None
        self.folder.mkdir(parents=True, exist_ok=False)
        try:
            self.values_dir.mkdir()
            self._write_manifest(status="running")
            self._index = IndexWriter(self.folder / "index.sqlite")
            self._keeper = ValueKeeper(self.values_dir, self._index, self.policy)
        except (OSError, sqlite3.Error) as exc:
            shutil.rmtree(self.folder, ignore_errors=True)
            if isinstance(exc, OSError):
                raise
            msg = f"cannot make the index {self.folder / 'index.sqlite'}: {exc}"
            raise OSError(msg) from exc
        self._thread = threading.Thread(target=self._write_loop, name="edgewise-recorder",
                                        daemon=True)
        self._thread.start()

    @property
    def store(self) -> RunStore:
        """Read access to what was recorded."""
        return RunStore(self.folder)

    def attach(self, hooks: Hooks, *, stop: Callable[[], None] | None = None) -> None:
        """Record every batch a node puts out, on connected and unconnected ports alike.

        The recorder finishes when ``run_ended`` is called; ``stop``, if given, is called
        (from the writer thread) when recording fails, to end the run.
        """
        if stop is not None:
            self.on_failure = stop
        hooks.add("produced", self._produced)
        hooks.add("run_ended", self.finish)

    def _produced(self, port: str, batch: Batch) -> None:
        if self.failure is not None:
            return
        now = time.perf_counter() - self._clock0
        with self._lock:
            # Nothing waiting for the writer: a cheap batch is indexed and encoded here at
            # once, in order, and only its I/O is left to the writer.
            inline = not self._queued and self._keep_inline(batch, now)
            if not inline:
                self._inbox.append((batch.origin, batch, now))
                self._queued += 1
        if inline:
            if self._index.pending >= HELD_BATCHES or self._keeper.pending_bytes >= HELD_BYTES:
                if not self._wake.is_set():
                    self._wake.set()
                if self._behind():
                    self._wait_for_room()
            return
        self._unsignalled += 1
        self._unsignalled_values += len(batch.values)
        if (self._unsignalled >= GROUP_BATCHES or self._unsignalled_values >= GROUP_VALUES
                or now - self._handed > GROUP_SECONDS):
            self._unsignalled = self._unsignalled_values = 0
            self._handed = now
            self._wake.set()
            if self._behind():
                self._wait_for_room()

    def _keep_inline(self, batch: Batch, t: float) -> bool:
        """Index and keep a batch on the run's thread if that is cheap; whether it was."""
        ids, parents = batch.ids, batch.parents
        # a 1:1 stage's batch, which may pass its parent batch's values on
        chained = parents if type(parents) is range else None
        if type(ids) is not range or not (chained or cheap_parents(parents)):
            return False
        try:
            where = self._keeper.keep_plain(batch.origin, ids, batch.values, chained,
                                            numbers_only=True)
            if where is None:
                return False
            self._index.add_batch(batch.origin, ids, parents, t, None, where)
        except Exception as exc:  # noqa: BLE001 - recording must not stop the run
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return True
        self.indexed += len(ids)
        return True

    def _behind(self) -> bool:
        """Whether the writer is so far behind that the run must wait for it."""
        return (len(self._inbox) > MAX_WAITING or self._index.pending > MAX_HELD * HELD_BATCHES
                or self._keeper.pending_bytes > MAX_HELD * HELD_BYTES)

    def _wait_for_room(self) -> None:
        """Hold the loop while the writer is far behind, so memory stays bounded."""
        while self._behind() and self._thread.is_alive():
            self._room.clear()
            self._wake.set()
            self._room.wait(0.05)

    # -- the writer thread ---------------------------------------------------------------

    def _write_loop(self) -> None:
        """Write what is handed over and held, at least every COMMIT_SECONDS, until done."""
        while True:
            self._wake.wait(COMMIT_SECONDS)
            with self._working:
                if self._done:  # finish wrote the rest itself
                    return
                self._wake.clear()
                # what was handed over before closing is written too
                self._write_pending(final=self._closing)
                if self._done:
                    return

    def _write_pending(self, *, final: bool) -> None:
        """Write every batch handed over, then what is held; commit. Hold ``_working``.

        With ``final``, or if writing fails (the run is then stopped), the files are
        closed and nothing more is written.
        """
        if self._done:
            return
        try:
            self._drain()
            self._flush()
        except Exception as exc:  # noqa: BLE001 - a recording that cannot write stops the run
            self._fail(exc)
            self._inbox.clear()
            final = True
        if final:
            self._done = True
            self._keeper.close()
            self._index.close()

    def _drain(self) -> None:
        """Index and store each batch handed over, committing every COMMIT_BATCHES."""
        pending = 0
        committed = time.monotonic()
        while True:
            try:
                item = self._inbox.popleft()
            except IndexError:
                break
            try:
                self._write(*item)
            except (OSError, sqlite3.Error):
                raise
            except Exception as exc:  # noqa: BLE001 - recording must not stop the run
                self.errors.append(f"{type(exc).__name__}: {exc}")
            with self._lock:
                self._queued -= 1
            pending += 1
            if pending % GROUP_BATCHES == 0:
                self._room.set()
            if pending >= COMMIT_BATCHES or time.monotonic() - committed >= COMMIT_SECONDS:
                self._flush()
                pending = 0
                committed = time.monotonic()

    def _fail(self, exc: BaseException) -> None:
        """Note why recording failed and ask for the run to stop."""
        if isinstance(exc, OSError):
            where = exc.filename or self.folder
            self.failure = f"cannot write {where}: {exc.strerror or exc}"
        else:
            self.failure = (f"cannot write {self.folder / 'index.sqlite'}: "
                            f"{type(exc).__name__}: {exc}")
        if self.on_failure is not None:
            self.on_failure()

    def _write(self, origin: str, batch: Batch, t: float) -> None:
        ids = batch.ids
        if not isinstance(ids, range):
            msg = f"batch ids from {origin} are not consecutive"
            raise TypeError(msg)
        values = batch.values
        frame_type = loaded_type("pandas", "DataFrame")
        rows = None
        if frame_type is not None and any(isinstance(v, frame_type) for v in values[:1]):
            rows = pack_ints(len(v) if isinstance(v, frame_type) else -1 for v in values)
        seq = self._index.add_batch(origin, ids, batch.parents, t, rows)
        self.indexed += len(values)
        self._keeper.keep(seq, origin, ids, values, frame_type,
                          batch.parents if isinstance(batch.parents, range) else None)

    def _flush(self) -> None:
        """Write the values held so far, then the index rows that point at them; commit."""
        with self._lock:
            values = self._keeper.take()
            rows = self._index.take()
        self._room.set()
        self._keeper.write(values)
        if rows.batches or rows.inline or rows.kept:
            self._index.write(rows)

    # -- the manifest --------------------------------------------------------------------

    def _write_manifest(self, status: str, result: RunResult | None = None) -> None:
        if self._started_fields is None:  # the same at the end: made once, at the start
            self._started_fields = started_fields(self.run_id, self.plan, self._flow,
                                                  self.started, self.policy.to_json())
        manifest = {**self._started_fields, "status": status, **self.links}
        if result is not None:
            manifest.update(ended_fields(result))
            manifest["recording"] = {
                "messages_indexed": self.indexed,
                **self._keeper.summary(),
                "errors": self.errors,
                "failure": self.failure,
                "bytes": folder_bytes(self.folder),
            }
        write_manifest(self.folder, manifest)

    def finish(self, result: RunResult) -> None:
        """Write what is still queued, then the final manifest.

        If recording failed, the manifest says ``incomplete`` and ``failure`` says why; if
        even the manifest cannot be written, ``failure`` says so and readers will find the
        run ``interrupted``.
        """
        if self._finished:
            return
        self._finished = True
        self._closing = True
        if self._working.acquire(blocking=False):
            # The writer is waiting: write the rest here rather than wake it and wait for
            # it to be given a processor, which on a busy machine can take milliseconds.
            try:
                self._write_pending(final=True)
            finally:
                self._working.release()
            self._wake.set()  # it finds the work done and ends
        else:
            self._wake.set()
            self._thread.join()
        try:
            self._write_manifest(status="incomplete" if self.failure else result.status,
                                 result=result)
        except OSError as exc:
            self.failure = self.failure or f"cannot write {exc.filename}: {exc.strerror or exc}"
