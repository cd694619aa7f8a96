"""Which batches pass their parent batch's values on unchanged, found without a per-value loop.

A 1:1 stage that hands its inputs on (``stream.identity``, a filter that keeps everything)
makes a batch whose values are the very objects of its parent batch. The recorder points such
a batch at the bytes already written for the parent instead of writing them again. Equality is
not enough for that, since ``1.0 == 1`` and ``True == 1``; identity is, and on CPython it is
checked by comparing the two lists' item addresses as bytes, in one go instead of a loop over
the values, which would cost more than all the rest of recording a batch. The child's item
array is compared where it lies, without a copy, and a batch passed on shares its parent's
copy of the addresses.
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


_read_pointer = ctypes.c_void_p.from_address
_VIEWS: dict[int, Any] = {}
"""Byte array types of ctypes by size, to view an item array in place (batches mostly have
one of a few sizes)."""
MAX_VIEWS = 64


def _holds(values: list[Any], addresses: bytes) -> bool:
    """Whether ``values`` holds exactly the objects at ``addresses``, compared in place.

    The list's item array is compared with ``addresses`` as it lies in memory (``startswith``
    takes any buffer and compares with ``memcmp``), without copying it first.
    """
    size = len(addresses)
    if len(values) * _POINTER != size:
        return False
    if not size:
        return True
    view = _VIEWS.get(size)
    if view is None:
        view = ctypes.c_char * size
        if len(_VIEWS) < MAX_VIEWS:
            _VIEWS[size] = view
    items = _read_pointer(id(values) + _ITEMS_AT).value or 0
    return addresses.startswith(view.from_address(items))


class _Shared:
    """Remembered batches that hold the very same objects.

    It says where they are written and what their item addresses are, and holds one list
    of them, so that they stay alive.
    """

    __slots__ = ("values", "addresses", "where", "members")

    def __init__(self, values: list[Any], addresses: bytes | None,
                 where: tuple[Any, ...]) -> None:
        self.values = values
        self.addresses = addresses
        self.where = where
        self.members = 0


class RecentBatches:
    """The last batches of plain values written, by first id, with where their bytes are.

    The objects of every remembered batch are held, so an address seen again is the same
    object, never a new one made where a freed one was. Batches passed on unchanged share
    one entry of what they hold (:class:`_Shared`), which holds only the newest of their
    lists: a batch's list is never changed once made, and the others are freed as the run
    drops them, while they are still in the processor's cache, not when the budget lets
    them go.
    """

    def __init__(self, budget: int = RECENT_VALUES) -> None:
        self.budget = budget
        self._held = 0
        self._batches: collections.OrderedDict[int, tuple[range, _Shared, int]] = (
            collections.OrderedDict())
        self._sharing: dict[int, _Shared] = {}
        """Shared entries by the ``id`` of their addresses, which their members share."""

    def _parent(self, parents: range, count: int) -> _Shared | None:
        entry = self._batches.get(parents.start)
        if entry is None or entry[0] != parents or entry[2] != count:
            return None
        return entry[1]

    def passed_on(self, parents: range, values: list[Any],
                  addresses: bytes | None) -> tuple[Any, ...] | None:
        """Where the parent batch's bytes are, if ``values`` are its very objects.

        ``addresses`` are those of ``values`` (:func:`item_addresses`), read once by the
        caller and given to :meth:`remember` too.
        """
        shared = self._parent(parents, len(values))
        if shared is None:
            return None
        same = (shared.addresses == addresses if addresses is not None
                else all(map(operator.is_, shared.values, values)))
        return shared.where if same else None

    def passed_on_from(self, parents: range, values: list[Any],
                       ) -> tuple[tuple[Any, ...], bytes | None] | None:
        """Where the parent batch's bytes are, with its item addresses, if ``values`` are them.

        As :meth:`passed_on`, but the addresses of ``values`` are not read first: the list
        is compared in place with its parent's addresses, which it then shares (give them
        to :meth:`remember`, with the place returned).
        """
        entry = self._batches.get(parents.start)
        if entry is None or entry[0] != parents or entry[2] != len(values):
            return None
        shared = entry[1]
        addresses = shared.addresses
        if addresses is None:
            same = all(map(operator.is_, shared.values, values))
        else:
            same = _holds(values, addresses)
        return (shared.where, addresses) if same else None

    def remember(self, ids: range, values: list[Any], where: tuple[Any, ...],
                 addresses: bytes | None) -> None:
        """Keep a written batch to compare its children with; forget the oldest past budget.

        A batch given the place and addresses that :meth:`passed_on_from` found shares its
        parent's entry.
        """
        batches = self._batches
        shared = None if addresses is None else self._sharing.get(id(addresses))
        if shared is not None and shared.addresses is addresses and shared.where is where:
            shared.values = values  # the very same objects; the older list is let go
        else:
            shared = _Shared(values, addresses, where)
            if addresses is not None:
                self._sharing[id(addresses)] = shared
        shared.members += 1
        count = len(values)
        if ids.start in batches:
            self._forget(batches.pop(ids.start))
        batches[ids.start] = (ids, shared, count)
        self._held += count
        while self._held > self.budget and len(batches) > 1:
            self._forget(batches.popitem(last=False)[1])

    def _forget(self, entry: tuple[range, _Shared, int]) -> None:
        _ids, shared, count = entry
        self._held -= count
        shared.members -= 1
        if not shared.members and shared.addresses is not None and \
                self._sharing.get(id(shared.addresses)) is shared:
            del self._sharing[id(shared.addresses)]
