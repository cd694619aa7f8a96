"""The ``jsonl`` family: write messages as JSON Lines, for example a dead-letter file."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pydantic import Field

from components._files import AtomicOutput
from runtime import Params, component
from runtime.params import output_path


class WriteParams(Params):
    """Settings of ``jsonl.write``."""

    path: str = output_path("The .jsonl file to write; relative to the flow file's folder.")
    index: bool = Field(default=False,
                        description="For DataFrames, add each row's id as the key '_row'.")


def _default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    return str(value)


@component("jsonl.write", inputs={"data": "Any"}, params=WriteParams, threaded=True)
class Write:
    """Write one JSON object per line.

    A DataFrame writes one line per row; an error record, a dict or any other value writes
    one line. The file is replaced atomically when the input ends.
    """

    def __init__(self, params: WriteParams) -> None:
        self.params = params
        self.out = AtomicOutput(params.path)

    def __call__(self, data: Any) -> None:
        """Write one message as one line, or a DataFrame as one line per row."""
        handle = self.out.handle()
        if hasattr(data, "to_json") and hasattr(data, "iloc"):
            frame = data.reset_index(names="_row") if self.params.index else data
            text = frame.to_json(orient="records", lines=True, default_handler=str)
            handle.write(text if text.endswith("\n") or not text else text + "\n")
            return
        if dataclasses.is_dataclass(data) and not isinstance(data, type):
            data = dataclasses.asdict(data)
        elif not isinstance(data, dict):
            data = {"value": data}
        handle.write(json.dumps(data, default=_default) + "\n")

    def end(self) -> None:
        """Move the finished file into place (an empty file if nothing arrived)."""
        self.out.handle()
        self.out.commit()

    def close(self) -> None:
        """Drop an unfinished file if the run ended early."""
        self.out.discard()
