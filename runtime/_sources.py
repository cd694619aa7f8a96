"""Source pumping: start a source node and take its messages in slices, engine-neutrally.

A source (a node with no inputs) is called once; its result is an iterator that the engine
pulls from in slices, each slice becoming one output batch. A plain source gives up to
``limit`` messages or what it made in ``seconds``. A threaded source (heavy messages: file
chunks, frames) hands over each message as soon as it exists, and is only pulled when the
engine has room downstream, so read-ahead is a few messages, never a growing buffer (the
node it feeds may take several at once when its work is quick: ``take``, ``_feeding``). A
threaded source that waits for something (a request, a file, a tick) yields ``None`` while it
waits, at least every tenth of a second; each ``None`` hands control back to the engine, so a
stop is never held up by a source that has nothing to say. A threaded source that goes on
after a failure (a bad file among good ones) yields the exception instead of raising it: it
becomes an error record on the ``error`` port, and the source keeps running.
Batches are also cut at ``MAX_BATCH_ROWS`` rows of DataFrame-like values, so read-ahead
is bounded in rows, not only in messages.
"""

from __future__ import annotations

import itertools
import operator
import time
from collections.abc import Iterator
from typing import Any

from runtime._collector import Collector, Outputs
from runtime._firing import NO_PARENTS, FailFast, FiringRule, InitFailed
from runtime._messages import Batch

MAX_BATCH_ROWS = 100_000


def yields_values(rule: FiringRule) -> bool:
    """Whether the source is a generator with one output: what it yields are its messages.

    Any other source gives ``(port, value)`` emissions.
    """
    return rule.single_output is not None and rule.spec.is_generator


def first_call(rule: FiringRule) -> Iterator[Any]:
    """Start a source: call it once, and return its values (or emissions) iterator.

    Raises:
        InitFailed: The component could not be built (the cause is chained).
    """
    rule.fired += 1
    if rule.instance is None:
        raise InitFailed() from rule.init_error
    result = rule.instance.call(**dict.fromkeys(rule.unconnected))
    if yields_values(rule):
        return iter(result)
    return rule.instance.emissions(result)


def start_failed(rule: FiringRule, exc: Exception) -> Outputs:
    """The error record of a source whose first call raised."""
    failed = Collector()
    rule.fail(exc, NO_PARENTS, failed)
    return rule.batches(failed)


def _rows(value: Any) -> int:
    """Rows of a DataFrame-like value (anything with a ``shape``), else one."""
    shape = getattr(value, "shape", None)
    return int(shape[0]) if shape else 1


def pull(rule: FiringRule, stream: Iterator[Any], limit: int,
         seconds: float) -> tuple[Outputs, bool]:
    """Take the next slice of a source's messages; say whether the source is exhausted.

    Args:
        rule: The source node's firing rule.
        stream: What :func:`first_call` returned.
        limit: The most messages in the slice.
        seconds: How long to keep pulling before handing the slice over; a threaded
            source hands over every message as soon as it exists.

    Returns:
        The output batches of the slice, and whether the source ended.
    """
    raw = yields_values(rule)
    if raw and rule.spec.threaded:
        return take(rule, stream)
    clock = time.perf_counter
    deadline = clock() + seconds
    items: list[Any] = []
    exhausted = True
    rows = 0
    counts_rows: bool | None = None
    error: Exception | None = None
    failures: list[Exception] = []
    threaded = rule.spec.threaded
    try:
        while len(items) < limit:
            # Frames and threaded messages one at a time (so rows and waiting are
            # bounded); plain values in slices of up to 64.
            size = 1 if threaded or counts_rows is not False else min(64, limit - len(items))
            before = len(items)
            items.extend(itertools.islice(stream, size))  # keeps what came before a raise
            if len(items) - before < size:
                break
            if threaded and items[-1] is None:
                # Nothing to hand over yet: a source that waits (for a request, a file, a
                # tick) yields None now and then, so the engine can stop or drain it.
                items.pop()
                exhausted = False
                break
            if threaded and isinstance(items[-1], Exception):
                failures.append(items.pop())  # yielded, not raised: the source goes on
                exhausted = False
                break
            if counts_rows is None:  # frames are cut by rows; plain values are not counted
                counts_rows = getattr(items[0] if raw else items[0][1], "shape", None) is not None
            if counts_rows:
                rows += sum(_rows(v if raw else v[1]) for v in items[before:])
            if threaded or rows >= MAX_BATCH_ROWS or clock() > deadline:
                exhausted = False
                break
        else:
            exhausted = False
    except FailFast:
        raise
    except Exception as exc:  # noqa: BLE001 - a source's failure ends it, contained
        error = exc
    out = Collector()
    for failure in failures:
        rule.fail(failure, NO_PARENTS, out)
    if not raw:
        for port, value in items:
            out.add(port, value, NO_PARENTS)
    if error is not None:
        rule.fail(error, NO_PARENTS, out)
    batches = rule.batches(out)
    if raw and any(map(operator.is_, items, itertools.repeat(None))):
        items = [v for v in items if v is not None]
    if raw and items:
        port = rule.single_output
        assert port is not None  # noqa: S101 - raw implies one output
        batches[port] = Batch(rule.origins[port], rule.context.alloc(len(items)),
                              [NO_PARENTS] * len(items), items)
    return batches, exhausted


_ENDED = object()


def take(rule: FiringRule, stream: Iterator[Any], most: int = 1, rows: int = MAX_BATCH_ROWS,
         seconds: float = 0.0) -> tuple[Outputs, bool]:
    """``pull`` for a threaded generator with one output: its next messages, as they exist.

    Takes up to ``most`` messages, while they come within ``seconds`` and come to fewer than
    ``rows`` rows, and stops at the source's end, at nothing yet (``None``) and at a failure
    (an exception yielded, after which the source goes on, or raised, which ends it); what
    was taken before a failure comes first. With ``most=1``, the same as the general loop
    gives such a source (one message a slice), without its bookkeeping for slices.

    Returns:
        The output batches, and whether the source ended.
    """
    values: list[Any] = []
    failure: Exception | None = None
    ended = False
    clock = time.perf_counter
    deadline = clock() + seconds
    counted = 0
    while True:
        try:
            value = next(stream, _ENDED)
        except FailFast:
            raise
        except Exception as exc:  # noqa: BLE001 - a source's failure ends it, contained
            failure, ended = exc, True
            break
        if value is _ENDED:
            ended = True
            break
        if value is None:
            break
        if isinstance(value, Exception):  # yielded, not raised: the source goes on
            failure = value
            break
        values.append(value)
        if len(values) >= most:
            break
        counted += _rows(value)
        if counted >= rows or clock() >= deadline:
            break
    out: Outputs = {}
    if values:
        port = rule.single_output
        assert port is not None  # noqa: S101 - checked by the caller
        out[port] = Batch(rule.origins[port], rule.context.alloc(len(values)),
                          [NO_PARENTS] * len(values), values)
    if failure is not None:
        failed = Collector()
        rule.fail(failure, NO_PARENTS, failed)
        out.update(rule.batches(failed))
    return out, ended
