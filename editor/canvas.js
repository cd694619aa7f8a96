// The flow canvas: an SVG node editor. The browser keeps its own copy of the graph for
// dragging, panning, zooming and wiring, and sends Python only final results.

import { EwEdge, EwNode, curve, curvePoint, edgeEnds } from "edgewise-canvas/drawing.js";
import { inputMethods } from "edgewise-canvas/input.js";
import { markPorts } from "edgewise-canvas/wiring.js";
import { EwHelp, EwMenu, EwPicker } from "edgewise-canvas/overlays.js";
import { editingMethods } from "edgewise-canvas/editing.js";
import { layoutLabels } from "edgewise-canvas/labels.js";
import EwMinimap from "edgewise-canvas/minimap.js";
import EwNotes from "edgewise-canvas/notes.js";

import { HEAD_H, NODE_W, nodeHeight } from "edgewise-canvas/geometry.js";


export default {
  components: { EwNode, EwEdge, EwMenu, EwPicker, EwHelp, EwMinimap, EwNotes },
  props: { graph: Object, catalog: Object, fits: Object },
  template: `
    <div data-testid="canvas" class="ew-canvas" tabindex="0" ref="root"
         @dragover.prevent="onDragOver" @drop.prevent="onDrop" @wheel.prevent="onWheel"
         @contextmenu.prevent="onContext">
      <svg ref="svg" width="100%" height="100%" @pointerdown="onBackgroundDown"
           @pointerover="onOver" @pointerout="onOut"
           @pointermove="onMove" @pointerup="onUp" @pointerleave="onUp">
        <defs>
          <pattern id="ew-grid" width="20" height="20" patternUnits="userSpaceOnUse"
                   :patternTransform="'translate(' + tx + ',' + ty + ') scale(' + k + ')'">
            <circle cx="1" cy="1" r="1" class="ew-grid-dot"></circle>
          </pattern>
        </defs>
        <rect width="100%" height="100%" fill="url(#ew-grid)" class="ew-background"></rect>
        <g :transform="'translate(' + tx + ',' + ty + ') scale(' + k + ')'">
          <ew-notes layer="groups" :notes="notes" :by-id="byId" :k="k" @note="(a) => $emit('note', a)"></ew-notes>
          <ew-edge v-for="e in edges" :key="e.id" :edge="e"
                   :src="byId[e.source.split('.')[0]]" :dst="byId[e.target.split('.')[0]]"
                   :selected="selEdges.has(e.id)" :problem="problemEdges.has(e.id)"
                   :highlight="lit.has(e.id)" :change="changes[e.id]"
                   @edge-down="(ev) => onEdgeDown(ev, e)"></ew-edge>
          <path v-if="wire" class="ew-wire" :d="wirePath"></path>
          <ew-node v-for="n in nodes" :key="n.id" :node="n" :selected="selNodes.has(n.id)"
                   :status="states[n.id] || idle" :problem="problemNodes.has(n.id)"
                   :highlight="lit.has(n.id)"
                   @body-down="(ev) => onNodeDown(ev, n)"
                   @port-down="(ev, port, dir) => onPortDown(ev, n, port, dir)"></ew-node>
          <ew-notes layer="comments" :notes="notes" :by-id="byId" :k="k" @note="(a) => $emit('note', a)"></ew-notes>
          <rect v-if="box" class="ew-box" :x="Math.min(box.x1, box.x2)" :y="Math.min(box.y1, box.y2)"
                :width="Math.abs(box.x2 - box.x1)" :height="Math.abs(box.y2 - box.y1)"></rect>
        </g>
      </svg>
      <div v-if="tip" data-testid="edge-label-tooltip" class="ew-label-tip"
           :style="{left: tip.x + 'px', top: tip.y + 'px'}">{{ tip.text }}</div>
      <div v-if="refusal" data-testid="connection-refused" class="ew-refusal"
           :style="{left: refusal.x + 'px', top: refusal.y + 'px'}">{{ refusal.text }}</div>
      <div v-if="!nodes.length" class="ew-empty">Drag a component from the palette to start.</div>
      <ew-menu v-if="menu" :menu="menu" @pick="onMenuPick"></ew-menu>
      <ew-picker v-if="picker" :key="picker.testid + picker.x + picker.y" :picker="picker"
                 @pick="onPick" @close="closeOverlays"></ew-picker>
      <ew-help v-if="helping" @close="closeOverlays"></ew-help>
      <ew-minimap :nodes="nodes" :tx="tx" :ty="ty" :k="k" @pan="(p) => { tx = p.tx; ty = p.ty; }"></ew-minimap>
    </div>`,
  data() {
    return {
      nodes: [],
      edges: [],
      tx: 0,
      ty: 0,
      k: 1,
      selNodes: new Set(),
      selEdges: new Set(),
      problemNodes: new Set(),
      problemEdges: new Set(),
      lit: new Set(),
      changes: {},
      states: {},
      idle: { state: "idle", errors: 0 },
      drag: null,
      wire: null,
      box: null,
      pan: null,
      refusal: null,
      tip: null,
      menu: null,
      picker: null,
      helping: false,
      notes: { comments: [], groups: [] },
      fitTable: this.fits || {},
    };
  },
  watch: {
    // crossing the zoom where labels shorten to their counts lays them out again
    k() {
      if (this.k < 1 || this.labelScale !== 1) this.scheduleLabels();
    },
  },
  computed: {
    byId() {
      const map = {};
      for (const n of this.nodes) map[n.id] = n;
      return map;
    },
    wirePath() {
      const w = this.wire;
      return w.dir === "out" ? curve(w.x1, w.y1, w.x2, w.y2) : curve(w.x2, w.y2, w.x1, w.y1);
    },
  },
  mounted() {
    this.labels = {};
    this.setGraph(this.graph || { nodes: [], edges: [] }, true);
    this.keyHandler = (e) => this.onKey(e);
    document.addEventListener("keydown", this.keyHandler);
    this.dragStart = (e) => {
      const item = e.target.closest && e.target.closest("[draggable=true][data-component]");
      if (item) {
        e.dataTransfer.setData("application/x-edgewise-component", item.dataset.component);
        e.dataTransfer.setData("text/plain", item.dataset.component);
        e.dataTransfer.effectAllowed = "copy";
      }
    };
    document.addEventListener("dragstart", this.dragStart);
  },
  unmounted() {
    document.removeEventListener("keydown", this.keyHandler);
    document.removeEventListener("dragstart", this.dragStart);
  },
  methods: {
    ...editingMethods({ NODE_W, HEAD_H, nodeHeight }),
    ...inputMethods,
    // ---- called from Python ----
    setGraph(graph, fit) {
      this.dropAt = null;
      const catalog = this.catalog || {};
      const nodes = graph.nodes.map((n) => ({ ...(catalog[n.component] || {}), ...n }));
      // Fit from the nodes' coordinates before drawing them, so measuring the view does not
      // force a layout of thousands of fresh SVG elements.
      const fitted = fit && this.fitTo(nodes);
      this.nodes = nodes;
      this.edges = graph.edges.map((e) => ({ ...e }));
      this.notes = graph.notes || { comments: [], groups: [] };
      const ids = new Set(this.nodes.map((n) => n.id));
      this.selNodes = new Set([...this.selNodes].filter((id) => ids.has(id)));
      const eids = new Set(this.edges.map((e) => e.id));
      this.selEdges = new Set([...this.selEdges].filter((id) => eids.has(id)));
      this.$nextTick(() => {
        this.paintLabels(Object.keys(this.labels));
        if (fit && !fitted) this.fit();
      });
    },
    setLabels(labels) {
      Object.assign(this.labels, labels);
      this.paintLabels(Object.keys(labels));
    },
    clearRun() {
      this.labels = {};
      this.states = {};
      this.tip = null;
      for (const el of this.$el.querySelectorAll(".ew-edge-tag")) {
        el.style.display = "none";
        el.querySelector("text").textContent = "";
      }
    },
    setStates(states) {
      this.states = { ...this.states, ...states };
    },
    setProblems(problems) {
      this.problemNodes = new Set(problems.nodes);
      this.problemEdges = new Set(problems.edges);
    },
    selectItems(sel) {
      this.selNodes = new Set(sel.nodes || []);
      this.selEdges = new Set(sel.edges || []);
    },
    highlightItems(ids) {
      this.lit = new Set(ids || []);
    },
    markChanges(changes) {
      this.changes = changes || {};
    },
    // A refusal without a place answers the wire dropped last, and is shown where it was.
    showRefusal(text, x, y) {
      const rect = this.$refs.root.getBoundingClientRect(), at = this.dropAt || {};
      this.dropAt = null;
      this.refusal = { text, x: x ?? at.x ?? rect.width / 2 - 120, y: y ?? at.y ?? 16 };
      clearTimeout(this.refusalTimer);
      this.refusalTimer = setTimeout(() => (this.refusal = null), 3000);
    },
    setFits(table) {
      this.fitTable = table || {};
    },
    // Python's answer to "wire_started": the ports the held wire may join (by the runtime).
    markFits(answer) {
      if (this.wire && this.wire.key === answer.key) markPorts(this.$el, this.wire, new Set(answer.fits));
    },
    fit() {
      this.fitTo(this.nodes);
    },
    // Fit the given nodes into the view; false if the view has no size yet.
    fitTo(nodes) {
      const rect = this.$refs.root.getBoundingClientRect();
      if (!nodes.length || !rect.width) {
        this.tx = 0; this.ty = 0; this.k = 1;
        return !nodes.length;
      }
      let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
      for (const n of nodes) {
        x1 = Math.min(x1, n.x); y1 = Math.min(y1, n.y);
        x2 = Math.max(x2, n.x + NODE_W); y2 = Math.max(y2, n.y + nodeHeight(n));
      }
      // The flow goes into the largest free area beside or above what floats over the canvas
      // (the minimap), so no node or label is fitted under it.
      const pad = 40;
      let best = null;
      for (const area of this.freeAreas(rect)) {
        const k = Math.max(0.1, Math.min(1.5, (area.x2 - area.x1 - 2 * pad) / (x2 - x1),
          (area.y2 - area.y1 - 2 * pad) / (y2 - y1)));
        if (!best || k > best.k + 1e-9) best = { k, area };
      }
      const { k, area } = best;
      this.k = k;
      this.tx = area.x1 + (area.x2 - area.x1 - (x2 - x1) * k) / 2 - x1 * k;
      this.ty = area.y1 + (area.y2 - area.y1 - (y2 - y1) * k) / 2 - y1 * k;
      return true;
    },
    // The view's areas free of the parts floating over the canvas ([data-fit-avoid]), each
    // avoiding every such part by keeping left of it or above (below) it.
    freeAreas(rect) {
      let areas = [{ x1: 0, y1: 0, x2: rect.width, y2: rect.height }];
      for (const el of (this.$refs.root.parentElement || this.$refs.root).querySelectorAll("[data-fit-avoid]")) {
        const r = el.getBoundingClientRect();
        if (!r.width || !r.height) continue;
        const o = { x1: r.left - rect.left - 8, y1: r.top - rect.top - 8,
          x2: r.right - rect.left + 8, y2: r.bottom - rect.top + 8 };
        const top = o.y1 + o.y2 < rect.height;
        areas = areas.flatMap((a) => [
          { ...a, x2: Math.min(a.x2, o.x1) },
          top ? { ...a, y1: Math.max(a.y1, o.y2) } : { ...a, y2: Math.min(a.y2, o.y1) },
        ]).filter((a) => a.x2 - a.x1 > 120 && a.y2 - a.y1 > 120);
      }
      return areas.length ? areas : [{ x1: 0, y1: 0, x2: rect.width, y2: rect.height }];
    },
    // ---- labels are written straight to the DOM: no Vue render per update ----
    paintLabels() {
      this.scheduleLabels();
    },
    scheduleLabels() {
      if (this.labelFrame) return;
      this.labelFrame = requestAnimationFrame(() => {
        this.labelFrame = null;
        this.layoutLabels();
      });
    },
    // Place every label on the free part of its wire (see canvas_modules/labels.js).
    layoutLabels() {
      layoutLabels(this, { NODE_W, nodeHeight, edgeEnds, curvePoint });
    },
    // the full text of a label, shown over the canvas while the pointer is on it
    onOver(ev) {
      const tag = ev.target.closest && ev.target.closest(".ew-edge-tag");
      if (!tag || this.drag || this.pan || this.box || this.wire) return;
      const text = tag.querySelector("text").dataset.full;
      const root = this.$refs.root.getBoundingClientRect(), r = tag.getBoundingClientRect();
      this.tip = { text, x: r.left - root.left, y: Math.max(0, r.top - root.top - 26) };
    },
    onOut(ev) {
      const tag = ev.target.closest && ev.target.closest(".ew-edge-tag");
      if (tag && !(ev.relatedTarget && tag.contains(ev.relatedTarget))) this.tip = null;
    },
    // ---- geometry ----
    toCanvas(ev) {
      const rect = this.$refs.svg.getBoundingClientRect();
      return { x: (ev.clientX - rect.left - this.tx) / this.k, y: (ev.clientY - rect.top - this.ty) / this.k };
    },
  },
};
