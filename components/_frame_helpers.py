"""Shared frame checks (column look-ups, a node's input frames) and the join of ``frame_ops``."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from runtime import plain

if TYPE_CHECKING:
    import pandas as pd

AGGREGATIONS: Final = ("sum", "mean", "median", "min", "max", "count", "size", "std", "var",
                       "first", "last", "nunique")
"""The function names ``frame.groupby`` accepts, each passed to pandas by name."""

Aggregation = Literal["sum", "mean", "median", "min", "max", "count", "size", "std", "var",
                      "first", "last", "nunique"]
JoinHow = Literal["left", "inner", "right", "outer"]
RIGHT_ONLY_PREFIX: Final = "right:"
"""Rows of a join that only ``right`` has get the id ``right:<their id in right>``."""


class MissingColumnError(LookupError):
    """A param names a column (or index level) that the DataFrame does not have."""


def shown(data: pd.DataFrame, *, levels: bool = False) -> str:
    """The columns of ``data`` (and its named index levels), for an error message."""
    columns = ", ".join(map(str, data.columns)) or "none"
    text = f"columns: {columns}"
    names = [str(n) for n in data.index.names if n is not None]
    if levels:
        text += f"; named row-id levels: {', '.join(names)}" if names else \
            "; the row ids have no name"
    return plain(text)


def require(data: pd.DataFrame, names: Iterable[Hashable], what: str, *,
            levels: bool = False, frame: str = "the DataFrame") -> None:
    """Raise if a name is neither a column of ``data`` nor (with ``levels``) an index name.

    Raises:
        MissingColumnError: Its message names the missing name(s), the param they come from
            and what ``data`` has instead.
    """
    known: set[Hashable] = set(data.columns)
    if levels:
        known |= {n for n in data.index.names if n is not None}
    missing = [n for n in names if n not in known]
    if missing:
        listed = ", ".join(repr(m) for m in missing)
        msg = (f"{what}: no column {listed} in {frame} "
               f"({shown(data, levels=levels)})")
        raise MissingColumnError(plain(msg))


def input_frame(value: Any, component: str, port: str, needed: Iterable[Hashable] = (), *,
                what: str = "", fix: str = "") -> pd.DataFrame:
    """``value``, checked to be a DataFrame holding every ``needed`` column.

    Args:
        value: What arrived on the input.
        component: The component's id, to name the input (``ml.drift``).
        port: The input's name.
        needed: The columns the component reads from it.
        what: What the input carries, said when it is no DataFrame ("the training rows").
        fix: What to do when columns are missing ("connect ml.drift's report").

    Raises:
        TypeError: ``value`` is not a DataFrame.
        KeyError: columns are missing; the message names the input, the missing columns,
            the columns there are, and ``fix``.
    """
    import pandas as pd

    if not isinstance(value, pd.DataFrame):
        carries = f" ({what})" if what else ""
        msg = (f"{component}'s '{port}' input needs a DataFrame{carries}, not "
               f"{type(value).__name__}")
        raise TypeError(msg)
    missing = [c for c in needed if c not in value.columns]
    if missing:
        msg = f"{component}'s '{port}' input lacks column(s) {missing} ({shown(value)})"
        raise KeyError(plain(f"{msg}; {fix}" if fix else msg))
    return value


def as_list(value: str | Sequence[str] | None) -> list[str]:
    """A column param given as one name or a list, as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _free_name(base: str, *frames: pd.DataFrame) -> str:
    taken = {c for f in frames for c in (*f.columns, *f.index.names)}
    name = base
    while name in taken:
        name = f"_{name}"
    return name


def join_frames(left: pd.DataFrame, right: pd.DataFrame, *, on: list[str], how: JoinHow,
                suffixes: tuple[str, str]) -> pd.DataFrame:
    """``left.merge(right, ...)`` with the row ids of ``left`` put back.

    pandas' merge numbers the rows from 0; here a row that comes from a left row keeps that
    row's id (repeated when several right rows match it), and a row only ``right`` has gets
    ``right:<its id in right>``. An empty ``on`` joins on the row ids.

    Raises:
        MissingColumnError: A key is missing from ``left`` or ``right``.
        ValueError: The ids would clash, or pandas refused the join.
    """
    import numpy as np
    import pandas as pd

    require(left, on, "join key", levels=True, frame="left")
    require(right, on, "join key", levels=True, frame="right")
    left_row = _free_name("__left_row__", left, right)
    right_row = _free_name("__right_row__", left, right)
    tagged_left = left.assign(**{left_row: np.arange(len(left))})
    tagged_right = right.assign(**{right_row: np.arange(len(right))})
    keys: dict[str, Any] = {"on": on} if on else {"left_index": True, "right_index": True}
    try:
        merged = tagged_left.merge(tagged_right, how=how, suffixes=suffixes, **keys)
    except Exception as exc:
        msg = f"join failed: {type(exc).__name__}: {plain(exc)}"
        raise ValueError(msg) from exc
    from_left = merged.pop(left_row)
    from_right = merged.pop(right_row)
    if from_left.notna().all():
        index = left.index.take(from_left.to_numpy(dtype=np.int64))
    else:
        only_right = from_left.isna().to_numpy()
        new_ids = {f"{RIGHT_ONLY_PREFIX}{right.index[int(j)]}" for j in from_right[only_right]}
        clash = sorted(new_ids & {label for label in left.index if isinstance(label, str)})
        if clash:
            msg = (f"rows only in right would get the id(s) {clash[:5]}, which left uses "
                   f"already; give left other row ids, or join with how='left' or 'inner'")
            raise ValueError(plain(msg))
        labels = [f"{RIGHT_ONLY_PREFIX}{right.index[int(j)]}" if alone else left.index[int(i)]
                  for i, j, alone in zip(from_left, from_right, only_right, strict=True)]
        index = pd.Index(labels, dtype=object, name=left.index.name, tupleize_cols=False)
    merged.index = index
    return merged
