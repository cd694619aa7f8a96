"""Benchmark 4: the browser editor's load time, drag frame time, live-label delay and room."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from bench._browser import browser, editor_server
from bench._editor_room import SHARE_SIZE, canvas_share, first_label, listed, load_average, row
from bench._report import heading, parse_args, table, verdict
from runtime import Params, component

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

NODES = 300
BIG_NODES = 1000
EXAMPLE = "iris.json"  # the example flow whose first label is timed (6 nodes)
EXAMPLE_NODES = 6
GRID_COLUMNS = 20
TARGET_USABLE = 1.5  # seconds from navigation to a usable 300-node canvas
TARGET_FRAME = 20.0  # ms, median frame time while dragging
TARGET_DELAY = 300.0  # ms, label delay while a source emits as fast as it can
TARGET_BIG_USABLE = 2.0  # seconds from navigation to a usable 1,000-node canvas
TARGET_BIG_FRAME = 17.0  # ms: one 60 Hz frame (16.7 ms) in the 1,000-node flow, with timer jitter
TARGET_FIRST_LABEL = 1000.0  # ms from Run to the first label on an example flow
TARGET_SHARE = 0.60  # the canvas's share of a 1280x720 window, at least
MIN_MOVES = 10  # pointer moves of a drag, however long they take
TICKER_INTERVAL = 0.01  # seconds between messages of the light source (the delay baseline)


@dataclass(frozen=True)
class Sizes:
    """How long and how often each part runs."""

    loads: int
    drag_seconds: float
    idle_seconds: float
    light_seconds: float
    fast_seconds: float
    settle: float


FULL = Sizes(loads=5, drag_seconds=4.0, idle_seconds=1.5, light_seconds=5.0,
             fast_seconds=8.0, settle=2.0)
QUICK = Sizes(loads=1, drag_seconds=1.0, idle_seconds=0.5, light_seconds=1.0,
              fast_seconds=2.0, settle=0.5)


# -- the components this benchmark adds to the editor, as a plugin --------------------------

class ClockParams(Params):
    """Settings of ``bench.clock``."""

    count: int = Field(ge=0, description="How many timestamps to emit.")


@component("bench.clock", outputs={"data": "float"}, params=ClockParams, category="bench")
def clock(*, params: ClockParams) -> Iterator[float]:
    """Emit the wall-clock time (``time.time()``) ``count`` times, as fast as it can."""
    now = time.time
    for _ in range(params.count):
        yield now()


class TickerParams(Params):
    """Settings of ``bench.ticker``."""

    count: int = Field(ge=0, description="How many timestamps to emit.")
    interval: float = Field(default=TICKER_INTERVAL, gt=0,
                            description="Seconds to wait before each message.")


@component("bench.ticker", outputs={"data": "float"}, params=TickerParams, category="bench",
           threaded=True)
def ticker(*, params: TickerParams) -> Iterator[float]:
    """Emit the wall-clock time ``count`` times, one message every ``interval`` seconds."""
    for _ in range(params.count):
        time.sleep(params.interval)
        yield time.time()


def _plugin_dir(folder: Path) -> Path:
    """Declare this module as a component plugin in ``folder`` (an entry-point dist-info)."""
    info = folder / "edgewise_bench_editor-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: edgewise-bench-editor\n"
                                   "Version: 0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[edgewise.components]\nbench = bench.editor\n",
                                           encoding="utf-8")
    return folder


# -- flows ---------------------------------------------------------------------------------

def grid_flow(nodes: int) -> dict[str, Any]:
    """A chain ``stream.range`` -> identities -> ``stream.count``, laid out in a grid.

    Args:
        nodes: How many nodes in all (at least 2); 0 gives an empty flow.

    Returns:
        The flow document.
    """
    ids = [f"n{i}" for i in range(nodes)]
    items: list[dict[str, Any]] = []
    for index, node in enumerate(ids):
        kind = ("stream.range" if index == 0 else
                "stream.count" if index == nodes - 1 else "stream.identity")
        row, col = divmod(index, GRID_COLUMNS)
        item: dict[str, Any] = {"id": node, "component": kind,
                                "position": {"x": 60 + col * 220, "y": 60 + row * 110}}
        if index == 0:
            item["params"] = {"count": 10}
        items.append(item)
    edges = [{"source": f"{a}.data", "target": f"{b}.data"} for a, b in pairwise(ids)]
    return {"edgewise": 1, "name": f"grid-{nodes}", "nodes": items, "edges": edges}


def timestamp_flow(source: str, params: dict[str, Any]) -> dict[str, Any]:
    """The flow ``source`` -> ``stream.identity`` -> ``stream.count`` (ids src, mid, count)."""
    nodes = [{"id": "src", "component": source, "params": params,
              "position": {"x": 60, "y": 80}},
             {"id": "mid", "component": "stream.identity", "position": {"x": 340, "y": 80}},
             {"id": "count", "component": "stream.count", "position": {"x": 620, "y": 80}}]
    edges = [{"source": "src.data", "target": "mid.data"},
             {"source": "mid.data", "target": "count.data"}]
    return {"edgewise": 1, "name": source, "nodes": nodes, "edges": edges}


# -- statistics ----------------------------------------------------------------------------

def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank) of non-empty values."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# -- 1. time to a painted, usable canvas ---------------------------------------------------

LOAD_PROBE = """(() => {
  const expected = %d;
  const rec = (window.__ewLoad = {painted: null, connected: null, down: null, box: null});
  const watch = () => {
    const now = performance.now();
    if (rec.painted === null && document.querySelector('[data-testid=canvas]')
        && document.querySelectorAll('[data-testid=node]').length === expected) {
      rec.painted = -1;
      requestAnimationFrame(() => { rec.painted = performance.now(); });
    }
    if (rec.connected === null && window.did_handshake) rec.connected = now;
    if (rec.painted === null || rec.painted < 0 || rec.connected === null)
      requestAnimationFrame(watch);
  };
  requestAnimationFrame(watch);
  addEventListener('pointerdown', () => { rec.down = performance.now(); }, {capture: true});
  new MutationObserver((_, obs) => {
    if (document.querySelector('.ew-box')) { rec.box = performance.now(); obs.disconnect(); }
  }).observe(document, {childList: true, subtree: true});
})();"""


def load_once(ctx: BrowserContext, url: str, nodes: int) -> tuple[float, float]:
    """Open a flow and time it (ms since navigation) until painted, and until usable.

    Painted: every node exists and a frame has been drawn since. Ready: painted, and
    connected to the server. Usable: ready, plus the time the canvas then takes to answer
    a drag on its background by drawing the selection box (the time the driver takes to
    send that drag is left out).
    """
    page = ctx.new_page()
    try:
        page.add_init_script(LOAD_PROBE % nodes)
        page.goto(url, wait_until="commit")
        page.wait_for_function("window.__ewLoad && window.__ewLoad.painted > 0"
                               " && window.__ewLoad.connected !== null")
        box = page.get_by_test_id("canvas").bounding_box()
        assert box is not None  # noqa: S101 - it is painted
        page.mouse.move(box["x"] + 8, box["y"] + 8)
        page.mouse.down()
        page.mouse.move(box["x"] + 40, box["y"] + 40)
        page.wait_for_function("window.__ewLoad.box !== null")
        page.mouse.up()
        rec: dict[str, float] = page.evaluate("window.__ewLoad")
        ready = max(rec["painted"], rec["connected"])
        return rec["painted"], ready + rec["box"] - rec["down"]
    finally:
        page.close()


def measure_loads(ctx: BrowserContext, url: str, sizes: Sizes) -> dict[str, list[float]]:
    """Load the empty and the 300-node flow in turn (run after a warm-up load).

    Returns:
        Painted and usable times in ms, under the keys ``empty painted``, ``empty usable``,
        ``grid painted``, ``grid usable``, ``big painted`` and ``big usable`` (1,000 nodes).
    """
    times: dict[str, list[float]] = {}
    for name, nodes in [("empty", 0), ("grid", NODES), ("big", BIG_NODES)] * sizes.loads:
        painted, usable = load_once(ctx, f"{url}/flow/{name}.json", nodes)
        times.setdefault(f"{name} painted", []).append(painted)
        times.setdefault(f"{name} usable", []).append(usable)
        time.sleep(sizes.settle)  # the page's standby worker starts, and ends with the page
    return times


# -- 2. frame time while dragging a node ---------------------------------------------------

FRAMES = """(() => {
  const f = (window.__ewFrames = {on: false, t: [], m: [], work: [], pending: 0});
  let start = 0;
  const loop = (t) => {
    if (f.on) { f.t.push(t); f.m.push(f.pending); }
    f.pending = 0;
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  addEventListener('pointermove', () => {
    if (f.on) { f.pending += 1; start = performance.now(); }
  }, true);
  addEventListener('pointermove', () => {  // after the canvas's handler; then Vue's update
    if (f.on) Promise.resolve().then(() => f.work.push(performance.now() - start));
  });
})()"""


@dataclass
class Frames:
    """Frame times (ms) and the main-thread work of each pointer move (ms)."""

    frames: list[float]
    work: list[float]
    moves: int


def record_frames(page: Page, seconds: float, drag: bool) -> Frames:
    """Record frames for ``seconds``, idle or while page.mouse drags a node in circles.

    Idle, every frame counts. Dragging, the frames that count are those that present a
    drag step: the interval from the animation frame at which a pointer move had been
    handled to the next one, which holds the Vue update, style, layout and paint.
    """
    page.evaluate("Object.assign(window.__ewFrames, {t: [], m: [], work: [], on: true})")
    end = time.monotonic() + seconds
    if drag:
        node = page.locator('[data-testid=node][data-node-id="n150"]').bounding_box()
        assert node is not None  # noqa: S101 - the flow is painted
        x0, y0 = node["x"] + node["width"] * 0.3, node["y"] + node["height"] * 0.25
        page.mouse.move(x0, y0)
        page.mouse.down()
        step = 0
        while step < MIN_MOVES or time.monotonic() < end:
            step += 1
            angle = step * 0.12
            page.mouse.move(x0 + 80 * math.sin(angle), y0 + 60 * (1 - math.cos(angle)))
        page.mouse.up()
    else:
        page.wait_for_timeout(seconds * 1000)
    rec: dict[str, Any] = page.evaluate("window.__ewFrames.on = false; window.__ewFrames")
    stamps, moved = rec["t"], rec["m"]
    frames = [b - a for (a, b), m in zip(pairwise(stamps), moved, strict=False)
              if m or not drag]
    return Frames(frames, rec["work"], sum(moved))


def measure_drag(ctx: BrowserContext, url: str, sizes: Sizes,
                 nodes: int = NODES) -> tuple[Frames, Frames]:
    """Frames of a grid flow, first idle, then while one node is dragged."""
    page = ctx.new_page()
    try:
        page.add_init_script(LOAD_PROBE % nodes)
        page.goto(url)
        page.wait_for_function("window.__ewLoad && window.__ewLoad.painted > 0")
        page.evaluate(FRAMES)
        page.wait_for_timeout(sizes.settle * 1000)
        idle = record_frames(page, sizes.idle_seconds, drag=False)
        return idle, record_frames(page, sizes.drag_seconds, drag=True)
    finally:
        page.close()


# -- 3. label delay, and clicks while a run streams ----------------------------------------

LABELS = """(() => {
  const rec = (window.__ewLabels = []);
  const last = {};
  new MutationObserver(() => {
    const t = performance.timeOrigin + performance.now();
    for (const el of document.querySelectorAll('[data-testid=edge-label]')) {
      const edge = el.closest('[data-testid=edge]').dataset.edge;
      const text = el.dataset.full || el.textContent;  // the shown text may be shortened
      if (text && last[edge] !== text) { last[edge] = text; rec.push([t, edge, text]); }
    }
  }).observe(document.querySelector('[data-testid=canvas]'),
             {childList: true, subtree: true, characterData: true, attributes: true,
              attributeFilter: ['data-full']});
})()"""

CLICK_WATCH = """(id) => {
  const node = document.querySelector(`[data-testid=node][data-node-id="${id}"]`);
  const rec = (window.__ewClick = {down: null, selected: null, panel: null});
  window.addEventListener('pointerdown', () => { rec.down = performance.now(); },
                          {capture: true, once: true});
  const check = () => {
    const now = performance.now();
    if (rec.down === null) return;
    if (rec.selected === null && node.classList.contains('selected')) rec.selected = now;
    const panel = document.querySelector('[data-testid=params-node]');
    if (rec.panel === null && panel && panel.textContent.trim() === id) rec.panel = now;
    if (rec.selected !== null && rec.panel !== null) obs.disconnect();
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, {subtree: true, childList: true, attributes: true,
                              characterData: true});
}"""


@dataclass
class Clicks:
    """Times (ms) from a click on a node to its selection, and to its params panel."""

    selected: list[float]
    panel: list[float]


def click_node(page: Page, node_id: str, clicks: Clicks) -> None:
    """Click a node's header; record the in-page times until it is selected and shown."""
    box = page.locator(f'[data-testid=node][data-node-id="{node_id}"]').bounding_box()
    assert box is not None  # noqa: S101 - the flow is painted
    page.evaluate(CLICK_WATCH, node_id)
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.25)
    page.wait_for_function("window.__ewClick.selected !== null"
                           " && window.__ewClick.panel !== null")
    rec: dict[str, float] = page.evaluate("window.__ewClick")
    clicks.selected.append(rec["selected"] - rec["down"])
    clicks.panel.append(rec["panel"] - rec["down"])


