"""Text from flow files and data made safe to print: no raw control or escape sequences."""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 controls (0x80-0x9f), which some
# terminals read as the start of an escape sequence.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object) -> str:
    r"""``text`` as a string with every control character shown as a visible escape.

    Tabs and newlines are kept; anything else a terminal could act on (ESC, BEL, backspace,
    carriage return, C1 codes) becomes ``\x1b``-style text, so a flow file or a data value
    can never move the cursor, recolour the terminal or retitle the window.
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def excerpt(value: object, limit: int = 200) -> str:
    """The ``repr`` of a value, cut to about ``limit`` characters with its full length said.

    Problem messages quote what the user gave; a 200,000-term query or a huge list must not
    turn one line of a message into megabytes.
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters in all)"
