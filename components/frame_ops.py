"""More of the ``frame`` family: assign, join, group-by, sort, missing values, dummies, rename.

Each component is one pandas call, and gives exactly what that call gives. Row ids (the
index) are kept wherever rows are kept; ``frame.join`` and ``frame.groupby`` say what ids
their rows get. Each works on every message on its own: put ``stream.collect`` first to
work on the whole data at once. Their settings are in ``components._frame_params``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components._columns import (
    assign_columns,
    groupby_columns,
    join_columns,
    rename_columns,
)
from components._frame_helpers import as_list, join_frames, require, shown
from components._frame_params import (
    AssignParams,
    DropNaParams,
    DummiesParams,
    FillNaParams,
    GroupByParams,
    JoinParams,
    RenameParams,
    SampleParams,
    SortParams,
)
from runtime import (
    NEW_ROWS_TAG,
    STATEFUL_TAG,
    ExpressionError,
    component,
    evaluate_frame,
    latest,
    plain,
    same_columns,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@component("frame.assign", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=AssignParams, columns=assign_columns,
           column_params={"data": ["columns.assignments"]})
def assign(data: pd.DataFrame, *, params: AssignParams) -> pd.DataFrame:
    """Add (or replace) columns computed by pandas expressions, in order; row ids are kept.

    Gives ``data.assign(new=lambda d: d.eval(expr), ...)``. Each expression is checked against
    the data's columns before pandas evaluates it, as in ``frame.query``.
    """
    out = data
    for name, expr in params.columns.items():
        where = f"column {name!r}: expression {expr!r}"
        try:
            value = evaluate_frame(out, expr)
        except ExpressionError as exc:
            msg = f"{where} refused: {exc} ({shown(out)})"
            raise ValueError(plain(msg)) from exc
        except Exception as exc:
            msg = f"{where} failed: {type(exc).__name__}: {exc} ({shown(out)})"
            raise ValueError(plain(msg)) from exc
        out = out.assign(**{name: value})
    return out


@component("frame.join",
           inputs={"left": "DataFrame",
                   "right": latest("DataFrame", "The lookup table; its latest value is kept.")},
           outputs={"data": "DataFrame"}, params=JoinParams, columns=join_columns,
           column_params={"left": ["on"], "right": ["on"]})
def join(left: pd.DataFrame, right: pd.DataFrame, *, params: JoinParams) -> pd.DataFrame:
    """Join each left DataFrame with the latest right one; left row ids are kept.

    Gives ``left.merge(right, on=..., how=..., suffixes=...)`` (with an empty ``on``,
    ``left_index=True, right_index=True``), except for the row ids, which pandas numbers
    from 0 (or takes from the keys). Here a row keeps the id of the left row it comes from:
    when several right rows match one left row, that id appears once per match. A row only
    right has (how ``right`` or ``outer``) gets the id ``right:<its id in right>``, a
    string, so it never takes a left row's id. ``right`` and ``outer`` joins run per left
    message, so right's unmatched rows come out with every message: collect the stream
    first for one join.
    """
    return join_frames(left, right, on=as_list(params.on), how=params.how,
                       suffixes=params.suffixes)


@component("frame.groupby", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=GroupByParams, tags=[NEW_ROWS_TAG], columns=groupby_columns,
           column_params={"data": ["by", "aggregations.values"]})
def groupby(data: pd.DataFrame, *, params: GroupByParams) -> pd.DataFrame:
    """Aggregate each group of rows into one row.

    Gives ``data.groupby(by, as_index=..., dropna=...).agg(out=(column, function), ...)``.
    These are new rows, one per group, built from the whole message: with ``as_index`` (the
    default) a row's id is its group key, so a later ``frame.join`` can match it with
    ``on`` set to the key's name. ``csv.write`` and ``jsonl.write`` keep row ids only with
    their ``index`` param on; set ``as_index`` to false to get the keys as columns instead.
    """
    require(data, as_list(params.by), "by", levels=True)
    require(data, [column for column, _ in params.aggregations.values()], "aggregations")
    spec = {name: (column, function)
            for name, (column, function) in params.aggregations.items()}
    frame: Any = data  # pandas' stubs want a literal as_index
    try:
        grouped = frame.groupby(params.by, as_index=params.as_index, dropna=params.dropna)
        out: pd.DataFrame = grouped.agg(**spec)
        return out
    except Exception as exc:
        msg = f"group-by failed: {type(exc).__name__}: {exc} ({shown(data)})"
        raise ValueError(plain(msg)) from exc


@component("frame.sort", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=SortParams, columns=same_columns(), column_params={"data": ["by"]})
def sort(data: pd.DataFrame, *, params: SortParams) -> pd.DataFrame:
    """Sort the rows by one or more columns; rows that tie keep their order; ids are kept.

    Gives ``data.sort_values(by, ascending=..., na_position=..., kind="stable")``.
    """
    require(data, as_list(params.by), "by", levels=True)
    try:
        return data.sort_values(params.by, ascending=params.ascending, kind="stable",
                                na_position=params.na_position)
    except Exception as exc:  # e.g. a column holding both numbers and text
        msg = f"sort by {params.by!r} failed: {type(exc).__name__}: {exc}"
        raise ValueError(plain(msg)) from exc


@component("frame.dropna", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=DropNaParams, columns=same_columns(),
           column_params={"data": ["subset"]})
def dropna(data: pd.DataFrame, *, params: DropNaParams) -> pd.DataFrame:
    """Drop the rows with missing values; the other rows keep their ids.

    Gives ``data.dropna(subset=..., how=...)``.
    """
    require(data, params.subset or [], "subset")
    return data.dropna(subset=params.subset, how=params.how)


@component("frame.fillna", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=FillNaParams, columns=same_columns(),
           column_params={"data": ["value.keys"]})
def fillna(data: pd.DataFrame, *, params: FillNaParams) -> pd.DataFrame:
    """Fill in missing values with given values; row ids are kept.

    Gives ``data.fillna(value)``. A column named in the mapping that the data lacks is an
    error, where pandas would skip it silently.
    """
    if isinstance(params.value, dict):
        require(data, params.value, "value")
    try:
        return data.fillna(params.value)
    except Exception as exc:
        msg = f"fill failed: {type(exc).__name__}: {exc}"
        raise ValueError(plain(msg)) from exc


@component("frame.dummies", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=DummiesParams, column_params={"data": ["columns"]})
def dummies(data: pd.DataFrame, *, params: DummiesParams) -> pd.DataFrame:
    """Replace category columns with one indicator column per value; row ids are kept.

    Gives ``pd.get_dummies(data, columns=..., prefix=..., prefix_sep=..., dummy_na=...,
    drop_first=..., dtype=...)``. The new columns are the values seen in each message, so
    chunks of one stream may differ: collect the stream first, or fit a OneHotEncoder.
    """
    import pandas as pd

    require(data, params.columns or [], "columns")
    try:
        return pd.get_dummies(data, columns=params.columns, prefix=params.prefix,
                              prefix_sep=params.prefix_sep, dummy_na=params.dummy_na,
                              drop_first=params.drop_first, dtype=params.dtype)
    except Exception as exc:
        msg = f"dummies failed: {type(exc).__name__}: {exc} ({shown(data)})"
        raise ValueError(plain(msg)) from exc


@component("frame.rename", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=RenameParams, columns=rename_columns,
           column_params={"data": ["columns"]})
def rename(data: pd.DataFrame, *, params: RenameParams) -> pd.DataFrame:
    """Rename columns; row ids and values are kept.

    Gives ``data.rename(columns=...)``. An old name the data lacks, or a new name that
    another column keeps, is an error.
    """
    require(data, params.columns, "columns")
    out = data.rename(columns=params.columns)
    new = set(params.columns.values())
    twice = sorted({str(c) for c in out.columns[out.columns.duplicated()] if c in new})
    if twice:
        msg = f"renaming would give two columns named {twice[0]!r} ({shown(data)})"
        raise ValueError(plain(msg))
    return out


@component("frame.sample", inputs={"data": "DataFrame"}, outputs={"data": "DataFrame"},
           params=SampleParams, columns=same_columns(), tags=[STATEFUL_TAG])
class Sample:
    """Draw a random sample of rows; the drawn rows keep their ids.

    Gives ``data.sample(n=..., frac=..., replace=..., random_state=...)``. One random
    generator, seeded once, serves the whole stream: the first message gets exactly what
    pandas gives, and later messages go on drawing rather than repeat the same positions.
    """

    def __init__(self, params: SampleParams) -> None:
        self.params = params
        self.random: np.random.RandomState | None = None

    def __call__(self, data: pd.DataFrame) -> pd.DataFrame:
        """Draw from one DataFrame."""
        import numpy as np

        params = self.params
        if self.random is None:
            self.random = np.random.RandomState(params.random_state)
        if params.n is not None and params.n > len(data) and not params.replace:
            msg = (f"cannot draw n={params.n} rows from a message of {len(data)} without "
                   f"replacement; set replace to true, or use frac")
            raise ValueError(msg)
        drawn: pd.DataFrame = data.sample(n=params.n, frac=params.frac, replace=params.replace,
                                          random_state=self.random)
        return drawn
