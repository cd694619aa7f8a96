"""The ``stream`` family: make, pass, pace, split, gather and count streams of messages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from runtime import STATEFUL_TAG, Params, component, latest, same_columns

if TYPE_CHECKING:
    import pandas as pd


class RangeParams(Params):
    """Settings of ``stream.range``."""

    count: int = Field(ge=0, description="How many integers to emit.")
    start: int = Field(default=0, description="The first integer.")


@component("stream.range", outputs={"data": "int"}, params=RangeParams)
def range_(*, params: RangeParams) -> Iterator[int]:
    """Emit the integers start, start+1, … as a stream of ``count`` messages."""
    yield from range(params.start, params.start + params.count)


@component("stream.identity", inputs={"data": "Any"}, outputs={"data": "Any"},
           columns=same_columns())
def identity(data: Any) -> Any:
    """Pass every message on unchanged."""
    return data


class ThrottleParams(Params):
    """Settings of ``stream.throttle``."""

    rows_per_second: float = Field(
        gt=0, description="The pace: rows of a DataFrame (or messages of anything else) "
                          "passed on per second, at most.")
    delay_seconds: float = Field(
        default=0.0, ge=0,
        description="Wait this long before passing on the first message, as labels "
                    "arrive some time after the rows they grade.")


@component("stream.throttle",
           inputs={"data": "Any",
                   "start": latest("Any", "When connected, nothing goes on, and the clock "
                                          "does not start, before it has a value: wire the "
                                          "model that scores the stream to it, so the play "
                                          "starts once the model is ready.", required=False)},
           outputs={"data": "Any"}, params=ThrottleParams, threaded=True,
           columns=same_columns(), tags=[STATEFUL_TAG])
class Throttle:
    """Pass every message on unchanged, no faster than ``rows_per_second``.

    Plays a file at the pace of a live stream: a message whose first row is row ``n`` of
    the stream goes on ``delay_seconds + n / rows_per_second`` seconds after the first
    message arrived (after ``start`` got its value, when it is connected), or as soon as
    it arrives when it is late. Time spent downstream does not add up: the pace is kept
    against the clock, not per message.
    """

    def __init__(self, params: ThrottleParams) -> None:
        self.params = params
        self.start: float | None = None
        self.rows = 0

    def __call__(self, data: Any, start: Any = None) -> Any:
        """Wait until the message is due, then pass it on."""
        now = time.monotonic()
        if self.start is None:
            self.start = now + self.params.delay_seconds
        due = self.start + self.rows / self.params.rows_per_second
        if due > now:
            time.sleep(due - now)
        self.rows += _rows(data)
        return data


def _rows(data: Any) -> int:
    """Rows of a DataFrame; 1 for any other message."""
    if type(data).__name__ == "DataFrame" and hasattr(data, "shape"):
        return int(data.shape[0])
    return 1


class ChunksParams(Params):
    """Settings of ``stream.chunks``."""

    rows: int = Field(gt=0, description="Rows per chunk.")


@component("stream.chunks", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=ChunksParams, columns=same_columns())
def chunks(data: pd.DataFrame, *, params: ChunksParams) -> Iterator[pd.DataFrame]:
    """Split each DataFrame into chunks of at most ``rows`` rows, keeping the row ids."""
    for start in range(0, len(data), params.rows):
        yield data.iloc[start:start + params.rows]


@component("stream.collect", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           columns=same_columns())
class Collect:
    """Concatenate a stream of DataFrames; emit one DataFrame when the stream ends."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

    def __call__(self, data: pd.DataFrame) -> None:
        """Keep one DataFrame until the stream ends."""
        self.parts.append(data)

    def end(self) -> pd.DataFrame | None:
        """Emit everything received, as one DataFrame with the original row ids."""
        if not self.parts:
            return None
        import pandas as pd

        return pd.concat(self.parts)


class CountParams(Params):
    """Settings of ``stream.count``."""

    unit: Literal["messages", "rows"] = Field(
        default="messages",
        description="What to count: 'messages', or 'rows', the rows of the DataFrames "
                    "received (a message that is not a DataFrame is an error record and "
                    "is not counted).")


@component("stream.count", inputs={"data": "Any"}, outputs={"count": "int"}, params=CountParams)
class Count:
    """Count the messages (or DataFrame rows) received; emit the count when the input ends.

    With ``unit: rows``, each DataFrame adds its number of rows (``len``). Any other
    message gives an error record naming its type, and is not counted: rows of other
    things would make the count mean nothing. The count is emitted even then.
    """

    def __init__(self, params: CountParams) -> None:
        self.n = 0
        self.rows = params.unit == "rows"

    def __call__(self, data: Any) -> None:
        """Count one message, or its rows."""
        if not self.rows:
            self.n += 1
            return
        import pandas as pd

        if not isinstance(data, pd.DataFrame):
            msg = (f"stream.count with unit 'rows' counts DataFrame rows, but got a message "
                   f"of type {type(data).__name__}; use unit 'messages' to count messages")
            raise TypeError(msg)
        self.n += len(data)

    def end(self) -> int:
        """Emit how many messages, or rows, arrived."""
        return self.n