def clock_offset(page: Page) -> tuple[float, float]:
    """Browser clock minus Python's ``time.time()``, in ms, and its uncertainty (RTT/2)."""
    best: tuple[float, float] = (0.0, math.inf)
    for _ in range(5):
        before = time.time()
        seen: float = page.evaluate("performance.timeOrigin + performance.now()")
        after = time.time()
        half = (after - before) * 500
        if half < best[1]:
            best = (seen - (before + after) * 500, half)
    return best


LABEL_TEXT = re.compile(r"^(\d+) · (?:\d+ rows · )?([\d.]+)$")


@dataclass
class LabelRun:
    """What one run with timestamp messages showed in the browser."""

    delays: list[float]  # ms, one per label update
    updates_per_second: float
    messages_per_second: float
    clicks: Clicks  # during the run
    clicks_before: Clicks
    first_label: float  # ms from pressing Run to the first label
    offset: tuple[float, float]  # the browser's clock minus Python's, and its uncertainty


def label_run(ctx: BrowserContext, url: str, seconds: float, settle: float, *,
              click: bool) -> LabelRun:
    """Run a timestamp flow for ``seconds``, then stop it; measure each label's delay.

    With ``click``, nodes are clicked a few times before the run, and all through it.

    A label's text is ``<count> · <last value>``; the last value is the wall-clock time at
    which the runtime emitted that message, so the label's delay is the time it appeared in
    the page minus that value (the clocks are compared through ``clock_offset``).
    """
    from playwright.sync_api import expect

    page = ctx.new_page()
    clicks, before = Clicks([], []), Clicks([], [])
    try:
        page.goto(url)
        expect(page.get_by_test_id("node")).to_have_count(3)
        expect(page.get_by_test_id("run")).to_be_enabled()
        page.wait_for_timeout(settle * 1000)  # the standby worker starts and warms up
        for index in range(4 if click else 0):
            click_node(page, ("src", "count")[index % 2], before)
        offset, uncertainty = clock_offset(page)
        page.evaluate(LABELS)
        pressed = time.time() * 1000
        page.get_by_test_id("run").click()
        page.wait_for_function("window.__ewLabels.length > 0")
        started = time.monotonic()
        index = 0
        while time.monotonic() - started < seconds:
            if click:
                click_node(page, ("src", "count")[index % 2], clicks)
                index += 1
            page.wait_for_timeout(300)
        records: list[list[Any]] = page.evaluate("window.__ewLabels")
        page.get_by_test_id("stop").click()
        expect(page.get_by_test_id("run")).to_be_enabled(timeout=20_000)
    finally:
        page.close()
    samples: list[tuple[float, str, int, float]] = []
    for shown, edge, text in records:
        match = LABEL_TEXT.match(text)
        if match:
            samples.append((shown, edge, int(match[1]), float(match[2]) * 1000))
    if not samples:
        msg = f"no edge label read '<count> · <timestamp>'; the first ones: {records[:4]}"
        raise RuntimeError(msg)
    delays = [shown - offset - emitted for shown, _edge, _count, emitted in samples]
    source = [(emitted, count) for _shown, edge, count, emitted in samples
              if edge == "src.data->mid.data"]
    (e0, c0), (e1, c1) = (source[0], source[-1]) if source else ((0.0, 0), (0.0, 0))
    rate = (c1 - c0) / ((e1 - e0) / 1000) if e1 > e0 else 0.0
    span = (samples[-1][0] - samples[0][0]) / 1000
    updates = len(source) / span if span > 0 else 0.0
    return LabelRun(delays, updates, rate, clicks, before,
                    samples[0][0] - offset - pressed, (offset, uncertainty))


