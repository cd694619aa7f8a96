"""The ``debug`` family: a sink whose input the host shows (editor panel or terminal)."""

from __future__ import annotations

from typing import Any

from runtime import DISPLAY_TAG, component


@component("debug", inputs={"data": "Any"}, tags=[DISPLAY_TAG], category="output")
def debug(data: Any) -> None:
    """Show every message received: in the editor's debug panel, or on stdout when headless.

    The host watches the edges into this node through the runtime's taps; the node itself
    only consumes its input.
    """
