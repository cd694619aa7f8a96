"""How each kind of value is stored in a kept run's ``values/`` folder, and read back.

- Small values (numbers, text, JSON-able records) are appended per port to
  ``<node.port>.values``: a whole batch as one int64 or float64 array, or as JSON.
- DataFrames go to Arrow IPC streams, ``<node.port>.<segment>.arrows``, one record batch
  per message: a stream needs no footer, so a killed run keeps every batch it wrote. A
  new segment starts when the columns change. Runs kept before the switch to streams
  hold their DataFrames as Parquet (one row group per message) and still read.
- Models (see :func:`runtime._previews.is_model`) go to ``<id>.skops``, loaded back only
  under the rule of ``runtime._record.safeload``.
- NumPy arrays go to ``<id>.npy``, without pickle.

Model and array files are written under a temporary name and renamed, so a file the
index points at is always whole.
"""

from __future__ import annotations

import functools
import json
import operator
import os
from array import array
from pathlib import Path
from typing import IO, Any

from runtime._messages import ErrorRecord
from runtime._previews import preview
from runtime._record.health import DamagedRunError

Stored = tuple[str, int, int, dict[str, Any]]
"""Where a value was stored: file name, place in the file, bytes, and its preview."""

UNSTORABLE = object()
SCALARS = {int, float, str, bool, type(None)}
ERROR_KEY = "$error_record"


