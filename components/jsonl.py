"""The ``jsonl`` family: write messages as JSON Lines, for example a dead-letter file."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from pydantic import Field

from components._files import AtomicOutput
from runtime import Params, component, loaded_type, output_path


class WriteParams(Params):
    """Settings of ``jsonl.write``."""

    path: str = output_path("The .jsonl file to write; relative to the flow file's folder.")
    index: bool = Field(default=False,
                        description="For DataFrames, add each row's id as the key '_row'.")


def _plain(value: Any) -> Any:
    """Turn a value into strict JSON types: NaN and infinities become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and hasattr(value, "index"):
        return _plain(to_dict())
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _plain(tolist())
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    return str(value)


@component("jsonl.write", inputs={"data": "Any"}, params=WriteParams, threaded=True)
class Write:
    """Write one JSON object per line.

    A DataFrame writes one line per row; an error record, a dict or any other value writes
    one line. The file is replaced atomically when the input ends, and only if every
    message was written. If any message fails (a full disk, say), nothing more is written,
    the file already at ``path`` stays exactly as it was, and the lines written so far are
    kept as ``<path>.partial`` next to it; the error says so. A stopped or aborted run keeps
    nothing. Only a regular file is ever replaced: a device such as ``/dev/null``, a folder
    or a pipe is refused.
    """

    def __init__(self, params: WriteParams) -> None:
        self.params = params
        self.out = AtomicOutput(params.path)

    def __call__(self, data: Any) -> None:
        """Write one message as one line, or a DataFrame as one line per row."""
        with self.out.firing():
            frame_type = loaded_type("pandas", "DataFrame")
            if frame_type is not None and isinstance(data, frame_type):
                frame = data.reset_index(names="_row") if self.params.index else data
                text = frame.to_json(orient="records", lines=True, date_format="iso",
                                     default_handler=str)
                if text and not text.endswith("\n"):
                    text += "\n"
            else:
                plain = _plain(data)
                if not isinstance(plain, dict):
                    plain = {"value": plain}
                text = json.dumps(plain, allow_nan=False) + "\n"
            self.out.handle().write(text)

    def end(self) -> None:
        """Move the finished file into place (an empty file if nothing arrived).

        If a message failed, the file is not replaced and this raises.
        """
        self.out.finish()

    def close(self) -> None:
        """Drop an unfinished file if the run ended early."""
        self.out.discard()
