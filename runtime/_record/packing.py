"""Packing a batch of plain ints as one int64 array, with the type check done in C.

Packing ``array("q", values)`` parses every value as a call argument, and checking that
each is a plain ``int`` (not a ``bool``, not an int subclass) takes a second pass over the
values; together they were most of what recording a fast stream of numbers cost.
:mod:`marshal` does both at once: it writes an exact ``int`` of 32 bits as the byte ``i``
and four little-endian bytes, anything else otherwise (``bool`` as ``T``/``F``, a larger
int as ``l``) and refuses int subclasses. So a batch marshals to exactly five bytes a value,
each starting with ``i``, if and only if every value is a plain int of 32 bits, and its
int64 array is then made from those bytes by a few strided copies, with no per-value step
in Python. Any other batch is left to the caller's general path.
"""

from __future__ import annotations

import marshal
import sys
from array import array
from typing import Any

_VERSION = 2
"""The marshal format without references to repeated objects (version 3 and later write a
repeated object as a reference), so every int takes its own five bytes."""
_HEADER = 5
"""A list's type byte and its length."""
_CODES = b"i"
_HIGH = bytes(range(0x80))
"""Bytes that leave an int32's top byte positive (deleted to find the negative ones)."""
_SIGN = bytes([0] * 0x80 + [0xFF] * 0x80)
"""An int32's top byte to the byte that extends its sign to 64 bits."""


def _pack(values: list[Any]) -> bytes | None:
    count = len(values)
    try:
        data = marshal.dumps(values, _VERSION)
    except (ValueError, TypeError, RecursionError):  # a value marshal cannot write
        return None
    if len(data) != _HEADER + 5 * count or data[_HEADER::5] != _CODES * count:
        return None
    out = bytearray(8 * count)
    for byte in range(4):
        out[byte::8] = data[_HEADER + 1 + byte::5]
    top = data[_HEADER + 4::5]
    if top.translate(None, _HIGH):  # some value is negative: extend its sign
        sign = top.translate(_SIGN)
        for byte in range(4, 8):
            out[byte::8] = sign
    return bytes(out)


def _works() -> bool:
    """Whether this interpreter's marshal format and byte order give :func:`_pack`'s bytes."""
    if sys.byteorder != "little":
        return False
    probe = [0, 1, -1, 255, -256, 2**31 - 1, -(2**31), 70_000, -70_000]
    try:
        return _pack(probe) == array("q", probe).tobytes()
    except Exception:  # noqa: BLE001 - any surprise: use the general path
        return False


_WORKS = _works()


def pack_small_ints(values: list[Any]) -> bytes | None:
    """``values`` as int64 bytes if every one is a plain ``int`` of 32 bits, else None.

    A ``bool``, an int subclass, a float or a larger int anywhere gives None, and so does
    an empty batch; the caller then checks types and packs in its general way. The bytes
    are those of ``array("q", values).tobytes()``.
    """
    if not _WORKS or not values or type(values[0]) is not int or type(values[-1]) is not int:
        return None
    return _pack(values)
