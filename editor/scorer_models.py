"""Which models an ``ml.serve`` node answers with: its champion and, beside it, its challenger.

The scorer writes the label of the model that answered each row (``name:version`` from the
registry, or ``#<message id>``) in a ``model`` column. The rows it last sent on ``data`` name
the champion; in ``shadow`` mode the rows on ``shadow`` name the challenger; in ``canary``
mode the rows the challenger answers are the ones its row-id hash sends there
(``components.ml_serve.canary_mask``). This reads them from the previews of the last messages
a run sent (live, or of a kept run), so the node can show them and follow a promotion.
"""

from __future__ import annotations

from typing import Any

SERVE = "ml.serve"
MODEL_COLUMN = "model"  # components._model_label.MODEL_COLUMN


def row_labels(preview: dict[str, Any] | None) -> list[tuple[Any, str]]:
    """The ``(row id, model label)`` of the rows in a DataFrame preview's head.

    Returns:
        An empty list when the preview is not a DataFrame's, or its head has no ``model``
        column (a preview keeps the first 20 columns only).
    """
    if not preview or preview.get("kind") != "dataframe":
        return []
    columns = preview.get("columns") or []
    if MODEL_COLUMN not in columns:
        return []
    at = columns.index(MODEL_COLUMN)
    return [(row_id, str(row[at])) for row_id, row in
            zip(preview.get("index") or [], preview.get("head") or [], strict=False)
            if isinstance(row, list) and len(row) > at and row[at] is not None]


def _canary(labels: list[tuple[Any, str]], percent: Any) -> tuple[str | None, str | None]:
    """The champion's and the challenger's labels among rows shared by a canary split."""
    if not isinstance(percent, int | float) or isinstance(percent, bool):
        percent = 10.0
    import pandas as pd

    from components.ml_serve import canary_mask

    mask = canary_mask(pd.Index([row for row, _ in labels]), float(percent))
    champion = next((label for (_, label), to_challenger in zip(labels, mask, strict=True)
                     if not to_challenger), None)
    challenger = next((label for (_, label), to_challenger in zip(labels, mask, strict=True)
                       if to_challenger), None)
    return champion, challenger


def serve_models(component: str, params: Any, outputs: dict[str, dict[str, Any]],
                 known: dict[str, str] | None = None) -> dict[str, str] | None:
    """The models a scorer node answers with, as its face shows them.

    Args:
        component: the node's component id (only ``ml.serve`` has models to show).
        params: the node's params (``mode``, ``canary_percent``).
        outputs: what its output ports carried, by port: each with the ``preview`` of its
            last message.
        known: what this returned before in the same run (a canary's challenger answers few
            rows, and a preview may hold none of them).

    Returns:
        ``{"mode", "champion", "challenger"}`` (the challenger only when known), or None
        before the scorer sent rows naming their model.
    """
    if component != SERVE:
        return None
    params = params if isinstance(params, dict) else {}
    mode = str(params.get("mode") or "champion")
    data = row_labels((outputs.get("data") or {}).get("preview"))
    if not data:
        return known
    champion: str | None = data[-1][1]
    challenger = None
    if mode == "shadow":
        shadow = row_labels((outputs.get("shadow") or {}).get("preview"))
        challenger = shadow[-1][1] if shadow else None
    elif mode == "canary":
        champion, challenger = _canary(data, params.get("canary_percent"))
    before = known or {}
    found = {"mode": mode, "champion": champion or before.get("champion", "")}
    challenger = challenger or (before.get("challenger") if mode != "champion" else None)
    if challenger:
        found["challenger"] = challenger
    return found if found["champion"] else known
