"""Message envelopes, error records, and the end-of-stream marker that travel along edges."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


class IdRanges:
    """Many message ids kept as ranges: the parents of a message built from a whole stream.

    ``stream.collect`` emits one DataFrame made of every message it received; its parents
    are all of them, which this stores in a few ranges instead of millions of ints.
    """

    __slots__ = ("ranges",)

    def __init__(self, ranges: Sequence[range]) -> None:
        self.ranges = tuple(ranges)

    def __iter__(self) -> Iterator[int]:
        """Every id, in order."""
        for part in self.ranges:
            yield from part

    def __len__(self) -> int:
        """How many ids."""
        return sum(len(part) for part in self.ranges)

    def __contains__(self, item: object) -> bool:
        """Whether an id is one of these."""
        return any(item in part for part in self.ranges)

    def __eq__(self, other: object) -> bool:
        """Equal to another IdRanges or a tuple holding the same ids."""
        if isinstance(other, IdRanges | tuple):
            # lengths first: comparing with () must not spell out millions of ids
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        """Hash like the tuple of the same ids."""
        return hash(tuple(self))

    def __repr__(self) -> str:
        """Show the ranges compactly."""
        parts = [f"{r.start}..{r.stop - 1}" if len(r) > 1 else str(r.start) for r in self.ranges]
        return f"IdRanges({', '.join(parts)})"


Parents = int | tuple[int, ...] | IdRanges


class MadeOnPort:
    """Something made on an output port, named ``node.port`` in ``origin``."""

    __slots__ = ()
    origin: str

    @property
    def node(self) -> str:
        """The node that made this message."""
        return self.origin.split(".", 1)[0]

    @property
    def port(self) -> str:
        """The output port that made this message."""
        return self.origin.split(".", 1)[1]


class Envelope(MadeOnPort):
    """One message: its id, the ids it was computed from, where it was made, and its value.

    Lineage is always on and costs only ids: ``parents`` holds the ids of the input
    messages of the firing that produced this one (empty for a source).
    """

    __slots__ = ("id", "parents", "origin", "value")

    def __init__(self, id: int, parents: tuple[int, ...] | IdRanges, origin: str,
                 value: Any) -> None:
        self.id = id
        self.parents = parents
        self.origin = origin
        self.value = value

    def __repr__(self) -> str:
        """Show the id, origin and parents, and a short form of the value."""
        text = repr(self.value)
        if len(text) > 60:
            text = text[:57] + "..."
        return f"Envelope(#{self.id} from {self.origin}, parents={self.parents}, {text})"


class Batch:
    """Consecutive messages from one output port, stored column by column.

    Engines move batches, not single envelopes, so that a hop costs next to nothing per
    message. ``ids[i]``, ``parents[i]`` and ``values[i]`` describe message ``i``; a parent
    entry is one id (the common one-in, one-out case) or a tuple of ids.
    """

    __slots__ = ("origin", "ids", "parents", "values")

    def __init__(self, origin: str, ids: Sequence[int], parents: Sequence[Parents],
                 values: list[Any]) -> None:
        self.origin = origin
        self.ids = ids
        self.parents = parents
        self.values = values

    def __len__(self) -> int:
        """How many messages the batch holds."""
        return len(self.values)

    def parents_of(self, index: int) -> tuple[int, ...] | IdRanges:
        """The parent ids of message ``index``, as a tuple (or IdRanges, for many)."""
        parents = self.parents[index]
        return (parents,) if isinstance(parents, int) else parents

    def envelope(self, index: int) -> Envelope:
        """Message ``index`` as an Envelope."""
        return Envelope(self.ids[index], self.parents_of(index), self.origin,
                        self.values[index])

    def __iter__(self) -> Iterator[Envelope]:
        """Every message of the batch, as Envelopes."""
        return (self.envelope(i) for i in range(len(self.values)))

    def __repr__(self) -> str:
        """Show the origin and the id range."""
        if not self.values:
            return f"Batch({self.origin}, empty)"
        return f"Batch({self.origin}, #{self.ids[0]}..#{self.ids[-1]}, {len(self)} messages)"


def exception_text(exc: BaseException) -> str:
    """What an exception says, for an error record.

    ``str()`` of a KeyError is the repr of its argument, made for a missing key (``'x3'``);
    a KeyError raised with a sentence (the model needs columns the data lacks) is given
    as written, not in quotes.
    """
    if (isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str)
            and " " in exc.args[0]):
        return exc.args[0]
    return str(exc)


@dataclass
class ErrorRecord:
    """What a node's ``error`` port emits when its component raised on a firing."""

    node: str
    component: str
    error: str
    message: str
    inputs: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the record as a JSON-able dict."""
        return asdict(self)

    def __str__(self) -> str:
        """One line for terminals and logs."""
        return f"node '{self.node}' ({self.component}): {self.error}: {self.message}"


@dataclass(frozen=True)
class MadeFrom:
    """A value a component emits together with the messages it was made from.

    An output's parents are, by default, the inputs of the call that made it. A
    component that gathers over many calls (a window of graded rows, say) returns
    ``MadeFrom(value, ids)`` instead, with the ids of every message the value came from
    (``runtime.call_context()`` gives each call's ids, so such a component carries the
    ``call-context`` tag), so that ``trace`` walks back to all of them and not only to
    the message that completed the window.
    """

    value: Any
    messages: tuple[int, ...]


class _End:
    """Marks the end of the stream on one edge."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END"


END = _End()


class Counted(Batch):
    """A batch of which only where it was made and how many messages it held are kept.

    A worker holds what it did until it reports it; when no hook is handed batches, it
    keeps only this, which reporting counts (``len``) but hands to no hook. It holds no ids,
    parents or values (``values`` is empty): a slice of many small messages leaves the
    garbage collector one object a batch to carry into its older generations, not three,
    and the full collections that such objects bring on scan the whole heap each time.
    """

    __slots__ = ()

    def __init__(self, origin: str, count: int) -> None:
        super().__init__(origin, range(count), (), _NO_VALUES)

    def __len__(self) -> int:
        """How many messages the batch held."""
        return len(self.ids)


_NO_VALUES: list[Any] = []  # shared by every Counted: never changed
