"""How the editor draws charts: sanitised chart SVGs, column distributions, model weights."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from editor.svg_safe import UnsafeSvg, safe_or_empty, sanitize_svg


def distribution_options(spread: dict[str, Any]) -> dict[str, Any]:
    """ECharts options for one column's distribution: a histogram, or bars of value counts."""
    counts = list(spread["counts"])
    if spread["kind"] == "hist":
        edges = spread["edges"]
        labels = [f"{a:.4g}–{b:.4g}" for a, b in zip(edges, edges[1:], strict=False)]
        title = "histogram"
    else:
        labels = list(spread["labels"])
        title = "value counts"
        if spread.get("other"):
            labels.append("(other)")
            counts.append(spread["other"])
    if spread.get("missing"):
        title += f" · {spread['missing']} missing"
    return {"animation": False, "title": {"text": title, "textStyle": {"fontSize": 11}},
            "xAxis": {"type": "category", "data": labels, "axisLabel": {"fontSize": 9}},
            "yAxis": {"type": "value", "minInterval": 1}, "tooltip": {"trigger": "axis"},
            "grid": {"left": 36, "right": 8, "top": 28, "bottom": 40},
            "series": [{"type": "bar", "data": counts, "barCategoryGap": "2%"}]}


def importance_bars(weights: dict[str, Any]) -> None:
    """A model's feature importances or coefficients as horizontal bars, largest on top."""
    features, values = list(weights["features"]), list(weights["values"])
    ui.echart({
        "title": {"text": weights["label"], "textStyle": {"fontSize": 11}},
        "xAxis": {"type": "value"}, "tooltip": {"trigger": "axis"},
        "yAxis": {"type": "category", "data": features[::-1], "axisLabel": {"fontSize": 9}},
        "grid": {"left": 8, "right": 16, "top": 28, "bottom": 20, "containLabel": True},
        "series": [{"type": "bar", "data": values[::-1]}]}, renderer="svg").classes(
        "w-full").style(f"height: {60 + 18 * len(features)}px").props(
        f'data-testid="model-importance" data-kind="{weights["kind"]}"')


def show_chart(svg: str) -> None:
    """A chart's SVG, sanitised (no scripts, handlers or outside links), or a note why not."""
    try:
        safe = sanitize_svg(svg)
    except UnsafeSvg as exc:
        ui.label(str(exc)).classes("text-caption text-negative").props(
            'data-testid="chart-refused"')
        return
    ui.html(safe, sanitize=safe_or_empty).classes("w-full").props('data-testid="chart"')
