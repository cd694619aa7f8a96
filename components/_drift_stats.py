"""The statistics of ``ml.drift``: one report row comparing a window with the reference.

Numeric columns are compared with exactly the PSI and KS test of ``edgewise diff``
(``runtime.runs.psi``, ``ks_test`` and ``numeric_values``); other columns with a
categorical PSI defined here on the same pattern.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components._frame_helpers import input_frame

if TYPE_CHECKING:
    import pandas as pd

PSI_EPSILON = 1e-6
"""The share given to an empty bucket before the logarithm: the floor ``psi`` uses too."""
OTHER = "other"


def categorical_psi(expected: pd.Series, actual: pd.Series) -> float:
    """Population stability index of ``actual`` against ``expected`` over categories.

    The buckets are the categories of ``expected`` (the reference) and one "other" bucket
    for values it never takes. Missing values are dropped first, as the numeric PSI drops
    them. Each bucket's share is floored at ``PSI_EPSILON`` on both sides, then
    ``sum((actual - expected) * ln(actual / expected))``, as for numbers. An empty side
    gives 0.0, as the numeric PSI does.
    """
    import numpy as np

    a, b = expected.dropna(), actual.dropna()
    if len(a) == 0 or len(b) == 0:
        return 0.0
    counts_a = a.value_counts(sort=False)
    known = counts_a.index
    counts_b = b.value_counts(sort=False).reindex(known, fill_value=0).to_numpy(float)
    pa = np.append(counts_a.to_numpy(float), 0.0) / len(a)
    pb = np.append(counts_b, len(b) - counts_b.sum()) / len(b)
    pa, pb = np.clip(pa, PSI_EPSILON, None), np.clip(pb, PSI_EPSILON, None)
    return float(np.sum((pb - pa) * np.log(pb / pa)))


def compared_columns(window: pd.DataFrame, reference: pd.DataFrame,
                     columns: list[str] | None, exclude: list[str]) -> list[str]:
    """The columns to compare: those given (all must be on both sides), or all shared ones."""
    if columns is None:
        return [c for c in window.columns if c in reference.columns and c not in exclude]
    for side, frame in (("data", window), ("reference", reference)):
        input_frame(frame, "ml.drift", side, columns, what=f"the {side} rows",
                    fix="fix 'columns', or leave it empty to compare every shared column")
    return list(columns)


def plain_value(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (a row id in a report)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def drift_row(window: pd.DataFrame, reference: pd.DataFrame, columns: list[str], *,
              bins: int, psi_threshold: float, psi_warn: float,
              ks_threshold: float) -> dict[str, Any]:
    """The statistics of one window: ``psi:<column>``, ``ks:<column>``, drifted, drift, warned.

    A column has drifted when its PSI is at least ``psi_threshold`` or, for a numeric
    column, its KS statistic is at least ``ks_threshold``; it is warned about when its PSI
    is at least ``psi_warn`` without having drifted.
    """
    from runtime.runs import ks_test, numeric_values, psi

    psis: dict[str, float] = {}
    kss: dict[str, float] = {}
    drifted, warned = [], []
    for column in columns:
        x, y = numeric_values(reference[column]), numeric_values(window[column])
        if x is not None and y is not None:
            psis[column] = psi(x, y, bins)
            kss[column] = (float(ks_test(x, y).statistic) if len(x) and len(y)
                           else float("nan"))
        else:
            psis[column] = categorical_psi(reference[column], window[column])
        if psis[column] >= psi_threshold or kss.get(column, 0.0) >= ks_threshold:
            drifted.append(str(column))
        elif psis[column] >= psi_warn:
            warned.append(str(column))
    return {**{f"psi:{c}": v for c, v in psis.items()},
            **{f"ks:{c}": v for c, v in kss.items()},
            "drifted": ",".join(drifted), "drift": bool(drifted), "warned": ",".join(warned)}
