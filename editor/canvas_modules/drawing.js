// How the canvas draws a node (its ports as one piece of markup) and an edge (a curve
// between two ports), and the geometry of ports and curves the rest of the canvas uses.

import { HEAD_H, NODE_W, ROW_H, headHeight, nodeHeight, portY } from "edgewise-canvas/geometry.js";

const FACE_CHARS = 28, STATUS_CHARS = 30;

function clip(text, chars) {
  return text.length > chars ? text.slice(0, chars - 1) + "…" : text;
}

export function portPos(node, port, direction) {
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

export function curve(x1, y1, x2, y2) {
  const dx = Math.max(40, Math.abs(x2 - x1) / 2);
  return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
}

// The point at parameter t of the same cubic curve that curve() draws.
export function curvePoint(a, b, t) {
  const dx = Math.max(40, Math.abs(b.x - a.x) / 2);
  const u = 1 - t, w0 = u * u * u, w1 = 3 * u * u * t, w2 = 3 * u * t * t, w3 = t * t * t;
  return { x: w0 * a.x + w1 * (a.x + dx) + w2 * (b.x - dx) + w3 * b.x,
    y: w0 * a.y + w1 * a.y + w2 * b.y + w3 * b.y };
}

export function edgeEnds(edge, src, dst) {
  const sp = edge.source.slice(edge.source.indexOf(".") + 1);
  const tp = edge.target.slice(edge.target.indexOf(".") + 1);
  return [portPos(src, sp, "out"), portPos(dst, tp, "in")];
}

export const EwNode = {
  props: ["node", "selected", "status", "problem", "highlight"],
  emits: ["body-down", "port-down"],
  template: `
    <g data-testid="node" :data-node-id="node.id" :data-component="node.component"
       :class="['ew-node', {selected, unknown: node.unknown, problem, highlight}]"
       :transform="'translate(' + node.x + ',' + node.y + ')'" @pointerdown.stop="down">
      <title>{{ tooltip }}</title>
      <rect class="ew-body" :width="W" :height="height" rx="6"></rect>
      <text class="ew-title" x="10" y="19">{{ caption }}</text>
      <text v-if="node.face && !status.models" data-testid="node-face" :data-full="node.face" class="ew-face" x="10" y="34">{{ faceCaption }}</text>
      <text v-if="node.face && status.models" data-testid="node-models" :data-champion="status.models.champion"
            :data-challenger="status.models.challenger || null" :data-full="modelsText" class="ew-face" x="10" y="34"><tspan class="ew-champion">★ {{ clip(status.models.champion, 13) }}</tspan><tspan v-if="status.models.challenger" class="ew-challenger"> · {{ status.models.mode }} {{ clip(status.models.challenger, 11) }}</tspan></text>
      <text v-if="status.text" data-testid="node-status-text" :data-full="status.text"
            :class="['ew-status-text', 'ew-status-' + status.state]" x="10" :y="height - 6">{{ statusCaption }}</text>
      <g data-testid="node-status" :data-state="status.state" :transform="'translate(' + (W - 16) + ',15)'">
        <circle r="6" :class="'ew-state-' + status.state"></circle>
        <text v-if="status.errors" x="-10" y="4" text-anchor="end" class="ew-errors">{{ status.errors }}</text>
      </g>
      <g class="ew-ports" v-html="portsHtml"></g>
    </g>`,
  methods: {
    clip,
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
      const lines = [this.node.title, ...(this.node.face ? [this.node.face] : []), ...(this.status.models ? [this.modelsText] : []),
        `state: ${this.status.state}${this.status.text ? ` (${this.status.text})` : this.status.errors ? ` (${this.status.errors} errors)` : ""}`,
        ...ports(this.node.inputs, "in "), ...ports(this.node.outputs, "out")];
      if (this.node.doc) lines.push("", this.node.doc);
      return lines.join("\n");
    },
    caption() {
      const text = this.node.label || this.node.id;
      return text.length > 20 ? text.slice(0, 19) + "…" : text;
    },
    // a scorer's models (ml.serve): which is champion and, beside it, which is challenger
    modelsText() {
      const m = this.status.models;
      return `champion: ${m.champion}` + (m.challenger ? `; challenger (${m.mode}): ${m.challenger}` : "");
    },
    faceCaption() {
      return clip(this.node.face, FACE_CHARS);
    },
    statusCaption() {
      return clip(this.status.text, STATUS_CHARS);
    },
  },
};

export const EwEdge = {
  // Each edge computes its own path from its two nodes, so dragging a node re-renders
  // only that node and the edges touching it.
  props: ["edge", "src", "dst", "selected", "problem", "highlight", "change"],
  emits: ["edge-down"],
  template: `
    <g data-testid="edge" :data-edge="edge.id" :data-change="change || null" :data-lit="highlight ? 'true' : null"
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
