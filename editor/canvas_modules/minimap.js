// The minimap: the whole flow in a corner of the canvas, nodes as small rects and the
// view as a frame. Nodes are painted on a 2D <canvas> once per graph change (or after a
// drag ends), never per frame; panning and zooming move only the frame. A press or a drag
// in it centres the view there. It has the canvas's shape, so a fitted view's frame
// shows whole inside it. Shown or hidden per browser (editor/layout.py keeps it).

const W = 200;
const H_RANGE = [60, 170]; // px: the height follows the canvas's shape, within these
const PAD = 60; // canvas px of margin around the flow
const MARGIN = 0.12; // and a share of its size: the view's frame shows whole when fitted
import { NODE_W, nodeHeight } from "edgewise-canvas/geometry.js";
const STORAGE_KEY = "edgewise.layout";

function savedShown() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
    return saved.minimap !== false;
  } catch (e) {
    return true;
  }
}

export default {
  props: { nodes: Array, tx: Number, ty: Number, k: Number },
  emits: ["pan"],
  template: `
    <div class="ew-minimap-wrap" data-testid="minimap-wrap" data-fit-avoid @pointerdown.stop @wheel.stop>
      <div v-show="shown" class="ew-minimap" data-testid="minimap" :data-nodes="painted"
           :style="{width: W + 'px', height: H + 'px'}"
           @pointerdown="down" @pointermove="move" @pointerup="up" @pointercancel="up">
        <canvas ref="paper" :width="W" height="130"></canvas>
        <div class="ew-minimap-view" data-testid="minimap-viewport" :style="frame"></div>
      </div>
      <button type="button" class="ew-minimap-toggle" data-testid="minimap-toggle"
              :data-shown="String(shown)" :title="shown ? 'Hide the minimap' : 'Show the minimap'"
              @click="toggle">{{ shown ? "×" : "▣" }}</button>
    </div>`,
  data() {
    return { W, H: 130, shown: savedShown(), vw: 0, vh: 0, world: null, painted: 0, dragging: false };
  },
  computed: {
    // the view's rectangle, in minimap px
    frame() {
      const m = this.world;
      if (!m || !this.k || !this.vw) return { display: "none" };
      const x = (-this.tx / this.k - m.x) * m.s + m.ox, y = (-this.ty / this.k - m.y) * m.s + m.oy;
      return { left: `${x}px`, top: `${y}px`, width: `${(this.vw / this.k) * m.s}px`,
        height: `${(this.vh / this.k) * m.s}px` };
    },
  },
  watch: {
    nodes() { this.schedule(); }, // a new graph (not every drag frame: the watch is shallow)
    shown() { this.schedule(); },
    vw() { this.schedule(); }, // the canvas was resized: its shape is the minimap's
    vh() { this.schedule(); },
  },
  mounted() {
    const host = this.$el.parentElement;
    this.observer = new ResizeObserver(() => {
      const r = host.getBoundingClientRect();
      this.vw = r.width;
      this.vh = r.height;
    });
    this.observer.observe(host);
    // a drag of nodes (or of a group) ends with a pointerup: paint their new places once
    this.afterDrag = () => this.schedule();
    window.addEventListener("pointerup", this.afterDrag);
    this.schedule();
  },
  unmounted() {
    this.observer.disconnect();
    window.removeEventListener("pointerup", this.afterDrag);
    cancelAnimationFrame(this.frameId);
  },
  methods: {
    schedule() {
      if (this.frameId) return;
      this.frameId = requestAnimationFrame(() => {
        this.frameId = null;
        this.paint();
      });
    },
    paint() {
      const nodes = this.nodes || [];
      if (!this.shown) return;
      let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
      for (const n of nodes) {
        x1 = Math.min(x1, n.x); y1 = Math.min(y1, n.y);
        x2 = Math.max(x2, n.x + NODE_W); y2 = Math.max(y2, n.y + nodeHeight(n));
      }
      if (!nodes.length) { x1 = 0; y1 = 0; x2 = 800; y2 = 500; }
      const H = this.vw && this.vh
        ? Math.round(Math.min(H_RANGE[1], Math.max(H_RANGE[0], (W * this.vh) / this.vw))) : 130;
      // the bitmap's height is set here only: setting it (even unchanged) clears the bitmap
      if (H !== this.$refs.paper.height) this.$refs.paper.height = H;
      this.H = H;
      const mx = PAD + (x2 - x1) * MARGIN, my = PAD + (y2 - y1) * MARGIN;
      x1 -= mx; y1 -= my; x2 += mx; y2 += my;
      const s = Math.min(W / (x2 - x1), H / (y2 - y1));
      const world = { x: x1, y: y1, s, ox: (W - (x2 - x1) * s) / 2, oy: (H - (y2 - y1) * s) / 2 };
      const ctx = this.$refs.paper.getContext("2d");
      ctx.clearRect(0, 0, W, this.H);
      ctx.fillStyle = "#90a4ae";
      for (const n of nodes) {
        ctx.fillRect((n.x - x1) * s + world.ox, (n.y - y1) * s + world.oy,
          Math.max(1, NODE_W * s), Math.max(1, nodeHeight(n) * s));
      }
      this.world = world;
      this.painted = nodes.length;
    },
    // centre the view on the canvas point under the pointer
    centre(ev) {
      const m = this.world;
      if (!m) return;
      const r = this.$refs.paper.getBoundingClientRect();
      const px = (ev.clientX - r.left - m.ox) / m.s + m.x, py = (ev.clientY - r.top - m.oy) / m.s + m.y;
      this.$emit("pan", { tx: this.vw / 2 - px * this.k, ty: this.vh / 2 - py * this.k });
    },
    down(ev) {
      if (ev.button !== 0) return;
      this.dragging = true;
      ev.currentTarget.setPointerCapture(ev.pointerId);
      this.centre(ev);
    },
    move(ev) {
      if (this.dragging) this.centre(ev);
    },
    up() {
      this.dragging = false;
    },
    toggle() {
      this.shown = !this.shown;
      if (window.emitEvent) window.emitEvent("ew_layout_pref", { minimap: this.shown });
    },
  },
};
