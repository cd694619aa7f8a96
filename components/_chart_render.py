"""Drawing charts on private matplotlib Figures and turning them into Chart values.

Every chart is drawn on its own ``matplotlib.figure.Figure`` with the Agg canvas: pyplot's
current figure is never used, so charts drawn in different threads never meet. The
settings that matplotlib keeps in its global ``rcParams`` (SVG text kept as text, a fixed
hash salt so the same chart gives the same SVG) are applied under one lock, for the
drawing and the saving of one chart at a time, and restored afterwards.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from components._files import AtomicOutput

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CHART_KIND = "chart"
CHART_TYPE = "Chart"
FIGURE_SIZE = (6.4, 4.8)
PNG_DPI = 100

_LOCK = threading.Lock()
_RC: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "edgewise",
                       "figure.max_open_warning": 0}


@contextmanager
def _drawing() -> Iterator[None]:
    """Hold the chart lock with the chart's rcParams in force (restored afterwards)."""
    import matplotlib

    with _LOCK:
        if matplotlib.get_backend().lower() != "agg":
            matplotlib.use("Agg")  # charts are drawn off screen, in any thread
        with matplotlib.rc_context(_RC):
            yield


def draw(chart: str, title: str, plot: Callable[[Axes], None], path: str = "") -> dict[str, Any]:
    """Draw a chart and return its Chart value; write it as PNG to ``path`` when one is given.

    Args:
        chart: what kind of chart it is (``line``, ``confusion_matrix``, ...).
        title: the chart's title, drawn above it.
        plot: draws on the chart's axes.
        path: a PNG file to write atomically; empty for none.

    Returns:
        ``{"kind": "chart", "chart": ..., "title": ..., "svg": ...}``, plus ``"path"`` when a
        PNG was written: plain JSON types, so that a run record keeps it as it is.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _drawing():
        figure = Figure(figsize=FIGURE_SIZE, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        plot(axes)
        axes.set_title(title)
        text = io.StringIO()
        figure.savefig(text, format="svg", metadata={"Date": None})
        png = None
        if path:
            data = io.BytesIO()
            figure.savefig(data, format="png", dpi=PNG_DPI, metadata={"Software": None})
            png = data.getvalue()
    value: dict[str, Any] = {"kind": CHART_KIND, "chart": chart, "title": title,
                             "svg": text.getvalue()}
    if png is not None:
        _write(path, png)
        value["path"] = path
    return value


def _write(path: str, png: bytes) -> None:
    """Write a PNG file atomically: the file at ``path`` is replaced whole or not at all."""
    out = AtomicOutput(path, binary=True)
    try:
        with out.firing():
            out.buffer().write(png)
        out.finish()
    finally:
        out.discard()
