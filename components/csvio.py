"""The ``csv`` family: read a CSV file whole or as a stream of chunks, and write one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import Field

from components._columns import csv_columns
from components._files import AtomicOutput
from runtime import Params, component, input_path, output_path

if TYPE_CHECKING:
    import pandas as pd


class ReadParams(Params):
    """Settings of ``csv.read``."""

    path: str = input_path("The CSV file to read; relative to the flow file's folder.")
    chunk_rows: int | None = Field(
        default=None, gt=0,
        description="Emit the file as a stream of DataFrames of at most this many rows; "
                    "leave empty to emit the whole file as one DataFrame.")


@component("csv.read", outputs={"data": "DataFrame"}, params=ReadParams, threaded=True,
           columns=csv_columns)
def read(*, params: ReadParams) -> Iterator[pd.DataFrame]:
    """Read a CSV file with a header row.

    Row ids (the index) count data rows from 0, across chunks, so row ``n`` is on line
    ``n + 2`` of the file.
    """
    import pandas as pd

    if params.chunk_rows is None:
        yield pd.read_csv(params.path)
        return
    with pd.read_csv(params.path, chunksize=params.chunk_rows) as reader:
        yield from reader


class WriteParams(Params):
    """Settings of ``csv.write``."""

    path: str = output_path("The CSV file to write; relative to the flow file's folder.")
    index: bool = Field(default=False, description="Also write the row ids as a first column.")


@component("csv.write", inputs={"data": "DataFrame"}, params=WriteParams, threaded=True)
class Write:
    """Write every DataFrame received to one CSV file, appending chunks under one header.

    The file is replaced atomically when the input ends, and only if every chunk was
    written. If any chunk fails (a full disk, other columns), nothing more is written, the
    file already at ``path`` stays exactly as it was, and the rows written so far are kept
    as ``<path>.partial`` next to it; the error says so. A stopped or aborted run keeps
    nothing. Only a regular file is ever replaced: a device such as ``/dev/null``, a folder
    or a pipe is refused.
    """

    def __init__(self, params: WriteParams) -> None:
        self.params = params
        self.out = AtomicOutput(params.path)
        self.columns: list[str] | None = None
        self._header: pd.Index | None = None  # the columns of a chunk that matched them

    def __call__(self, data: pd.DataFrame) -> None:
        """Append one DataFrame to the file (the first one also writes the header)."""
        import pandas as pd

        with self.out.firing():
            if not isinstance(data, pd.DataFrame):
                msg = f"csv.write needs a DataFrame, got {type(data).__name__}"
                raise TypeError(msg)
            self._check_columns(data.columns)
            first = not self.out.started
            data.to_csv(self.out.handle(), header=first, index=self.params.index)

    def _check_columns(self, index: pd.Index) -> None:
        """Refuse a chunk whose column names differ from the header's.

        Raises:
            ValueError: The names differ.
        """
        if self._header is not None and index.identical(self._header):
            return  # same names of the same type: cheaper than naming them one by one
        columns = [str(c) for c in index]
        if self.columns is None:
            self.columns = columns
        elif columns != self.columns:
            msg = (f"columns {columns} differ from the header already written "
                   f"{self.columns}; every chunk must have the same columns")
            raise ValueError(msg)
        self._header = index

    def end(self) -> None:
        """Move the finished file into place; with no data at all, the file is emptied.

        An empty file says truthfully that this run wrote nothing, where keeping an older
        run's rows would not. If a chunk failed, the file is not replaced and this raises.
        """
        self.out.finish()

    def close(self) -> None:
        """Drop an unfinished file if the run ended early."""
        self.out.discard()
