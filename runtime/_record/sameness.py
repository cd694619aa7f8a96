"""Which batches pass their parent batch's values on unchanged, found without a per-value loop.

A 1:1 stage that hands its inputs on (``stream.identity``, a filter that keeps everything)
makes a batch whose values are the very objects of its parent batch. The recorder points such
a batch at the bytes already written for the parent instead of writing them again. Equality is
not enough for that, since ``1.0 == 1`` and ``True == 1``; identity is, and on CPython it is
checked by comparing the two lists' item addresses as bytes, in one go instead of a loop over
the values, which would cost more than all the rest of recording a batch.
"""

from __future__ import annotations

import collections
import ctypes
import operator
import struct
import sys
from typing import Any

RECENT_VALUES = 1 << 16
"""Values of the recent batches kept to compare with: a parent is almost always the batch
just before its child, and holding more keeps objects alive that the run would reuse."""

_POINTER = ctypes.sizeof(ctypes.c_void_p)
# where a CPython list keeps the address of its item array: after ob_refcnt, ob_type, ob_size
_ITEMS_AT = 3 * _POINTER


def _read_addresses(values: list[Any]) -> bytes:
    """The addresses of a list's items, read from the list itself (CPython's layout)."""
    if not values:
        return b""
    items = ctypes.c_void_p.from_address(id(values) + _ITEMS_AT).value or 0
    return ctypes.string_at(items, len(values) * _POINTER)


def _layout_known() -> bool:
    """Whether this interpreter lays lists out as :func:`_read_addresses` reads them."""
    if sys.implementation.name != "cpython":
        return False
    probe = [object(), object(), object()]
    return _read_addresses(probe) == struct.pack(f"{len(probe)}P", *map(id, probe))


_LAYOUT_KNOWN = _layout_known()


def item_addresses(values: list[Any]) -> bytes | None:
    """The item addresses of ``values`` as bytes, or None where they cannot be read."""
    return _read_addresses(values) if _LAYOUT_KNOWN else None


class RecentBatches:
    """The last batches of plain values written, by first id, with where their bytes are.

    Each entry holds its values, so their objects stay alive and an address seen again is
    the same object, never a new one made where a freed one was.
    """

    def __init__(self, budget: int = RECENT_VALUES) -> None:
        self.budget = budget
        self._held = 0
        self._batches: collections.OrderedDict[
            int, tuple[range, list[Any], bytes | None, tuple[Any, ...]]] = (
            collections.OrderedDict())

    def passed_on(self, parents: range, values: list[Any],
                  addresses: bytes | None) -> tuple[Any, ...] | None:
        """Where the parent batch's bytes are, if ``values`` are its very objects.

        ``addresses`` are those of ``values`` (:func:`item_addresses`), read once by the
        caller and given to :meth:`remember` too.
        """
        entry = self._batches.get(parents.start)
        if entry is None or entry[0] != parents or len(entry[1]) != len(values):
            return None
        same = (entry[2] == addresses if addresses is not None
                else all(map(operator.is_, entry[1], values)))
        return entry[3] if same else None

    def remember(self, ids: range, values: list[Any], where: tuple[Any, ...],
                 addresses: bytes | None) -> None:
        """Keep a written batch to compare its children with; forget the oldest past budget."""
        batches = self._batches
        batches[ids.start] = (ids, values, addresses, where)
        self._held += len(values)
        while self._held > self.budget and len(batches) > 1:
            _first, (_ids, old, _addresses, _where) = batches.popitem(last=False)
            self._held -= len(old)
