"""What one run's firings share and collect: message ids, and each firing's emissions.

``RunContext`` hands out message ids (under a lock, since rules fire in several threads at
once) and holds what every node of a run shares. ``Collector`` gathers one firing's
emissions per output port and turns them into batches with fresh ids.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from runtime._messages import Batch, ErrorRecord, MadeFrom, Parents
from runtime._registry import Emission

Outputs = dict[str, Batch]


class RunContext:
    """What every node of one run shares: message ids, the fail-fast switch, the first error.

    Ids are handed out under a lock, so rules may fire in several threads at once.
    """

    def __init__(self, *, fail_fast: bool = False, run_id: str | None = None,
                 first_id: int = 1) -> None:
        self.next_id = first_id  # another engine's process hands out its own range
        self._lock = threading.Lock()
        self.fail_fast = fail_fast
        self.run_id = run_id
        self.first_error: ErrorRecord | None = None

    def alloc(self, count: int) -> range:
        """Reserve ``count`` consecutive message ids."""
        with self._lock:
            first = self.next_id
            self.next_id += count
        return range(first, first + count)


class Collector:
    """Gathers one firing's emissions per output port, then turns them into batches."""

    __slots__ = ("values", "parents")

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = {}
        self.parents: dict[str, list[Parents]] = {}

    def add(self, port: str, value: Any, parents: Parents) -> None:
        """Keep one emission of ``port`` and the parents of the call that made it.

        A ``MadeFrom`` value brings its own parents: the messages it was made from.
        """
        if type(value) is MadeFrom:
            value, parents = value.value, tuple(sorted(set(value.messages))) or parents
        if port not in self.values:
            self.values[port] = []
            self.parents[port] = []
        self.values[port].append(value)
        self.parents[port].append(parents)

    def add_all(self, emissions: Iterator[Emission], parents: Parents) -> None:
        """Keep every ``(port, value)`` emission, all with the same parents."""
        for port, value in emissions:
            self.add(port, value, parents)

    def batches(self, origins: dict[str, str], context: RunContext) -> Outputs:
        """One batch per port, with fresh message ids."""
        return {port: Batch(origins[port], context.alloc(len(values)), self.parents[port],
                            values)
                for port, values in self.values.items()}