# -- the report ----------------------------------------------------------------------------

def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def _s(value_ms: float) -> str:
    return f"{value_ms / 1000:.2f} s"


def _write_workspace(folder: Path) -> None:
    flows = {"empty.json": grid_flow(0), "grid.json": grid_flow(NODES),
             "big.json": grid_flow(BIG_NODES),
             "light.json": timestamp_flow("bench.ticker", {"count": 1_000_000}),
             "fast.json": timestamp_flow("bench.clock", {"count": 1_000_000_000})}
    for name, flow in flows.items():
        (folder / name).write_text(json.dumps(flow, indent=1), encoding="utf-8")
    example = Path(__file__).resolve().parents[1] / "flows" / EXAMPLE
    (folder / EXAMPLE).write_text(example.read_text(encoding="utf-8"), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Start the editor and a browser, measure, and print the figures with their baselines.

    Args:
        argv: The command-line arguments, or None for ``sys.argv[1:]``.

    Returns:
        The exit code: 0.
    """
    args = parse_args(__doc__ or "", argv)
    sizes = QUICK if args.quick else FULL
    if args.repeat:
        sizes = dataclasses.replace(sizes, loads=args.repeat)
    started = time.perf_counter()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="ew-bench-editor-") as tmp:
        workspace = Path(tmp) / "flows"
        workspace.mkdir()
        _write_workspace(workspace)
        plugins = _plugin_dir(Path(tmp) / "plugins")
        phases: list[tuple[str, float]] = []

        def lap(name: str) -> None:
            phases.append((name, time.perf_counter() - started - sum(t for _n, t in phases)))

        with editor_server(workspace, plugins) as url, browser() as ctx:
            lap("start")
            idle, drag = measure_drag(ctx, url + "/flow/grid.json", sizes)  # warms up, too
            big_idle, big_drag = measure_drag(ctx, url + "/flow/big.json", sizes, BIG_NODES)
            lap("drag")
            loads = measure_loads(ctx, url, sizes)
            lap("loads")
            light = label_run(ctx, url + "/flow/light.json", sizes.light_seconds, sizes.settle,
                              click=False)
            fast = label_run(ctx, url + "/flow/fast.json", sizes.fast_seconds, sizes.settle,
                             click=True)
            lap("labels")
            firsts: dict[str, list[float]] = {"example": [], "ticker": []}
            warm = sizes.settle * 2.5  # the page's standby worker gets ready
            for _ in range(sizes.loads):
                firsts["example"].append(first_label(
                    ctx, f"{url}/flow/{EXAMPLE}", EXAMPLE_NODES, stop=False, warm=warm))
                firsts["ticker"].append(first_label(ctx, url + "/flow/light.json", 3,
                                                    stop=True, warm=warm))
            lap("first label")
            share, most = canvas_share(ctx, f"{url}/flow/{EXAMPLE}", EXAMPLE_NODES)
            lap("share")
        lap("stop")
    med = statistics.median
    heading(f"Editor in headless Chromium: a {NODES}-node flow, and live labels", [
        f"Load: from navigation until all {NODES} nodes are painted; usable = painted and",
        "  connected, plus the time the canvas takes to answer a drag on its background.",
        f"  Median of {sizes.loads} loads, after a warm-up. Baseline: the same, empty flow.",
        "Drag: page.mouse drags one node in circles; frame time = requestAnimationFrame",
        "  interval of each frame presenting a drag step. Baseline: the page idle.",
        "Label delay: the source emits its wall-clock time; a label reads '<count> · <last",
        "  value>', so its delay is when it appeared in the page minus when the runtime",
        "  emitted that message (browser and Python clocks compared in the same run).",
        "  bench.clock -> stream.identity -> stream.count emits as fast as it can; baseline:",
        f"  bench.ticker, one message every {TICKER_INTERVAL * 1000:.0f} ms, same flow. Labels",
        "  pass two unsynchronised 100 ms timers (worker snapshots, editor pump), so the",
        "  delay saws between their phase gap (0-100 ms) plus transport: a short run's",
        "  median depends on that gap; the p95 shows the lag load adds.",
        "Clicks: pointerdown on a node until it is drawn selected, and until its params",
        "  panel shows it (a round trip through the server); during the fast run, and",
        "  (baseline) before it.",
        f"First label: pointerdown on Run until the first edge label has text, on {EXAMPLE},",
        f"  pressed {sizes.settle * 2.5:.0f} s after the page is usable (as a user reading the "
        "flow would); median",
        f"  of {sizes.loads} fresh pages. Baseline: the same on the bench.ticker flow, no",
        "  pandas or scikit-learn in it.",
        f"Canvas share: the canvas's box over the {SHARE_SIZE[0]}x{SHARE_SIZE[1]} window as "
        f"{EXAMPLE} opens.",
        "  Baseline: the share with both drawers closed and the footer folded (the most).",
        f"1,000 nodes: the load and drag measures above on a {BIG_NODES}-node grid flow.",
    ])
    rows = [
        row(f"usable canvas, {NODES} nodes", loads["grid usable"], loads["empty usable"],
             med, _s, TARGET_USABLE * 1000),
        row(f"painted, {NODES} nodes", loads["grid painted"], loads["empty painted"],
             med, _s),
        row("drag frame time, median", drag.frames, idle.frames, med, _ms, TARGET_FRAME),
        row("drag frame time, p95", drag.frames, idle.frames, p95, _ms),
        row(f"usable canvas, {BIG_NODES:,} nodes", loads["big usable"], loads["empty usable"],
             med, _s, TARGET_BIG_USABLE * 1000),
        row(f"painted, {BIG_NODES:,} nodes", loads["big painted"], loads["empty painted"],
             med, _s),
        row(f"drag frame time, {BIG_NODES:,} nodes, median", big_drag.frames,
             big_idle.frames, med, _ms, TARGET_BIG_FRAME),
        row(f"drag frame time, {BIG_NODES:,} nodes, p95", big_drag.frames, big_idle.frames,
             p95, _ms),
        row(f"Run -> first label, {EXAMPLE}, median", firsts["example"], firsts["ticker"],
             med, _ms, TARGET_FIRST_LABEL),
        [f"canvas share at {SHARE_SIZE[0]}x{SHARE_SIZE[1]}", f"{share:.0%}", f"{most:.0%}",
         f"{share / most:.2f}x" if most else "-", f">= {TARGET_SHARE:.0%}",
         verdict(share >= TARGET_SHARE)],
        row("label delay, median", fast.delays, light.delays, med, _ms, TARGET_DELAY),
        row("label delay, p95", fast.delays, light.delays, p95, _ms, TARGET_DELAY),
        row("click -> node selected, median", fast.clicks.selected,
             fast.clicks_before.selected, med, _ms),
        row("click -> params panel, median", fast.clicks.panel, fast.clicks_before.panel,
             med, _ms),
    ]
    print(table(["measure", "figure", "baseline", "ratio", "target", "verdict"], rows))
    print()
    print(f"drag: {len(drag.frames)} frames presenting {drag.moves} pointer moves in "
          f"{sizes.drag_seconds:.1f} s; work per move (handler + Vue update): median "
          f"{_ms(med(drag.work))}, p95 {_ms(p95(drag.work))}")
    print(f"fast run: {fast.messages_per_second:,.0f} msg/s at the source, "
          f"{fast.updates_per_second:.1f} label updates/s per edge, {len(fast.delays)} "
          f"label updates, first label {_s(fast.first_label)} after Run; light run: "
          f"{light.messages_per_second:,.0f} msg/s, {light.updates_per_second:.1f} updates/s "
          f"per edge, first label {_s(light.first_label)} after Run; browser clock - "
          f"Python clock: {fast.offset[0]:+.1f} ± {fast.offset[1]:.1f} ms")
    print(f"{BIG_NODES:,}-node drag: {len(big_drag.frames)} frames presenting "
          f"{big_drag.moves} pointer moves; work per move: median {_ms(med(big_drag.work))}, "
          f"p95 {_ms(p95(big_drag.work))}")
    print("Run -> first label (ms): " + "; ".join(f"{key} {listed(values)}"
                                                  for key, values in firsts.items()))
    print("each load (ms): " + "; ".join(f"{key} {listed(values)}"
                                         for key, values in loads.items()))
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before} before, "
          f"{load_average()} after (other processes share the CPUs; compare the ratios)")
    print(f"total {time.perf_counter() - started:.1f} s ("
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
