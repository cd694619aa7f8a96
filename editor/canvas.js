// The flow canvas: an SVG node editor. The browser keeps its own copy of the graph for
// dragging, panning, zooming and wiring, and sends Python only final results.

import { clearPorts, connectionProblem, markPorts } from "edgewise-canvas/wiring.js";
import { EwHelp, EwMenu, EwPicker } from "edgewise-canvas/overlays.js";
import { editingMethods } from "edgewise-canvas/editing.js";
import { layoutLabels } from "edgewise-canvas/labels.js";
import EwMinimap from "edgewise-canvas/minimap.js";
import EwNotes from "edgewise-canvas/notes.js";

import { FACE_H, HEAD_H, NODE_W, ROW_H, STATUS_H, headHeight, nodeHeight, portY } from "edgewise-canvas/geometry.js";

const FACE_CHARS = 28, STATUS_CHARS = 30;

function clip(text, chars) {
  return text.length > chars ? text.slice(0, chars - 1) + "…" : text;
}

function portPos(node, port, direction) {
  const list = direction === "in" ? node.inputs : node.outputs;
  const i = Math.max(0, list.findIndex((p) => p.name === port));
  return { x: direction === "in" ? node.x : node.x + NODE_W, y: portY(node, i) };
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// A node's ports are drawn as one piece of markup instead of four Vue-managed elements per
// port: a 300-node flow has 900 ports. They change only when Python sends the graph again
// (a node whose ports follow its params, after a params edit), which redraws the node.
function portsMarkup(node) {
  const rows = [];
  const id = esc(node.id);
  const head = headHeight(node);
  node.inputs.forEach((p, i) => {
    const y = head + ROW_H * i + ROW_H / 2;
    const cls = p.mode === "latest" ? "ew-port latest" : "ew-port";
    rows.push(`<circle data-testid="port" data-port="${id}.${esc(p.name)}" data-direction="in" class="${cls}" cx="0" cy="${y}" r="6"></circle>`,
      `<text class="ew-port-label" x="10" y="${y + 4}">${esc(p.name)}</text>`);
  });
  node.outputs.forEach((p, i) => {
    const y = head + ROW_H * i + ROW_H / 2;
    const cls = p.name === "error" ? "ew-port error" : "ew-port";
    rows.push(`<circle data-testid="port" data-port="${id}.${esc(p.name)}" data-direction="out" class="${cls}" cx="${NODE_W}" cy="${y}" r="6"></circle>`,
      `<text class="ew-port-label" x="${NODE_W - 10}" text-anchor="end" y="${y + 4}">${esc(p.name)}</text>`);
  });
  return rows.join("");
}

function curve(x1, y1, x2, y2) {
  const dx = Math.max(40, Math.abs(x2 - x1) / 2);
  return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
}

// The point at parameter t of the same cubic curve that curve() draws.
function curvePoint(a, b, t) {
  const dx = Math.max(40, Math.abs(b.x - a.x) / 2);
  const u = 1 - t, w0 = u * u * u, w1 = 3 * u * u * t, w2 = 3 * u * t * t, w3 = t * t * t;
  return { x: w0 * a.x + w1 * (a.x + dx) + w2 * (b.x - dx) + w3 * b.x,
    y: w0 * a.y + w1 * a.y + w2 * b.y + w3 * b.y };
}

function edgeEnds(edge, src, dst) {
  const sp = edge.source.slice(edge.source.indexOf(".") + 1);
  const tp = edge.target.slice(edge.target.indexOf(".") + 1);
  return [portPos(src, sp, "out"), portPos(dst, tp, "in")];
}

const EwNode = {
  props: ["node", "selected", "status", "problem", "highlight"],
  emits: ["body-down", "port-down"],
  template: `
    <g data-testid="node" :data-node-id="node.id" :data-component="node.component"
       :class="['ew-node', {selected, unknown: node.unknown, problem, highlight}]"
       :transform="'translate(' + node.x + ',' + node.y + ')'" @pointerdown.stop="down">
      <title>{{ tooltip }}</title>
      <rect class="ew-body" :width="W" :height="height" rx="6"></rect>
      <text class="ew-title" x="10" y="19">{{ caption }}</text>
      <text v-if="node.face" data-testid="node-face" :data-full="node.face" class="ew-face" x="10" y="34">{{ faceCaption }}</text>
      <text v-if="status.text" data-testid="node-status-text" :data-full="status.text"
            :class="['ew-status-text', 'ew-status-' + status.state]" x="10" :y="height - 6">{{ statusCaption }}</text>
      <g data-testid="node-status" :data-state="status.state" :transform="'translate(' + (W - 16) + ',15)'">
        <circle r="6" :class="'ew-state-' + status.state"></circle>
        <text v-if="status.errors" x="-10" y="4" text-anchor="end" class="ew-errors">{{ status.errors }}</text>
      </g>
      <g class="ew-ports" v-html="portsHtml"></g>
    </g>`,
  methods: {
    // One listener per node: a press on a port starts a wire, anywhere else a drag.
    down(ev) {
      const port = ev.target.dataset && ev.target.dataset.port;
      if (port) {
        this.$emit("port-down", ev, port.slice(port.indexOf(".") + 1), ev.target.dataset.direction);
      } else {
        this.$emit("body-down", ev);
      }
    },
  },
  data() {
    return { W: NODE_W, HEAD_H, ROW_H };
  },
  computed: {
    height() {
      return nodeHeight(this.node);
    },
    portsHtml() {
      return portsMarkup(this.node);
    },
    tooltip() {
      // One tooltip per node, naming its state and its ports' types, instead of one per port.
      const ports = (list, arrow) => list.map((p) => `${arrow} ${p.name}: ${p.type}${p.mode === "latest" ? " (latest)" : ""}`);
      const lines = [this.node.title, ...(this.node.face ? [this.node.face] : []),
        `state: ${this.status.state}${this.status.text ? ` (${this.status.text})` : this.status.errors ? ` (${this.status.errors} errors)` : ""}`,
        ...ports(this.node.inputs, "in "), ...ports(this.node.outputs, "out")];
      if (this.node.doc) lines.push("", this.node.doc);
      return lines.join("\n");
    },
    caption() {
      const text = this.node.label || this.node.id;
      return text.length > 20 ? text.slice(0, 19) + "…" : text;
    },
    faceCaption() {
      return clip(this.node.face, FACE_CHARS);
    },
    statusCaption() {
      return clip(this.status.text, STATUS_CHARS);
    },
  },
};

const EwEdge = {
  // Each edge computes its own path from its two nodes, so dragging a node re-renders
  // only that node and the edges touching it.
  props: ["edge", "src", "dst", "selected", "problem", "highlight", "change"],
  emits: ["edge-down"],
  template: `
    <g data-testid="edge" :data-edge="edge.id" :data-change="change || null"
       :class="['ew-edge', change ? 'change-' + change : '', {selected, problem, highlight, error: edge.source.endsWith('.error')}]">
      <path class="ew-edge-hit" :d="d" @pointerdown.stop="$emit('edge-down', $event)"></path>
      <path class="ew-edge-line" :d="d"></path>
      <g class="ew-edge-tag" data-testid="edge-tag" style="display: none"
         @pointerdown.stop="$emit('edge-down', $event)">
        <rect data-testid="edge-label-bg" class="ew-edge-label-bg" rx="4" ry="4"></rect>
        <text data-testid="edge-label" class="ew-edge-label" text-anchor="middle"></text>
      </g>
    </g>`,
  computed: {
    ends() {
      return this.src && this.dst ? edgeEnds(this.edge, this.src, this.dst) : null;
    },
    d() {
      const e = this.ends;
      return e ? curve(e[0].x, e[0].y, e[1].x, e[1].y) : "";
    },
  },
};

export default {
  components: { EwNode, EwEdge, EwMenu, EwPicker, EwHelp, EwMinimap, EwNotes },
  props: { graph: Object, catalog: Object },
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
      const item = e.target.closest && e.target.closest("[data-testid=palette-item]");
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
    // ---- called from Python ----
    setGraph(graph, fit) {
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
      for (const el of this.$el.querySelectorAll("[data-testid=edge-tag]")) {
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
    showRefusal(text, x, y) {
      const rect = this.$refs.root.getBoundingClientRect();
      this.refusal = { text, x: x ?? rect.width / 2 - 120, y: y ?? 16 };
      clearTimeout(this.refusalTimer);
      this.refusalTimer = setTimeout(() => (this.refusal = null), 3000);
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
      const tag = ev.target.closest && ev.target.closest("[data-testid=edge-tag]");
      if (!tag || this.drag || this.pan || this.box || this.wire) return;
      const text = tag.querySelector("text").dataset.full;
      const root = this.$refs.root.getBoundingClientRect(), r = tag.getBoundingClientRect();
      this.tip = { text, x: r.left - root.left, y: Math.max(0, r.top - root.top - 26) };
    },
    onOut(ev) {
      const tag = ev.target.closest && ev.target.closest("[data-testid=edge-tag]");
      if (tag && !(ev.relatedTarget && tag.contains(ev.relatedTarget))) this.tip = null;
    },
    // ---- geometry ----
    toCanvas(ev) {
      const rect = this.$refs.svg.getBoundingClientRect();
      return { x: (ev.clientX - rect.left - this.tx) / this.k, y: (ev.clientY - rect.top - this.ty) / this.k };
    },
    // ---- pointer handling ----
    emitSelection() {
      this.$emit("selection", { nodes: [...this.selNodes], edges: [...this.selEdges] });
    },
    onNodeDown(ev, n) {
      if (ev.button !== 0) return;
      this.$refs.root.focus({ preventScroll: true });
      if (ev.shiftKey) {
        const s = new Set(this.selNodes);
        s.has(n.id) ? s.delete(n.id) : s.add(n.id);
        this.selNodes = s;
      } else if (!this.selNodes.has(n.id)) {
        this.selNodes = new Set([n.id]);
        this.selEdges = new Set();
      }
      this.emitSelection();
      const p = this.toCanvas(ev);
      const moving = [...this.selNodes].map((id) => this.byId[id]).filter(Boolean);
      this.drag = { start: p, moved: false, items: moving.map((m) => ({ node: m, x: m.x, y: m.y })) };
      // one node without wires may be dropped on a wire, to go in between
      this.drag.loose = moving.length === 1 && !this.edges.some((e) => [e.source, e.target].some((r) => r.split(".")[0] === moving[0].id));
      this.$refs.svg.setPointerCapture(ev.pointerId);
    },
    onEdgeDown(ev, e) {
      if (ev.button !== 0) return;
      this.$refs.root.focus({ preventScroll: true });
      if (ev.shiftKey) {
        const s = new Set(this.selEdges);
        s.has(e.id) ? s.delete(e.id) : s.add(e.id);
        this.selEdges = s;
      } else {
        this.selEdges = new Set([e.id]);
        this.selNodes = new Set();
      }
      this.emitSelection();
      this.$emit("edge_clicked", { edge: e.id });
    },
    onPortDown(ev, n, port, dir) {
      if (ev.button !== 0) return;
      this.closeOverlays();
      const pos = portPos(n, port, dir);
      this.wire = { node: n.id, port, dir, x1: pos.x, y1: pos.y, x2: pos.x, y2: pos.y,
        cx: ev.clientX, cy: ev.clientY, moved: false };
      markPorts(this.$el, this.byId, this.edges, this.wire);
      this.$refs.svg.setPointerCapture(ev.pointerId);
    },
    onBackgroundDown(ev) {
      this.$refs.root.focus({ preventScroll: true });
      this.closeOverlays();
      const p = this.toCanvas(ev);
      if (ev.button === 1 || ev.button === 2 || ev.altKey || ev.ctrlKey || ev.metaKey) {
        this.pan = { x: ev.clientX, y: ev.clientY, tx: this.tx, ty: this.ty };
      } else if (ev.button === 0) {
        this.box = { x1: p.x, y1: p.y, x2: p.x, y2: p.y, add: ev.shiftKey };
      }
      this.$refs.svg.setPointerCapture(ev.pointerId);
    },
    onMove(ev) {
      this.pointer = { clientX: ev.clientX, clientY: ev.clientY }; // where Ctrl+V pastes
      if (this.drag) {
        const p = this.toCanvas(ev);
        const dx = p.x - this.drag.start.x, dy = p.y - this.drag.start.y;
        if (Math.abs(dx) + Math.abs(dy) > 2) this.drag.moved = true;
        for (const it of this.drag.items) {
          it.node.x = it.x + dx;
          it.node.y = it.y + dy;
        }
        if (Object.keys(this.labels).length) this.scheduleLabels();
        if (this.drag.loose) this.markSplice(this.drag.moved ? this.edgeAt(ev) : null);
      } else if (this.wire) {
        const p = this.toCanvas(ev);
        this.wire.x2 = p.x;
        this.wire.y2 = p.y;
        if (Math.abs(ev.clientX - this.wire.cx) + Math.abs(ev.clientY - this.wire.cy) > 4) this.wire.moved = true;
      } else if (this.box) {
        const p = this.toCanvas(ev);
        this.box.x2 = p.x;
        this.box.y2 = p.y;
      } else if (this.pan) {
        this.tx = this.pan.tx + ev.clientX - this.pan.x;
        this.ty = this.pan.ty + ev.clientY - this.pan.y;
        if (this.menu && Math.abs(ev.clientX - this.pan.x) + Math.abs(ev.clientY - this.pan.y) > 4) this.menu = null;
      }
    },
    onUp(ev) {
      if (this.drag) {
        const d = this.drag;
        this.drag = null;
        const onto = d.loose && d.moved && ev.type !== "pointerleave" ? this.edgeAt(ev) : null;
        this.markSplice(null);
        if (onto) { // one unconnected node dropped on a wire: put it in between
          const n = d.items[0].node;
          this.$emit("node_spliced", { node: n.id, edge: onto, x: Math.round(n.x), y: Math.round(n.y) });
        } else if (d.moved) {
          this.$emit("nodes_moved", { positions: d.items.map((it) => ({ id: it.node.id, x: Math.round(it.node.x), y: Math.round(it.node.y) })) });
        }
      } else if (this.wire) {
        const w = this.wire;
        this.wire = null;
        clearPorts(this.$el);
        // a click on a port (no drag) is not an attempt to connect it to itself
        if (ev.type === "pointerleave" || !w.moved) return;
        const el = document.elementFromPoint(ev.clientX, ev.clientY);
        const target = el && el.closest("[data-testid=port]");
        if (target) {
          if (target.dataset.port !== `${w.node}.${w.port}`) this.tryConnect(w, target.dataset.port, target.dataset.direction, ev);
        } else if (el && !el.closest("[data-testid=node]") && this.$refs.svg.contains(el)) {
          this.openQuickAdd(w, ev); // a wire dropped on empty canvas: add a node there
        }
      } else if (this.box) {
        const b = this.box;
        this.box = null;
        const x1 = Math.min(b.x1, b.x2), x2 = Math.max(b.x1, b.x2), y1 = Math.min(b.y1, b.y2), y2 = Math.max(b.y1, b.y2);
        if (x2 - x1 < 3 && y2 - y1 < 3) {
          if (!b.add) { this.selNodes = new Set(); this.selEdges = new Set(); this.emitSelection(); }
          return;
        }
        const s = b.add ? new Set(this.selNodes) : new Set();
        for (const n of this.nodes) {
          if (n.x < x2 && n.x + NODE_W > x1 && n.y < y2 && n.y + nodeHeight(n) > y1) s.add(n.id);
        }
        this.selNodes = s;
        if (!b.add) this.selEdges = new Set();
        this.emitSelection();
      } else if (this.pan) {
        this.pan = null;
      }
    },
    // A pinch (the browser sends it as a wheel with ctrlKey), Ctrl+wheel and a mouse wheel's
    // notches zoom; a trackpad's two-finger scroll (fine or sideways deltas) pans.
    onWheel(ev) {
      const notch = ev.deltaMode !== 0 || (ev.deltaX === 0 && Math.abs(ev.deltaY) >= 50 && Number.isInteger(ev.deltaY));
      if (!ev.ctrlKey && !notch) {
        this.tx -= ev.deltaX;
        this.ty -= ev.deltaY;
        return;
      }
      const rect = this.$refs.svg.getBoundingClientRect();
      const mx = ev.clientX - rect.left, my = ev.clientY - rect.top;
      const k = Math.min(3, Math.max(0.1, this.k * Math.exp(-ev.deltaY * (ev.ctrlKey && !notch ? 0.01 : 0.0015))));
      this.tx = mx - ((mx - this.tx) * k) / this.k;
      this.ty = my - ((my - this.ty) * k) / this.k;
      this.k = k;
    },
    onDrop(ev) {
      const id = ev.dataTransfer.getData("application/x-edgewise-component") || ev.dataTransfer.getData("text/plain");
      if (!id) return;
      const p = this.toCanvas(ev);
      const edge = this.edgeAt(ev); // dropped on a wire: put in between
      this.markSplice(null);
      this.$emit("node_dropped", { component: id, x: Math.round(p.x - NODE_W / 2), y: Math.round(p.y - HEAD_H / 2), edge });
    },
    onDragOver(ev) {
      this.markSplice(this.edgeAt(ev));
    },
    // ---- connections: checked here for an instant answer, and again in Python ----
    refuse(text, ev) {
      const rect = this.$refs.root.getBoundingClientRect();
      this.showRefusal(text, ev.clientX - rect.left + 12, ev.clientY - rect.top + 12);
    },
    tryConnect(w, portRef, direction, ev) {
      let src = `${w.node}.${w.port}`, dst = portRef;
      if (w.dir === direction) {
        this.refuse(direction === "in" ? "cannot connect an input to an input" : "cannot connect an output to an output", ev);
        return;
      }
      if (w.dir === "in") [src, dst] = [dst, src];
      const problem = connectionProblem(this.byId, this.edges, src, dst);
      if (problem) { this.refuse(problem, ev); return; }
      this.$emit("edge_added", { source: src, target: dst, x: ev.clientX, y: ev.clientY });
    },
    // ---- keyboard ----
    onKey(e) {
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      // Ctrl+S saves wherever the focus is (a params field too); the code editor saves itself
      if (mod && key === "s") {
        const inCode = e.target && e.target.closest && e.target.closest(".cm-editor");
        const handled = e.defaultPrevented;
        e.preventDefault();
        if (!inCode && !handled) this.$emit("command", { name: "save" });
        return;
      }
      if (key === "escape" && (this.menu || this.picker || this.helping || this.wire)) {
        this.closeOverlays();
        return;
      }
      const tag = (e.target && e.target.tagName) || "";
      if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) || (e.target && e.target.isContentEditable)) return;
      if (document.querySelector(".q-dialog")) return; // a dialog of the page has the keys
      if (mod && key === "f") { e.preventDefault(); this.openFind(); return; }
      if (e.key === "?") { e.preventDefault(); this.closeOverlays(); this.helping = true; return; }
      if (mod && key === "z") { e.preventDefault(); this.$emit("command", { name: e.shiftKey ? "redo" : "undo" }); return; }
      if (mod && key === "y") { e.preventDefault(); this.$emit("command", { name: "redo" }); return; }
      const sel = { nodes: [...this.selNodes], edges: [...this.selEdges] };
      if (mod && key === "c") { this.$emit("command", { name: "copy", ...sel }); return; }
      if (mod && key === "x") { this.$emit("command", { name: "cut", ...sel }); return; }
      if (mod && key === "v") { this.$emit("command", { name: "paste", ...this.pasteAt() }); return; }
      if (mod && key === "a") { e.preventDefault(); this.selNodes = new Set(this.nodes.map((n) => n.id)); this.emitSelection(); return; }
      if (key === "delete" || key === "backspace") {
        if (sel.nodes.length || sel.edges.length) { e.preventDefault(); this.$emit("command", { name: "delete", ...sel }); }
      }
    },
  },
};
