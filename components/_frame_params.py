"""The settings (params models) of the components in ``components.frame_ops``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from components._frame_helpers import Aggregation, JoinHow, as_list
from runtime import ExpressionError, Params, check_expression

Scalar = bool | int | float | str
Columns = str | list[str]
_AGG_KEYWORDS = ("func", "engine", "engine_kwargs")


def _names(value: Columns) -> Columns:
    names = as_list(value)
    if not names or not all(names):
        msg = "give at least one column name, and no empty name"
        raise ValueError(msg)
    if len(set(names)) < len(names):
        msg = f"a column is named twice in {names}"
        raise ValueError(msg)
    return value


class AssignParams(Params):
    """Settings of ``frame.assign``."""

    columns: dict[str, str] = Field(
        min_length=1,
        description="New column name to a pandas expression, e.g. {\"bmi_bp\": \"bmi * bp\"}, "
                    "evaluated in order with DataFrame.eval, so a later expression may use an "
                    "earlier new column. A column of the same name is replaced. Expressions "
                    "take what frame.query takes (see the README section on expressions).")

    @field_validator("columns")
    @classmethod
    def _allowed(cls, columns: dict[str, str]) -> dict[str, str]:
        for name, expr in columns.items():
            if not name:
                msg = "a new column needs a name"
                raise ValueError(msg)
            try:
                check_expression(expr)
            except ExpressionError as exc:
                msg = f"column {name!r}: not a valid expression: {exc}"
                raise ValueError(msg) from None
        return columns


class JoinParams(Params):
    """Settings of ``frame.join``."""

    on: Columns = Field(
        default_factory=list,
        description="The key column, or a list of them, found in both left and right (a named "
                    "row-id level counts, such as frame.groupby's group keys). Empty: join on "
                    "the row ids.")
    how: JoinHow = Field(
        default="left",
        description="left: every left row; inner: left rows with a match; right: every right "
                    "row; outer: both. Rows only right has get the id 'right:<its id>'.")
    suffixes: tuple[str, str] = Field(
        default=("_x", "_y"),
        description="Added to the names of non-key columns that left and right share.")

    @field_validator("on")
    @classmethod
    def _on(cls, on: Columns) -> Columns:
        return _names(on) if on else []

    @field_validator("suffixes")
    @classmethod
    def _distinct(cls, suffixes: tuple[str, str]) -> tuple[str, str]:
        if suffixes[0] == suffixes[1]:
            msg = "the two suffixes must differ, or shared columns would get the same name"
            raise ValueError(msg)
        return suffixes


class GroupByParams(Params):
    """Settings of ``frame.groupby``."""

    by: Columns = Field(description="The column (or list of columns) whose values form the "
                                    "groups; named row-id levels count too.")
    aggregations: dict[str, tuple[str, Aggregation]] = Field(
        min_length=1,
        description="Output column to [column, function], e.g. {\"mean_bmi\": [\"bmi\", "
                    "\"mean\"]}. Functions: sum, mean, median, min, max, count, size, std, "
                    "var, first, last, nunique.")
    as_index: bool = Field(
        default=True,
        description="True: the group keys become the row ids, as pandas gives. False: they "
                    "become columns and the groups are numbered 0, 1, ...")
    dropna: bool = Field(default=True,
                         description="Leave out rows whose key is missing (pandas' default); "
                                     "false makes them a group of their own.")

    @field_validator("by")
    @classmethod
    def _by(cls, by: Columns) -> Columns:
        return _names(by)

    @field_validator("aggregations")
    @classmethod
    def _named(cls, aggregations: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
        if not all(aggregations) or not all(column for column, _ in aggregations.values()):
            msg = "every output column and every input column needs a name"
            raise ValueError(msg)
        taken = [name for name in aggregations if name in _AGG_KEYWORDS]
        if taken:
            msg = (f"{taken[0]!r} cannot name an output column: pandas' agg() takes it as "
                   f"its own keyword ({', '.join(_AGG_KEYWORDS)}); choose another name")
            raise ValueError(msg)
        return aggregations


class SortParams(Params):
    """Settings of ``frame.sort``."""

    by: Columns = Field(description="The column (or list of columns) to sort by, first key "
                                    "first; named row-id levels count too.")
    ascending: bool | list[bool] = Field(
        default=True, description="Sort ascending; or a list with one flag per 'by' column.")
    na_position: Literal["last", "first"] = Field(
        default="last", description="Where rows with a missing value go.")

    @field_validator("by")
    @classmethod
    def _by(cls, by: Columns) -> Columns:
        return _names(by)

    @field_validator("ascending")
    @classmethod
    def _one_per_column(cls, ascending: bool | list[bool],
                        info: ValidationInfo) -> bool | list[bool]:
        by = info.data.get("by")
        if isinstance(ascending, list) and by is not None and len(ascending) != len(
                as_list(by)):
            msg = (f"give one flag per 'by' column: {len(as_list(by))} column(s), "
                   f"{len(ascending)} flag(s)")
            raise ValueError(msg)
        return ascending


class DropNaParams(Params):
    """Settings of ``frame.dropna``."""

    subset: list[str] | None = Field(
        default=None, min_length=1,
        description="Look for missing values only in these columns; by default in all.")
    how: Literal["any", "all"] = Field(
        default="any", description="Drop a row when any of those values is missing, or only "
                                   "when all of them are.")


class FillNaParams(Params):
    """Settings of ``frame.fillna``."""

    value: Scalar | dict[str, Scalar] = Field(
        description="The value to put in place of missing values, or a mapping of column to "
                    "value (other columns are left as they are).")

    @field_validator("value")
    @classmethod
    def _not_empty(cls, value: Scalar | dict[str, Scalar]) -> Scalar | dict[str, Scalar]:
        if isinstance(value, dict) and not value:
            msg = "give a value, or at least one column and its value"
            raise ValueError(msg)
        return value


class DummiesParams(Params):
    """Settings of ``frame.dummies``."""

    columns: list[str] | None = Field(
        default=None, min_length=1,
        description="The columns to encode; by default every text and category column.")
    prefix: str | dict[str, str] | None = Field(
        default=None, description="The start of the new column names: one for all, or one per "
                                  "encoded column; by default the column's own name.")
    prefix_sep: str = Field(default="_", description="Between the prefix and the value.")
    dummy_na: bool = Field(default=False,
                           description="Add a column that marks missing values.")
    drop_first: bool = Field(default=False,
                             description="Leave out each column's first category.")
    dtype: Literal["bool", "uint8", "int8", "int32", "int64", "float32", "float64"] = Field(
        default="bool", description="The type of the new columns.")


class RenameParams(Params):
    """Settings of ``frame.rename``."""

    columns: dict[str, str] = Field(min_length=1,
                                    description="Old column name to new column name.")

    @field_validator("columns")
    @classmethod
    def _distinct(cls, columns: dict[str, str]) -> dict[str, str]:
        if not all(columns) or not all(columns.values()):
            msg = "every old and new column needs a name"
            raise ValueError(msg)
        new = list(columns.values())
        twice = sorted({n for n in new if new.count(n) > 1})
        if twice:
            msg = f"two columns would be named {twice[0]!r}"
            raise ValueError(msg)
        return columns


class SampleParams(Params):
    """Settings of ``frame.sample``."""

    n: int | None = Field(default=None, ge=0, description="How many rows to draw (or frac).")
    frac: float | None = Field(default=None, ge=0, validate_default=True,
                               description="The share of rows to draw, e.g. 0.1 (or n).")
    replace: bool = Field(default=False, validate_default=True,
                          description="Draw with replacement, so a row may come out twice.")
    random_state: int | None = Field(
        default=0, ge=0, le=2**32 - 1,
        description="Seed of the draws, for the same rows on every run; empty for new ones.")

    @field_validator("frac")
    @classmethod
    def _one_of(cls, frac: float | None, info: ValidationInfo) -> float | None:
        n = info.data.get("n")
        if (n is None) == (frac is None) and "n" in info.data:
            msg = "give n or frac, not both" if frac is not None else "give n or frac"
            raise ValueError(msg)
        return frac

    @field_validator("replace")
    @classmethod
    def _upsampling(cls, replace: bool, info: ValidationInfo) -> bool:
        frac = info.data.get("frac")
        if frac is not None and frac > 1 and not replace:
            msg = f"frac={frac} draws more rows than there are; set replace to true"
            raise ValueError(msg)
        return replace

