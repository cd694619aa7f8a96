"""The recorder: keeps a run on disk as it happens, through the ``produced`` hook only.

The event loop only hands each batch to an inbox; a writer thread indexes it in SQLite and
stores the values, so the run itself slows down little. What the storage policy does not
keep is counted per output port and reported in the manifest, never silently dropped.

A killed run stays readable: DataFrames go to Arrow IPC streams (no footer needed), model
and array files are written under a temporary name and renamed, and the index is committed
at least every ``COMMIT_SECONDS`` once the files it points at are written. If the disk
fills or the folder cannot be written, the recorder stops the run (``on_failure``) and marks
the record ``incomplete``.
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import shutil
import sqlite3
import threading
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.engine import RunResult
from runtime.graph import Plan
from runtime.hooks import Hooks
from runtime.messages import Batch
from runtime.previews import loaded_type, preview
from runtime.record.encoding import (
    SCALARS,
    UNSTORABLE,
    flow_hash,
    folder_bytes,
    json_value,
    new_index,
    new_run_id,
    parents_encoding,
    versions,
)
from runtime.record.health import this_process
from runtime.record.store import RunStore, pack_ints, runs_root

QUEUE_GROUPS = 16
GROUP_BATCHES = 64
GROUP_SECONDS = 0.5
MAX_WAITING = QUEUE_GROUPS * GROUP_BATCHES
COMMIT_SECONDS = 0.5
COMMIT_BATCHES = 256
RECENT_BATCHES = 512


@dataclass
class StoragePolicy:
    """Which values a recording keeps. The index always records every message.

    Attributes:
        max_values: Keep at most this many values per output port (None: all of them).
        sample_every: After the cap, keep one value in this many (0: none).
    """

    max_values: int | None = None
    sample_every: int = 0

    def keeps(self, seen: int) -> bool:
        """Whether to keep the value of the ``seen``-th message (0-based) of a port."""
        if self.max_values is None or seen < self.max_values:
            return True
        return self.sample_every > 0 and (seen - self.max_values) % self.sample_every == 0

    def to_json(self) -> dict[str, Any]:
        """For the manifest."""
        return {"max_values": self.max_values, "sample_every": self.sample_every}


@dataclass
class _PortState:
    seen: int = 0
    kept: int = 0
    not_kept: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    writer: Any = None
    sink: Any = None
    schema: Any = None
    segment: int = 0
    part: int = 0
    location: str = ""
    values_file: Any = None
    values_name: str = ""
    index_field: str | None = None
    columns: list[Any] | None = None
    values_offset: int = 0


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
        self.links = links or {}
        self.failure: str | None = None
        self.on_failure: Callable[[], None] | None = None
        self.started = time.time()
        self._clock0 = time.perf_counter()
        # The loop appends batches to the inbox and wakes the writer once per group, which
        # keeps the two threads from trading the GIL on every batch; the writer also looks
        # every COMMIT_SECONDS, so a batch never waits long for the index even in a lull.
        self._inbox: collections.deque[tuple[str, Batch, float]] = collections.deque()
        self._wake = threading.Event()
        self._room = threading.Event()
        self._closing = False
        self._unsignalled = 0
        self._handed = 0.0
        self._ports: dict[str, _PortState] = {}
        self.errors: list[str] = []
        self.indexed = 0
        self._seq = 0
        self._pending_batches: list[tuple[Any, ...]] = []
        self._pending_inline: list[tuple[Any, ...]] = []
        self._pending_kept: list[tuple[Any, ...]] = []
        self._recent: dict[int, tuple[range, list[Any], tuple[Any, ...], set[type]]] = {}
        self._flow = plan.flow.model_dump(mode="json", exclude_unset=True)
        self.folder.mkdir(parents=True, exist_ok=False)
        try:
            (self.folder / "values").mkdir()
            self._write_manifest(status="running")
            self._db = new_index(self.folder / "index.sqlite")
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

    def attach(self, hooks: Hooks) -> None:
        """Record every batch a node puts out, on connected and unconnected ports alike."""
        hooks.add("produced", self._produced)

    def _produced(self, port: str, batch: Batch) -> None:
        if self.failure is not None:
            return
        now = time.perf_counter() - self._clock0
        self._inbox.append((batch.origin, batch, now))
        self._unsignalled += 1
        if self._unsignalled >= GROUP_BATCHES or now - self._handed > GROUP_SECONDS:
            self._unsignalled = 0
            self._handed = now
            self._wake.set()
            if len(self._inbox) > MAX_WAITING:
                self._wait_for_room()

    def _wait_for_room(self) -> None:
        """Hold the loop while the writer is far behind, so memory stays bounded."""
        while len(self._inbox) > MAX_WAITING and self._thread.is_alive():
            self._room.clear()
            self._wake.set()
            self._room.wait(0.05)

    # -- the writer thread ---------------------------------------------------------------

    def _write_loop(self) -> None:
        db = self._db
        try:
            self._record(db)
        except Exception as exc:  # noqa: BLE001 - a recording that cannot write stops the run
            self._fail(exc)
            self._inbox.clear()
        finally:
            for state in self._ports.values():
                for handle in (state.writer, state.sink, state.values_file):
                    try:
                        if handle is not None:
                            handle.close()
                    except Exception:  # noqa: BLE001, S110 - already failed; closing is best effort
                        pass
            db.close()

    def _record(self, db: sqlite3.Connection) -> None:
        """Index and store each batch handed over; commit at least every COMMIT_SECONDS."""
        pending = 0
        committed = time.monotonic()
        closing = False
        while not closing:
            self._wake.wait(COMMIT_SECONDS)
            self._wake.clear()
            closing = self._closing  # what was handed over before closing is drained below
            while True:
                try:
                    item = self._inbox.popleft()
                except IndexError:
                    break
                try:
                    self._write(db, *item)
                except (OSError, sqlite3.Error):
                    raise
                except Exception as exc:  # noqa: BLE001 - recording must not stop the run
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                pending += 1
                if pending % GROUP_BATCHES == 0:
                    self._room.set()
                if pending >= COMMIT_BATCHES or (
                        time.monotonic() - committed >= COMMIT_SECONDS):
                    self._flush(db)
                    pending = 0
                    committed = time.monotonic()
            self._room.set()
            if pending:
                self._flush(db)
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

    def _write(self, db: sqlite3.Connection, origin: str, batch: Batch, t: float) -> None:
        ids = batch.ids
        count = len(batch.values)
        if not isinstance(ids, range):
            msg = f"batch ids from {origin} are not consecutive"
            raise TypeError(msg)
        kind, pfirst, pblob = parents_encoding(batch.parents)
        values = batch.values
        frame_type = loaded_type("pandas", "DataFrame")
        rows = None
        if frame_type is not None and any(isinstance(v, frame_type) for v in values[:1]):
            rows = pack_ints(len(v) if isinstance(v, frame_type) else -1 for v in values)
        self._seq += 1
        self._pending_batches.append(
            (self._seq, origin, ids.start, count, kind, pfirst, pblob, t, rows))
        self.indexed += count
        self._keep_values(db, self._seq, origin, ids, values, frame_type,
                          batch.parents if isinstance(batch.parents, range) else None)

    def _flush(self, db: sqlite3.Connection) -> None:
        """Write the index rows gathered so far, many at a time."""
        db.executemany("INSERT INTO batches (seq, origin, first_id, count, parents_kind, "
                       "parents_first, parents, t, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       self._pending_batches)
        db.executemany("INSERT INTO inline_values (seq, kind, file, offset, length) VALUES "
                       "(?, ?, ?, ?, ?)", self._pending_inline)
        db.executemany("INSERT INTO kept (id, origin, kind, location, part, bytes, preview) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", self._pending_kept)
        self._pending_batches.clear()
        self._pending_inline.clear()
        self._pending_kept.clear()
        for state in self._ports.values():
            if state.values_file is not None:
                state.values_file.flush()
        db.commit()

    def _keep_values(self, db: sqlite3.Connection, seq: int, origin: str, ids: range,
                     values: list[Any], frame_type: Any, parents: range | None) -> None:
        state = self._ports.setdefault(origin, _PortState())
        whole = self.policy.max_values is None or state.seen + len(values) <= self.policy.max_values
        types = set(map(type, values))
        if whole and types <= SCALARS:
            # The common case of a fast stream: plain values, all kept, one array.
            state.seen += len(values)
            state.kept += len(values)
            parent = self._recent.get(parents.start) if parents is not None else None
            if (parent is not None and parent[0] == parents and parent[1] == values
                    and (types == parent[3] if len(types) == 1
                         else list(map(type, parent[1])) == list(map(type, values)))):
                # Passed on unchanged (one output per input, equal values of the same types):
                # point at the bytes already written for the parent batch.
                self._pending_inline.append((seq, *parent[2]))
                self._remember(ids, values, parent[2], types)
                return
            kind, payload = "json", b""
            if types == {int}:
                try:
                    kind, payload = "int64", array("q", values).tobytes()
                except OverflowError:
                    pass
            elif types == {float}:
                kind, payload = "float64", array("d", values).tobytes()
            if not payload:
                payload = json.dumps(values, separators=(",", ":")).encode()
            self._remember(ids, values, self._store_inline(db, seq, state, origin, kind,
                                                           payload), types)
            return
        inline: list[Any] = []
        any_inline = False
        for message_id, value in zip(ids, values, strict=True):
            keep = self.policy.keeps(state.seen)
            state.seen += 1
            if not keep:
                state.not_kept += 1
                state.reasons["policy"] = state.reasons.get("policy", 0) + 1
                inline.append(None)
                continue
            reason = None
            if frame_type is not None and isinstance(value, frame_type):
                reason = self._keep_frame(state, origin, message_id, value)
                inline.append(None)
            elif callable(getattr(value, "get_params", None)) and not isinstance(value, type):
                reason = self._keep_model(db, origin, message_id, value)
                inline.append(None)
            elif type(value).__name__ == "ndarray":
                self._keep_array(db, origin, message_id, value)
                inline.append(None)
            else:
                plain = json_value(value)
                if plain is UNSTORABLE:
                    reason = f"not storable ({type(value).__name__})"
                    inline.append(None)
                else:
                    inline.append(plain)
                    any_inline = True
            if reason:
                state.not_kept += 1
                state.reasons[reason] = state.reasons.get(reason, 0) + 1
            else:
                state.kept += 1
        if any_inline:
            self._store_inline(db, seq, state, origin, "json-partial",
                               json.dumps(inline, separators=(",", ":")).encode())


    def _remember(self, ids: range, values: list[Any], where: tuple[Any, ...],
                  types: set[type]) -> None:
        self._recent[ids.start] = (ids, values, where, types)
        if len(self._recent) > RECENT_BATCHES:
            del self._recent[next(iter(self._recent))]

    def _store_inline(self, db: sqlite3.Connection, seq: int, state: _PortState,
                      origin: str, kind: str, payload: bytes) -> tuple[str, str, int, int]:
        """Append a batch's small values to the port's values file and index them."""
        if state.values_file is None:
            state.values_name = f"{origin}.values"
            state.values_file = open(self.folder / "values" / state.values_name, "ab")  # noqa: SIM115
        offset = state.values_offset
        state.values_file.write(payload)
        state.values_offset += len(payload)
        where = (kind, state.values_name, offset, len(payload))
        self._pending_inline.append((seq, *where))
        return where

    def _keep_frame(self, state: _PortState, origin: str, message_id: int,
                    frame: Any) -> str | None:
        """Append a DataFrame to the port's Arrow stream; the reason if it cannot be."""
        import pyarrow as pa

        batch = None
        if state.schema is not None and state.columns == list(frame.columns):
            # Same columns as the port's last frame: build the record batch from the column
            # arrays with the schema already made, several times faster than from_pandas.
            try:
                arrays = [pa.array(frame.index.to_numpy() if name == state.index_field
                                   else frame[name].to_numpy()) for name in state.schema.names]
                batch = pa.RecordBatch.from_arrays(arrays, schema=state.schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError,
                    KeyError, TypeError, ValueError):
                batch = None
        if batch is None:
            try:
                batch = pa.RecordBatch.from_pandas(frame, preserve_index=True)
            except Exception as exc:  # noqa: BLE001 - counted as not kept, with the reason
                return f"DataFrame not storable as Arrow ({type(exc).__name__})"
        if state.writer is None or not batch.schema.equals(state.schema):
            if state.writer is not None:
                state.writer.close()
                state.sink.close()
                state.segment += 1
            state.location = f"{origin}.{state.segment}.arrows"
            state.schema = batch.schema
            meta = batch.schema.pandas_metadata or {}
            index = meta.get("index_columns") or [None]
            state.index_field = index[0] if len(index) == 1 and isinstance(index[0], str) \
                else None
            state.columns = list(frame.columns) if state.index_field is not None else None
            # An unbuffered file: each batch reaches the OS as it is written, so a killed
            # process leaves every batch the index has committed.
            state.sink = pa.OSFile(str(self.folder / "values" / state.location), "wb")
            # LZ4 keeps the kept run about as small as Parquet did, at no cost in speed.
            codec = "lz4" if pa.Codec.is_available("lz4") else None
            state.writer = pa.ipc.new_stream(state.sink, batch.schema,
                                             options=pa.ipc.IpcWriteOptions(compression=codec))
            state.part = 0
        state.writer.write_batch(batch)
        rows, cols = frame.shape
        summary = {"kind": "dataframe", "summary": f"{rows}×{cols} DataFrame",
                   "shape": [rows, cols]}
        self._pending_kept.append((message_id, origin, "dataframe", state.location,
                                   state.part, batch.nbytes, json.dumps(summary)))
        state.part += 1
        return None

    def _keep_model(self, db: sqlite3.Connection, origin: str, message_id: int,
                    model: Any) -> str | None:
        import skops.io

        location = f"{message_id}.skops"
        path = self.folder / "values" / location
        part = path.with_name(location + ".part")
        try:
            skops.io.dump(model, part)
        except OSError:
            part.unlink(missing_ok=True)
            raise
        except Exception as exc:  # noqa: BLE001 - counted as not kept, with the reason
            part.unlink(missing_ok=True)
            return f"model not storable safely ({type(exc).__name__})"
        os.replace(part, path)
        db.execute("INSERT INTO kept (id, origin, kind, location, part, bytes, preview) VALUES "
                   "(?, ?, 'model', ?, 0, ?, ?)",
                   (message_id, origin, location, path.stat().st_size,
                    json.dumps(preview(model))))
        return None

    def _keep_array(self, db: sqlite3.Connection, origin: str, message_id: int,
                    array: Any) -> None:
        import numpy as np

        location = f"{message_id}.npy"
        path = self.folder / "values" / location
        part = path.with_name(location + ".part")
        with open(part, "wb") as handle:
            np.save(handle, array, allow_pickle=False)
        os.replace(part, path)
        db.execute("INSERT INTO kept (id, origin, kind, location, part, bytes, preview) VALUES "
                   "(?, ?, 'ndarray', ?, 0, ?, ?)",
                   (message_id, origin, location, int(array.nbytes),
                    json.dumps(preview(array))))

    # -- the manifest --------------------------------------------------------------------

    def _write_manifest(self, status: str, result: RunResult | None = None) -> None:
        manifest: dict[str, Any] = {
            "run": self.run_id,
            "status": status,
            "flow": self._flow,
            "flow_hash": flow_hash(self._flow),
            "base_dir": str(self.plan.base_dir),
            "versions": dict(versions()),
            "started": datetime.datetime.fromtimestamp(self.started, datetime.UTC).isoformat(),
            "ended": None,
            "policy": self.policy.to_json(),
            "process": this_process(),
            **self.links,
        }
        if result is not None:
            manifest["ended"] = datetime.datetime.now(datetime.UTC).isoformat()
            manifest["seconds"] = round(result.seconds, 6)
            manifest["nodes"] = {n: {"fired": r.fired, "errors": r.errors, "state": r.state}
                                 for n, r in result.nodes.items()}
            manifest["edges"] = {e: {"count": c} for e, c in result.edges.items()}
            manifest["recording"] = {
                "messages_indexed": self.indexed,
                "values_kept": sum(s.kept for s in self._ports.values()),
                "values_not_kept": sum(s.not_kept for s in self._ports.values()),
                "ports": {o: {"messages": s.seen, "kept": s.kept, "not_kept": s.not_kept,
                              "why_not_kept": s.reasons} for o, s in self._ports.items()},
                "errors": self.errors,
                "failure": self.failure,
                "bytes": folder_bytes(self.folder),
            }
            if result.first_error is not None:
                manifest["first_error"] = result.first_error.to_json()
        path = self.folder / "manifest.json"
        tmp = path.with_suffix(".json.tmp")
        try:
            tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, path)

    def finish(self, result: RunResult) -> None:
        """Write what is still queued, then the final manifest.

        If recording failed, the manifest says ``incomplete`` and ``failure`` says why; if
        even the manifest cannot be written, ``failure`` says so and readers will find the
        run ``interrupted``.
        """
        self._closing = True
        self._wake.set()
        self._thread.join()
        try:
            self._write_manifest(status="incomplete" if self.failure else result.status,
                                 result=result)
        except OSError as exc:
            self.failure = self.failure or f"cannot write {exc.filename}: {exc.strerror or exc}"
