"""The ``live`` family: sources that run until stopped, a ``timer`` and a ``file.watch``.

Both are threaded sources that wait: while they have nothing to emit they hand control
back to the engine every few hundredths of a second, so stopping the run (or draining a
served flow) ends them at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from components._watch import FolderWatch
from runtime import Columns, Params, component

if TYPE_CHECKING:
    import pandas as pd

WAIT_SECONDS = 0.05
"""The longest a waiting source sleeps before handing control back to the engine."""
SOURCE_ATTR = "source_file"
"""The ``DataFrame.attrs`` key under which ``file.watch`` names the file a frame was read from."""


class TimerParams(Params):
    """Settings of ``timer``."""

    interval: float = Field(gt=0, description="Seconds between ticks.")
    count: int | None = Field(
        default=None, gt=0,
        description="Emit this many ticks, then end; leave empty to tick until the run is "
                    "stopped.")
    at_start: bool = Field(
        default=True,
        description="Emit the first tick as soon as the run starts; otherwise one interval "
                    "after the start.")


def _timer_columns(_params: Any, _inputs: dict[str, Columns]) -> dict[str, Columns]:
    return {"data": ["time", "count", "skipped"]}


def _tick(time_ns: int, count: int, skipped: int) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({"time": pd.to_datetime([time_ns], unit="ns", utc=True),
                         "count": [count], "skipped": [skipped]}, index=[count])


@component("timer", outputs={"data": "DataFrame"}, params=TimerParams, threaded=True,
           category="live", columns=_timer_columns)
def timer(*, params: TimerParams) -> Iterator[pd.DataFrame | None]:
    """Emit a tick every ``interval`` seconds: a one-row DataFrame with its time and count.

    Columns: ``time`` (when the tick was due, UTC), ``count`` (1 for the first tick, then
    2, 3, ...; also the row id) and ``skipped`` (ticks dropped just before this one). A
    DataFrame, so that a tick goes straight into the frame components, ``sql.read``'s
    inputs or ``http.request``.

    Ticks do not drift: tick ``k`` is due ``k`` intervals after the start, whatever the
    time spent downstream. When the flow is slower than the timer, at most a few ticks
    wait in the queue to the next node (they arrive late); the ticks that fall due while
    that queue is full are not kept but dropped, and the next tick counts them in
    ``skipped``, so ticks never pile up.
    """
    import pandas  # noqa: F401 - imported before the clock starts, not on the first tick

    step = round(params.interval * 1e9)
    start, wall = time.monotonic_ns(), time.time_ns()
    slot = 0 if params.at_start else 1
    emitted = 0
    while params.count is None or emitted < params.count:
        due = start + slot * step
        while (now := time.monotonic_ns()) < due:
            time.sleep(min(WAIT_SECONDS, (due - now) / 1e9))
            yield None
        latest = max(slot, (now - start) // step)
        emitted += 1
        yield _tick(wall + latest * step, emitted, latest - slot)
        slot = latest + 1


class WatchParams(Params):
    """Settings of ``file.watch``."""

    folder: str = Field(
        description="The folder to watch; relative to the flow file's folder. It must "
                    "exist when the flow is validated.")
    pattern: str = Field(
        default="*",
        description="Glob of the file names to emit, relative to the folder, e.g. "
                    "'*.csv'; '**/*.csv' also looks in subfolders. Hidden files (a name "
                    "starting with a dot) are never emitted.")
    output: Literal["path", "data"] = Field(
        default="path",
        description="'path': emit each file's absolute path (a str); 'data': emit the file "
                    "read as csv.read or parquet.read would read it (a DataFrame).")
    format: Literal["auto", "csv", "parquet"] = Field(
        default="auto",
        description="With output 'data', how to read the files; 'auto' goes by the file "
                    "name: .csv (also .csv.gz, .csv.zip, ...) or .parquet/.pq.")
    settle: float = Field(
        default=1.0, ge=0,
        description="Seconds a file's size and modification time must stay unchanged "
                    "before it is emitted, so that a file still being written is not read "
                    "half-way. Longer than the longest pause of the slowest writer.")
    existing: bool = Field(
        default=True,
        description="Also emit the files already in the folder when the run starts; "
                    "otherwise only files that appear or change later.")
    poll: float = Field(default=0.5, gt=0, le=3600,
                        description="Seconds between two looks at the folder.")
    max_files: int | None = Field(
        default=None, gt=0,
        description="End after this many files (read or not); leave empty to watch until the "
                    "run is stopped.")

    @field_validator("folder")
    @classmethod
    def _folder_exists(cls, value: str, info: ValidationInfo) -> str:
        if "\x00" in value:
            msg = "the folder holds a NUL character (\\x00), which no file name can hold"
            raise ValueError(msg)
        base = (info.context or {}).get("base_dir")
        folder = Path(value) if not isinstance(base, Path) else (base / value)
        try:
            folder = folder.resolve()
            is_dir = folder.is_dir()
        except (OSError, RuntimeError) as exc:
            msg = f"the folder '{value}' cannot be used: {exc}"
            raise ValueError(msg) from exc
        if not is_dir:
            kind = "is not a folder" if folder.exists() else "does not exist"
            msg = (f"'{value}' {kind} (looked for {folder}); create the folder before "
                   "starting the flow, or fix the path")
            raise ValueError(msg)
        return str(folder)

    @field_validator("pattern")
    @classmethod
    def _pattern_inside(cls, value: str) -> str:
        if not value or value.startswith(("/", "\\")) or ".." in Path(value).parts:
            msg = (f"the pattern '{value}' must name files inside the folder, such as "
                   "'*.csv'; it may not be empty, absolute or go up with '..'")
            raise ValueError(msg)
        return value


def _format_of(path: Path, wanted: str) -> str:
    if wanted != "auto":
        return wanted
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "parquet"
    if ".csv" in suffixes[-2:]:
        return "csv"
    msg = (f"cannot tell how to read {path.name}: its name ends neither in .csv nor in "
           ".parquet; set the param 'format', or narrow 'pattern' to the files to read")
    raise ValueError(msg)


def _read(path: Path, wanted: str) -> pd.DataFrame:
    """Read a file exactly as ``csv.read`` or ``parquet.read`` reads a whole file."""
    import pandas as pd

    kind = _format_of(path, wanted)
    frame = pd.read_csv(path) if kind == "csv" else pd.read_parquet(path)
    frame.attrs[SOURCE_ATTR] = str(path)
    return frame


@component("file.watch", outputs={"data": "Any"}, params=WatchParams, threaded=True,
           category="live")
def watch(*, params: WatchParams) -> Iterator[Any]:
    """Emit each new file in a folder that matches a glob, once, after it stops growing.

    With ``output: path`` each message is the file's absolute path (a str); with
    ``output: data`` it is the file read whole, exactly as ``csv.read`` (or
    ``parquet.read``) reads it: row ``n`` of a CSV file is on line ``n + 2``, and the
    frame's ``attrs["source_file"]`` names the file. Files are emitted oldest first.

    A file is emitted once its size and modification time have stayed the same for
    ``settle`` seconds. The same version of a file is never emitted twice; a file that is
    rewritten later is a new version and is emitted again once it settles. A file that
    cannot be read goes to the ``error`` port with its name and the reason, and the watch
    goes on. The folder is polled every ``poll`` seconds, which works on every filesystem,
    network mounts included.
    """
    folder = Path(params.folder)
    state = FolderWatch(folder, params.pattern, round(params.settle * 1e9))
    if not params.existing:
        state.skip_present()
    emitted = 0
    next_poll = time.monotonic_ns()
    while params.max_files is None or emitted < params.max_files:
        while (now := time.monotonic_ns()) < next_poll:
            time.sleep(min(WAIT_SECONDS, (next_poll - now) / 1e9))
            yield None
        next_poll = now + round(params.poll * 1e9)
        for path in state.poll(now):
            if params.max_files is not None and emitted >= params.max_files:
                break
            emitted += 1
            if params.output == "path":
                yield os.fspath(path)
                continue
            try:
                frame = _read(path, params.format)
            except Exception as exc:  # noqa: BLE001 - any unreadable file is reported
                msg = (f"could not read {path}: {type(exc).__name__}: {exc}; the watch goes "
                       "on, and the file is read again if it is rewritten")
                yield ValueError(msg)  # an error record; the source goes on
            else:
                yield frame
