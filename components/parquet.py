"""The ``parquet`` family: read a Parquet file whole or in batches, and write one atomically."""

from __future__ import annotations

import contextlib
import importlib
import json
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from pydantic import Field

from components._columns import parquet_columns
from components._files import AtomicOutput, WriteError
from runtime import Params, component, input_path, output_path

if TYPE_CHECKING:
    import pandas as pd


class ReadParams(Params):
    """Settings of ``parquet.read``."""

    path: str = input_path("The Parquet file to read; relative to the flow file's folder.")
    batch_rows: int | None = Field(
        default=None, gt=0,
        description="Emit the file as a stream of DataFrames of at most this many rows; "
                    "leave empty to emit the whole file as one DataFrame.")


def _to_frame(table: Any) -> pd.DataFrame:
    """Turn an Arrow table into a DataFrame exactly as ``pandas.read_parquet`` does."""
    try:  # the conversion read_parquet itself uses (pandas 2.2 and later)
        convert = importlib.import_module("pandas.io._util").arrow_table_to_pandas
    except (ImportError, AttributeError):  # pragma: no cover - older pandas: pyarrow's own
        frame: pd.DataFrame = table.to_pandas()
    else:
        frame = convert(table)
    metadata = table.schema.metadata or {}
    if b"PANDAS_ATTRS" in metadata:
        frame.attrs = json.loads(metadata[b"PANDAS_ATTRS"])
    return frame


def _range_index(schema: Any) -> dict[str, Any] | None:
    """The stored RangeIndex of a file written by pandas, if its row ids are one."""
    metadata = schema.metadata or {}
    try:
        pandas_meta = json.loads(metadata[b"pandas"])
    except (KeyError, ValueError):
        return None
    columns = pandas_meta.get("index_columns") or []
    if len(columns) == 1 and isinstance(columns[0], dict) and columns[0].get("kind") == "range":
        return dict(columns[0])
    return None


def _has_index(schema: Any) -> bool:
    """Whether the file stores its row ids as columns (pandas metadata names them)."""
    try:
        pandas_meta = json.loads((schema.metadata or {})[b"pandas"])
    except (KeyError, ValueError):
        return False
    return any(isinstance(c, str) for c in pandas_meta.get("index_columns") or [])


@component("parquet.read", outputs={"data": "DataFrame"}, params=ReadParams, threaded=True,
           columns=parquet_columns)
def read(*, params: ReadParams) -> Iterator[pd.DataFrame]:
    """Read a Parquet file as ``pandas.read_parquet`` does.

    Row ids: a file written by pandas keeps its row ids (its index); in any other file,
    row ids count rows from 0. With ``batch_rows``, the batches together are exactly the
    whole file, row ids included: row ids counted from 0 continue across batches.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    if params.batch_rows is None:
        yield pd.read_parquet(params.path)
        return
    with pq.ParquetFile(params.path) as source:
        schema = source.schema_arrow
        stored_range = _range_index(schema)
        keeps_index = _has_index(schema)
        offset = 0
        for batch in source.iter_batches(batch_size=params.batch_rows):
            frame = _to_frame(pa.Table.from_batches([batch], schema=schema))
            if stored_range is not None:
                start, step = int(stored_range["start"]), int(stored_range["step"])
                frame.index = pd.RangeIndex(start + offset * step,
                                            start + (offset + len(frame)) * step, step,
                                            name=stored_range.get("name"))
            elif not keeps_index:
                frame.index = pd.RangeIndex(offset, offset + len(frame))
            offset += len(frame)
            yield frame


class _Sink:
    """The hidden file as pyarrow sees it; once dropped, pyarrow's late writes go nowhere.

    A ParquetWriter writes its footer when it is closed or garbage-collected; after a
    failure or a stop, that must not touch the (closed) hidden file.
    """

    closed = False

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.dropped = False
        self.position = 0

    def write(self, data: bytes) -> int:
        if not self.dropped:
            self.target.write(data)
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        if not self.dropped:
            self.target.flush()

    def close(self) -> None:
        """Leave the file open: the atomic output closes it."""


class WriteParams(Params):
    """Settings of ``parquet.write``."""

    path: str = output_path("The Parquet file to write; relative to the flow file's folder.")


@component("parquet.write", inputs={"data": "DataFrame"}, params=WriteParams, threaded=True)
class Write:
    """Write every DataFrame received to one Parquet file, with its row ids as the index.

    Each DataFrame becomes a row group; every one must have the columns and types of the
    first. ``pandas.read_parquet`` (and ``parquet.read``) gives back the rows with their row
    ids. The file is replaced atomically when the input ends, and only if every DataFrame was
    written: if one fails (a full disk, other columns), nothing more is written, the file
    already at ``path`` stays exactly as it was, and what was written so far is kept as
    ``<path>.partial``. A stopped or aborted run keeps nothing. With no input at all, the
    file holds no rows and no columns. Only a regular file is ever replaced.
    """

    def __init__(self, params: WriteParams) -> None:
        self.params = params
        self.out = AtomicOutput(params.path, binary=True)
        self.writer: Any = None
        self.sink: _Sink | None = None
        self.columns: list[Any] = []

    def __call__(self, data: pd.DataFrame) -> None:
        """Write one DataFrame as a row group (the first one also fixes the schema)."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        with self.out.firing(), self._dropped_on_failure():
            if not isinstance(data, pd.DataFrame):
                msg = f"parquet.write needs a DataFrame, got {type(data).__name__}"
                raise TypeError(msg)
            if self.writer is None:
                table = pa.Table.from_pandas(data, preserve_index=True)
                self.sink = _Sink(self.out.buffer())
                self.writer = pq.ParquetWriter(self.sink, table.schema)
                self.columns = list(data.columns)
            else:
                if list(data.columns) != self.columns:
                    msg = (f"columns {list(data.columns)} differ from those already written "
                           f"{self.columns}; every DataFrame must have the same columns")
                    raise ValueError(msg)
                try:
                    table = pa.Table.from_pandas(data, schema=self.writer.schema,
                                                 preserve_index=True)
                except (pa.ArrowInvalid, pa.ArrowTypeError, KeyError) as exc:
                    msg = (f"the DataFrame does not fit the types of those already written "
                           f"({exc}); every DataFrame must have the same column types")
                    raise ValueError(msg) from exc
            self.writer.write_table(table)

    @contextlib.contextmanager
    def _dropped_on_failure(self) -> Iterator[None]:
        """After a failure, nothing the writer does reaches the file any more."""
        try:
            yield
        except BaseException:
            self._drop()
            raise

    def _drop(self) -> None:
        if self.sink is not None:
            self.sink.dropped = True
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()

    def end(self) -> None:
        """Write the file's footer and move it into place.

        With no data at all, the file is emptied (no rows, no columns). If a DataFrame
        failed, the file is not replaced and this raises.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        def footer() -> None:
            if self.writer is None:
                pq.write_table(pa.table({}), self.out.buffer())
                return
            try:
                self.writer.close()
            except OSError:
                raise
            except Exception as exc:
                self._drop()
                msg = f"{type(exc).__name__}: {exc}"
                raise WriteError(msg) from exc

        try:
            self.out.finish(footer)
        except BaseException:
            self._drop()
            raise

    def close(self) -> None:
        """Drop an unfinished file if the run ended early."""
        self._drop()
        self.out.discard()

