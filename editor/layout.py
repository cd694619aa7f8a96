"""The editor's frame: collapsible, resizable drawers and footer, remembered per browser."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from nicegui import ui

STORAGE_KEY = "edgewise.layout"
# narrow enough that the canvas gets over 60% of a 1280x720 window; the user may widen them
DEFAULTS: dict[str, Any] = {"left": True, "right": True, "lw": 170, "rw": 220, "fh": 200,
                            "minimap": True}
PREFS = ("minimap",)  # parts the browser shows or hides itself (canvas_modules/minimap.js)
HEADER, TAB_BAR = 48, 37  # px: the header's height, the folded footer's
LIMITS = {"lw": (140, 520), "rw": (200, 720), "fh": (80, 600)}

# The canvas host is fixed in the free rectangle between header, drawers and footer, measured
# from their real boxes: after a toggle, a drag, a window resize or a drawer's transition.
SCRIPT = """<script>
window.ewLayout = {
  box(sel) {
    const el = document.querySelector(sel);
    if (!el || getComputedStyle(el).display === 'none') return null;
    const b = el.getBoundingClientRect();
    return b.width > 0 && b.height > 0 ? b : null;
  },
  fit() {
    const host = document.querySelector('[data-role="canvas-area"]');
    if (!host) return;
    const W = window.innerWidth, H = window.innerHeight;
    const header = this.box('.q-header'), footer = this.box('.q-footer');
    const left = this.box('.q-drawer--left'), right = this.box('.q-drawer--right');
    const place = {
      top: (header ? Math.max(0, header.bottom) : 0) + 'px',
      bottom: (footer ? Math.max(0, H - footer.top) : 0) + 'px',
      left: (left ? Math.max(0, left.right) : 0) + 'px',
      right: (right ? Math.max(0, W - right.left) : 0) + 'px',
    };
    for (const k in place) if (host.style[k] !== place[k]) host.style[k] = place[k];
  },
  drag(ev, which, min, max) {
    ev.preventDefault();
    const footer = which === 'fh';
    const el = footer ? document.querySelector('[data-role="footer-panels"]')
      : document.querySelector(which === 'lw' ? '.q-drawer--left' : '.q-drawer--right');
    if (!el) return;
    const b = el.getBoundingClientRect();
    const start = footer ? ev.clientY : ev.clientX, size0 = footer ? b.height : b.width;
    let size = size0;
    const move = (e) => {
      const d = which === 'lw' ? e.clientX - start
        : which === 'rw' ? start - e.clientX : start - e.clientY;
      size = Math.round(Math.min(max, Math.max(min, size0 + d)));
      el.style[footer ? 'height' : 'width'] = size + 'px';
      this.fit();
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      emitEvent('ew_layout_resize', {which, size});
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  },
};
for (const kind of ['pointerdown', 'wheel', 'keydown', 'dragstart']) {
  document.addEventListener(kind, () => { window.ewLayout.touched = true; }, true);
}
window.addEventListener('resize', () => window.ewLayout.fit());
document.addEventListener('transitionend', () => window.ewLayout.fit(), true);
setInterval(() => window.ewLayout.fit(), 200);
</script>"""


class Layout:
    """Drawers and footer of one page: open or closed, their sizes, kept in localStorage.

    The footer collapses to its tab bar when there is nothing new, and opens when something
    arrives (see ``open_footer``).
    """

    def __init__(self) -> None:
        self.state: dict[str, Any] = dict(DEFAULTS)
        self.left: ui.left_drawer
        self.right: ui.right_drawer
        self.panels: ui.tab_panels
        self.footer_open = False
        ui.add_head_html(SCRIPT)
        ui.on("ew_layout_resize", self._resized)
        ui.on("ew_layout_pref", self._pref)

    def host_style(self) -> str:
        """Where the canvas host starts, before the script measures the real boxes."""
        return (f"top: {HEADER}px; bottom: {TAB_BAR}px; "
                f"left: {self.state['lw'] if self.state['left'] else 0}px; "
                f"right: {self.state['rw'] if self.state['right'] else 0}px")

    def toggle_buttons(self) -> None:
        """The header's buttons that collapse and reopen each part."""
        ui.button(icon="vertical_split", on_click=lambda: self.set_drawer("left")).props(
            'flat color=white data-testid="toggle-left"').tooltip("Show or hide the palette")
        ui.button(icon="call_to_action", on_click=self.toggle_footer).props(
            'flat color=white data-testid="toggle-footer"').tooltip(
            "Show or hide the bottom panel")
        ui.button(icon="view_sidebar", on_click=lambda: self.set_drawer("right")).props(
            'flat color=white data-testid="toggle-right"').tooltip(
            "Show or hide the params and inspector")

    def left_drawer(self) -> ui.left_drawer:
        """The left drawer, with its resize handle."""
        self.left = ui.left_drawer(value=self.state["left"]).props(
            f'width={self.state["lw"]} data-testid="drawer-left"')
        with self.left:
            self._handle("lw", "ew-resize-x ew-resize-right", "resize-left")
        return self.left

    def right_drawer(self) -> ui.right_drawer:
        """The right drawer, with its resize handle."""
        self.right = ui.right_drawer(value=self.state["right"]).props(
            f'width={self.state["rw"]} data-testid="drawer-right"')
        with self.right:
            self._handle("rw", "ew-resize-x ew-resize-left", "resize-right")
        return self.right

    def footer_handle(self) -> None:
        """The footer's resize handle, on its top edge."""
        self._handle("fh", "ew-resize-y", "resize-footer")

    def footer_panels(self, panels: ui.tab_panels) -> None:
        """Take charge of the footer's panels: their height, and collapsed or not."""
        self.panels = panels
        panels.props('data-testid="footer-panels" data-role="footer-panels"')
        self._apply_footer()

    def _handle(self, which: str, classes: str, testid: str) -> None:
        low, high = LIMITS[which]
        ui.element("div").classes(f"ew-resize {classes}").props(
            f'data-testid="{testid}"').on(
            "pointerdown", js_handler=f"(e) => window.ewLayout.drag(e, '{which}', {low}, {high})")

    # -- changes ---------------------------------------------------------------------------

    def set_drawer(self, side: str, value: bool | None = None) -> None:
        """Open, close or (without ``value``) toggle a drawer."""
        self.state[side] = (not self.state[side]) if value is None else value
        (self.left if side == "left" else self.right).set_value(self.state[side])
        self._save()

    def toggle_footer(self) -> None:
        """Collapse the footer to its tab bar, or open it."""
        self.footer_open = not self.footer_open
        self._apply_footer()

    def open_footer(self) -> None:
        """Something new arrived (or a tab was clicked): show the footer's panels."""
        if not self.footer_open:
            self.footer_open = True
            self._apply_footer()

    def _apply_footer(self) -> None:
        self.panels.set_visibility(self.footer_open)
        self.panels.style(f'height: {self.state["fh"]}px; overflow: auto')
        self.panels.props(f'data-open="{str(self.footer_open).lower()}"')

    def _resized(self, e: Any) -> None:
        which, size = e.args.get("which"), e.args.get("size")
        if which not in LIMITS or not isinstance(size, (int, float)):
            return
        low, high = LIMITS[which]
        self.state[which] = int(min(high, max(low, size)))
        if which == "lw":
            self.left.props(f"width={self.state['lw']}")
        elif which == "rw":
            self.right.props(f"width={self.state['rw']}")
        else:
            self._apply_footer()
        self._save()

    def _pref(self, e: Any) -> None:
        """The browser showed or hid a part (the minimap): remember it with the rest."""
        args = e.args if isinstance(e.args, dict) else {}
        changed = {k: v for k, v in args.items() if k in PREFS and isinstance(v, bool)}
        if changed:
            self.state.update(changed)
            self._save()

    def _save(self) -> None:
        ui.run_javascript(f"localStorage.setItem({json.dumps(STORAGE_KEY)}, "
                          f"{json.dumps(json.dumps(self.state))}); window.ewLayout.fit();")

    async def restore(self, settled: Callable[[], None]) -> None:
        """Apply the sizes and drawers this browser last used.

        Args:
            settled: called once the canvas has its final box (to fit the flow into it).
        """
        try:
            raw = await ui.run_javascript(
                f"return localStorage.getItem({json.dumps(STORAGE_KEY)})", timeout=5)
            saved = json.loads(raw) if isinstance(raw, str) else {}
        except (TimeoutError, ValueError):
            return
        if not isinstance(saved, dict):
            return
        before = dict(self.state)
        for key in PREFS:  # the browser read these itself: only keep them
            if isinstance(saved.get(key), bool):
                self.state[key] = before[key] = saved[key]
        for key in ("left", "right"):
            if isinstance(saved.get(key), bool) and saved[key] != self.state[key]:
                self.state[key] = saved[key]
                (self.left if key == "left" else self.right).set_value(saved[key])
        for key, (low, high) in LIMITS.items():
            if isinstance(saved.get(key), (int, float)):
                self.state[key] = int(min(high, max(low, saved[key])))
        self.left.props(f"width={self.state['lw']}")
        self.right.props(f"width={self.state['rw']}")
        self._apply_footer()
        if self.state == before:  # the canvas is already where it belongs
            return
        with contextlib.suppress(TimeoutError):  # the drawers' transitions end, then the canvas
            untouched = await ui.run_javascript(
                "await new Promise(r => setTimeout(r, 300)); window.ewLayout.fit(); "
                "return !window.ewLayout.touched", timeout=5)
            if untouched is True:  # the user has not started working on the canvas yet
                settled()
