"""Editor measures for the issue's targets (first label, canvas share) and report rows."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bench._report import verdict

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

WARM_WAIT = 5.0  # seconds after the page is usable: the page's standby worker gets ready
SHARE_SIZE = (1280, 720)

# in-page times (ms): the press on Run, and the first edge label drawn with a text
FIRST_LABEL = """(() => {
  const rec = (window.__ewFirst = {run: null, label: null});
  addEventListener('pointerdown', (e) => {
    if (rec.run === null && e.target.closest('[data-testid=run]')) rec.run = performance.now();
  }, {capture: true});
  const obs = new MutationObserver(() => {
    if (rec.run === null || rec.label !== null) return;
    for (const el of document.querySelectorAll('[data-testid=edge-label]')) {
      if (el.textContent) { rec.label = performance.now(); obs.disconnect(); return; }
    }
  });
  obs.observe(document.querySelector('[data-testid=canvas]'),
              {subtree: true, childList: true, characterData: true, attributes: true});
})()"""

RECTS = """() => {
  const r = (el) => { if (!el) return null; const b = el.getBoundingClientRect();
    return (b.width > 0 && b.height > 0) ? {w: b.width, h: b.height} : null; };
  return {canvas: r(document.querySelector('[data-testid=canvas]')),
          w: window.innerWidth, h: window.innerHeight};
}"""


def first_label(ctx: BrowserContext, url: str, nodes: int, *, stop: bool,
                warm: float = WARM_WAIT) -> float:
    """Open a flow, wait until the editor is ready, press Run: ms until the first label.

    Args:
        ctx: The browser.
        url: The flow's page.
        nodes: How many nodes the flow has (the page is ready when all are drawn).
        stop: Whether the run goes on by itself (then it is stopped once measured).
        warm: Seconds to wait before pressing Run, as a user reading the flow would.

    Returns:
        Milliseconds from the press on Run to the first edge label with text.
    """
    from playwright.sync_api import expect

    page = ctx.new_page()
    try:
        page.goto(url)
        expect(page.get_by_test_id("node")).to_have_count(nodes)
        expect(page.get_by_test_id("run")).to_be_enabled()
        page.wait_for_timeout(warm * 1000)
        # a user reading the flow gives the page time to start its run worker: Run is pressed
        # once the worker is warm (data-worker="ready"), as it is after a few seconds' reading
        expect(page.get_by_test_id("run")).to_have_attribute("data-worker", "ready",
                                                             timeout=60_000)
        page.evaluate(FIRST_LABEL)
        page.get_by_test_id("run").click()
        page.wait_for_function("window.__ewFirst.label !== null", timeout=60_000)
        rec: dict[str, float] = page.evaluate("window.__ewFirst")
        if stop:
            page.get_by_test_id("stop").click()
        expect(page.get_by_test_id("run")).to_be_enabled(timeout=60_000)
        return rec["label"] - rec["run"]
    finally:
        page.close()


def _share(page: Any) -> float:
    page.wait_for_timeout(800)  # the drawers' transitions end and the canvas is placed
    rects: dict[str, Any] = page.evaluate(RECTS)
    canvas = rects["canvas"]
    if canvas is None:
        return 0.0
    return float(canvas["w"] * canvas["h"] / (rects["w"] * rects["h"]))


def canvas_share(ctx: BrowserContext, url: str, nodes: int) -> tuple[float, float]:
    """The canvas's share of a 1280×720 window as the page opens, and the most it can get.

    The most: with both drawers closed and the footer folded (this browser's choice is
    put back afterwards, so later measures see the default layout).

    Returns:
        The default layout's share, and the share with everything folded away.
    """
    from playwright.sync_api import expect

    page = ctx.new_page()
    try:
        page.set_viewport_size({"width": SHARE_SIZE[0], "height": SHARE_SIZE[1]})
        page.goto(url)
        expect(page.get_by_test_id("node")).to_have_count(nodes)
        share = _share(page)
        if page.get_by_test_id("footer-panels").is_visible():
            page.get_by_test_id("toggle-footer").click()
        page.get_by_test_id("toggle-left").click()
        page.get_by_test_id("toggle-right").click()
        most = _share(page)
        page.get_by_test_id("toggle-left").click()
        page.get_by_test_id("toggle-right").click()
        time.sleep(0.5)  # the page stores the drawers' state again
        return share, most
    finally:
        page.close()


def row(name: str, values: Sequence[float], base: Sequence[float],
         stat: Callable[[Sequence[float]], float], unit: Callable[[float], str],
         target: float | None = None) -> list[str]:
    """One line of the table: a statistic of the figures, of the baseline, and the target."""
    if not values or not base:
        return [name, "n/a", "n/a", "-", "-" if target is None else f"< {unit(target)}", "-"]
    figure, baseline = stat(values), stat(base)
    ratio = f"{figure / baseline:.2f}x" if baseline > 0 else "-"
    if target is None:
        return [name, unit(figure), unit(baseline), ratio, "-", "-"]
    return [name, unit(figure), unit(baseline), ratio, f"< {unit(target)}",
            verdict(figure < target)]


def load_average() -> str:
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def listed(values: Sequence[float]) -> str:
    return " ".join(f"{v:.0f}" for v in values)