def json_value(value: Any, depth: int = 0) -> Any:
    """The value as exact JSON types, or UNSTORABLE."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if depth > 20:
        return UNSTORABLE
    if isinstance(value, ErrorRecord):
        return {ERROR_KEY: value.to_json()}
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            plain = json_value(item, depth + 1)
            if plain is UNSTORABLE or not isinstance(key, str):
                return UNSTORABLE
            out[key] = plain
        return out
    if isinstance(value, list | tuple):
        items = [json_value(v, depth + 1) for v in value]
        return UNSTORABLE if any(i is UNSTORABLE for i in items) else items
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return json_value(item(), depth + 1)
    return UNSTORABLE


def value_types(values: list[Any]) -> set[type]:
    """The types of a batch's values; quicker when they all have the first one's type."""
    if not values:
        return set()
    first = type(values[0])
    if operator.countOf(map(type, values), first) == len(values):
        return {first}
    return set(map(type, values))


def encode_scalars(values: list[Any], types: set[type]) -> tuple[str, bytes]:
    """A batch of plain values as one payload: ``int64``, ``float64`` or ``json``."""
    if types == {int}:
        try:
            return "int64", array("q", values).tobytes()
        except OverflowError:
            pass
    elif types == {float}:
        return "float64", array("d", values).tobytes()
    return "json", json.dumps(values, separators=(",", ":")).encode()


def encode_partial(values: list[Any]) -> bytes:
    """A batch whose values are partly kept elsewhere (``None`` there), as ``json-partial``."""
    return json.dumps(values, separators=(",", ":")).encode()


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {ERROR_KEY}:
        return ErrorRecord(**value[ERROR_KEY])
    return value


class PortFiles:
    """The files one output port writes its values to: its values file and Arrow stream."""

    def __init__(self, folder: Path, origin: str) -> None:
        self.folder = folder
        self.origin = origin
        self.values_file: IO[bytes] | None = None
        self.values_name = f"{origin}.values"
        self.values_offset = 0
        self.pending: list[bytes] = []
        self.writer: Any = None
        self.sink: Any = None
        self.schema: Any = None
        self.segment = 0
        self.part = 0
        self.location = ""
        self.index_field: str | None = None
        self.columns: list[Any] | None = None
        self.attrs: dict[Any, Any] = {}

    def append(self, kind: str, payload: bytes) -> tuple[str, str, int, int]:
        """Append a batch's small values; return kind, file, offset and length.

        The payload is only held here: :meth:`write` puts it in the file, so whichever
        thread encodes a batch, only the recorder's thread does the I/O.
        """
        offset = self.values_offset
        self.pending.append(payload)
        self.values_offset += len(payload)
        return kind, self.values_name, offset, len(payload)

    def take(self) -> list[bytes]:
        """The payloads appended since the last take, in order, to :meth:`write` later."""
        taken, self.pending = self.pending, []
        return taken

    def write(self, payloads: list[bytes]) -> None:
        """Write taken payloads to the values file and hand them to the OS.

        The index may point at them once this returns.
        """
        if not payloads:
            return
        if self.values_file is None:
            self.values_file = open(self.folder / self.values_name, "ab")  # noqa: SIM115
        self.values_file.writelines(payloads)  # large ones go to the OS without a copy
        self.values_file.flush()

    def append_frame(self, frame: Any) -> Stored | str:
        """Append a DataFrame to the port's Arrow stream.

        Returns:
            The stream's file name, the frame's place in it, its bytes and preview; or the
            reason it cannot be stored.
        """
        import pyarrow as pa

        batch = None
        if self.schema is not None and self.columns == list(frame.columns) and \
                frame.attrs == self.attrs:
            # Same columns as the port's last frame: build the record batch from the column
            # arrays with the schema already made, several times faster than from_pandas.
            try:
                arrays = [pa.array(frame.index.to_numpy() if name == self.index_field
                                   else frame[name].to_numpy()) for name in self.schema.names]
                batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError,
                    KeyError, TypeError, ValueError):
                batch = None
        if batch is None:
            try:
                batch = pa.RecordBatch.from_pandas(frame, preserve_index=True)
            except Exception as exc:  # noqa: BLE001 - counted as not kept, with the reason
                return f"DataFrame not storable as Arrow ({type(exc).__name__})"
        # a segment keeps one schema, with its first frame's attrs: other attrs, new segment
        if self.writer is None or not batch.schema.equals(self.schema) or \
                frame.attrs != self.attrs:
            self._new_segment(batch, frame)
        self.writer.write_batch(batch)
        self.part += 1
        return self.location, self.part - 1, batch.nbytes, frame_preview(frame)

    def _new_segment(self, batch: Any, frame: Any) -> None:
        import pyarrow as pa

        if self.writer is not None:
            self.writer.close()
            self.sink.close()
            self.segment += 1
        self.location = f"{self.origin}.{self.segment}.arrows"
        self.schema = batch.schema
        self.attrs = dict(frame.attrs)
        meta = batch.schema.pandas_metadata or {}
        index = meta.get("index_columns") or [None]
        self.index_field = index[0] if len(index) == 1 and isinstance(index[0], str) else None
        self.columns = list(frame.columns) if self.index_field is not None else None
        # An unbuffered file: each batch reaches the OS as it is written, so a killed
        # process leaves every batch the index has committed.
        self.sink = pa.OSFile(str(self.folder / self.location), "wb")
        # LZ4 keeps the kept run about as small as Parquet did, at no cost in speed.
        codec = "lz4" if pa.Codec.is_available("lz4") else None
        self.writer = pa.ipc.new_stream(self.sink, batch.schema,
                                        options=pa.ipc.IpcWriteOptions(compression=codec))
        self.part = 0

    def close(self) -> None:
        """Close every file; best effort, as after a failure."""
        for handle in (self.writer, self.sink, self.values_file):
            try:
                if handle is not None:
                    handle.close()
            except Exception:  # noqa: BLE001, S110 - already failed; closing is best effort
                pass


def frame_preview(frame: Any) -> dict[str, Any]:
    """The preview kept for a DataFrame: its shape only, which is cheap."""
    rows, cols = frame.shape
    return {"kind": "dataframe", "summary": f"{rows}×{cols} DataFrame", "shape": [rows, cols]}


def write_model(folder: Path, message_id: int, model: Any) -> Stored | str:
    """Store a model as skops: where it is and its preview, or why it cannot be stored."""
    import skops.io

    location = f"{message_id}.skops"
    path = folder / location
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
    return location, 0, path.stat().st_size, preview(model)


def write_array(folder: Path, message_id: int, data: Any) -> Stored:
    """Store a NumPy array without pickle: where it is and its preview."""
    import numpy as np

    location = f"{message_id}.npy"
    path = folder / location
    part = path.with_name(location + ".part")
    with open(part, "wb") as handle:
        np.save(handle, data, allow_pickle=False)
    os.replace(part, path)
    return location, 0, int(data.nbytes), preview(data)


# -- reading -----------------------------------------------------------------------------


def read_inline(path: Path, where: tuple[int, str, int, int], start: int, count: int,
                missing: Any = None) -> list[Any]:
    """Values ``start`` to ``start + count`` of batch ``seq`` stored at ``offset`` in a values file.

    A port read message by message reads each batch once this way, not once per message.

    Args:
        path: The port's values file.
        where: The batch's sequence number, and the kind, offset and length of its values.
        start: The first message's place in its batch.
        count: How many messages.
        missing: What to give for a value kept elsewhere (or not at all).

    Raises:
        DamagedRunError: the file is missing, cut short or garbled.
    """
    seq, kind, offset, length = where
    if not path.is_file():
        raise DamagedRunError(path, "is missing")
    garbled = (f"is cut short or garbled: the values of batch {seq} at bytes {offset}.."
               f"{offset + length} cannot be read")
    values: list[Any] = []
    try:
        with open(path, "rb") as handle:
            if kind in ("int64", "float64"):
                handle.seek(offset + 8 * start)
                data = array("q" if kind == "int64" else "d")
                data.frombytes(handle.read(8 * count))
                values = data.tolist()
            else:
                handle.seek(offset)
                values = json.loads(handle.read(length))[start:start + count]
    except (OSError, ValueError, TypeError) as exc:
        raise DamagedRunError(path, f"{garbled} ({type(exc).__name__})") from exc
    if len(values) < count:
        raise DamagedRunError(path, f"{garbled} (IndexError)")
    partial = kind == "json-partial"
    return [missing if value is None and partial else _decode(value) for value in values]


def read_stream(path: Path) -> list[Any]:
    """Every complete record batch of an Arrow IPC stream; a cut-short tail is left out.

    Batches are found by their message headers and decoded only when asked for, so one
    DataFrame of a long stream reads fast. A stream with dictionary columns is decoded
    whole, as its dictionaries can change between batches.
    """
    import pyarrow as pa

    try:
        source = pa.memory_map(str(path))
        messages = pa.ipc.MessageReader.open_stream(source)
        schema = pa.ipc.read_schema(messages.read_next_message())
    except (OSError, StopIteration, pa.ArrowException) as exc:
        msg = f"is not a readable Arrow stream ({exc or 'no schema'})"
        raise DamagedRunError(path, msg) from exc
    found: list[Any] = []
    if any(pa.types.is_dictionary(f.type) for f in schema):
        reader = pa.ipc.open_stream(pa.memory_map(str(path)))
        read = reader.read_next_batch
    else:
        def read() -> Any:
            return functools.partial(pa.ipc.read_record_batch, messages.read_next_message(),
                                     schema)
    while True:
        try:
            found.append(read())
        except StopIteration:
            break
        except (OSError, pa.ArrowException):  # a tail cut short by a crash
            break
    return found


class FrameReader:
    """Reads kept DataFrames, keeping each stream's batch headers once found."""

    def __init__(self) -> None:
        self._streams: dict[str, list[Any]] = {}

    def read(self, path: Path, part: int) -> Any:
        """The DataFrame kept as record batch ``part`` of an Arrow stream (or Parquet file)."""
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).read_row_group(part).to_pandas()
        batches = self._streams.get(path.name)
        if batches is None or part >= len(batches):
            batches = self._streams[path.name] = read_stream(path)
        if part >= len(batches):
            msg = (f"is cut short: it holds {len(batches)} DataFrame(s), but the index "
                   f"points at number {part + 1}")
            raise DamagedRunError(path, msg)
        batch = batches[part]
        if callable(batch):  # not decoded yet
            batch = batches[part] = batch()
        return batch.to_pandas()


def read_file(kind: str, path: Path, part: int, frames: FrameReader, message_id: int) -> Any:
    """A value kept in a file of its own kind (``dataframe``, ``model``, ``ndarray``).

    Raises:
        KeyError: the kind is unknown.
        UnsafeModelError: a model names types outside the allow-list of
            ``runtime._record.safeload``; nothing in it was loaded.
    """
    if kind == "dataframe":
        return frames.read(path, part)
    if kind == "model":
        from runtime._record.safeload import load_model

        return load_model(path, f"the model of message {message_id}")
    if kind == "ndarray":
        import numpy as np

        return np.load(path, allow_pickle=False)
    msg = f"message {message_id} holds a value of unknown kind '{kind}'"
    raise KeyError(msg)
