// Comments and groups, inside the canvas's zoomed layer: groups behind the edges and nodes
// (layer "groups"), comments over them (layer "comments"). A comment
// is dragged by its body; a group by its title bar (its body lets presses through, so a
// rubber band still starts inside it) and carries its nodes along. A drag ends with one
// "note" event for Python; a double click asks Python to edit the text.

import { NODE_W, nodeHeight } from "edgewise-canvas/geometry.js";
const PAD = 16;
const BAR = 24; // a group's title bar
const LINE = 16;
const CHAR_W = 7;

export default {
  props: { notes: Object, byId: Object, k: Number, layer: String },
  emits: ["note"],
  template: `
    <g class="ew-notes">
      <g v-for="g in groupBoxes" :key="'g-' + g.id" data-testid="group" :data-group="g.id"
         :data-nodes="g.nodes.join(' ')" class="ew-group">
        <rect class="ew-group-body" :x="g.x" :y="g.y" :width="g.w" :height="g.h" rx="8"></rect>
        <rect class="ew-group-bar" data-testid="group-bar" :x="g.x" :y="g.y" :width="g.w"
              :height="${BAR}" rx="8" @pointerdown.stop="(ev) => down(ev, 'group', g)"
              @dblclick.stop="edit('group', g.id)"></rect>
        <text class="ew-group-label" data-testid="group-label" :x="g.x + 10" :y="g.y + 16">{{ g.label }}</text>
      </g>
      <g v-for="c in comments" :key="'c-' + c.id" data-testid="comment" :data-comment="c.id"
         class="ew-comment" :transform="'translate(' + c.x + ',' + c.y + ')'"
         @pointerdown.stop="(ev) => down(ev, 'comment', c)" @dblclick.stop="edit('comment', c.id)">
        <rect class="ew-comment-body" :width="c.w" :height="c.h" rx="4"></rect>
        <text class="ew-comment-text" data-testid="comment-text">
          <tspan v-for="(line, i) in c.lines" :key="i" x="8" :y="18 + i * ${LINE}">{{ line || " " }}</tspan>
        </text>
      </g>
    </g>`,
  data() {
    return { moving: null };
  },
  computed: {
    comments() {
      if (this.layer !== "comments") return [];
      return ((this.notes && this.notes.comments) || []).map((c) => {
        const lines = String(c.text).split("\n");
        const at = this.moving && this.moving.kind === "comment" && this.moving.id === c.id ? this.moving : c;
        return { ...c, x: at.x, y: at.y, lines,
          w: Math.max(80, Math.max(...lines.map((l) => l.length)) * CHAR_W + 16),
          h: lines.length * LINE + 12 };
      });
    },
    // a group's box follows its nodes (read here, so a node's drag redraws its group)
    groupBoxes() {
      const out = [];
      if (this.layer !== "groups") return out;
      for (const g of (this.notes && this.notes.groups) || []) {
        const members = g.nodes.map((id) => this.byId[id]).filter(Boolean);
        if (!members.length) continue;
        let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
        for (const n of members) {
          x1 = Math.min(x1, n.x); y1 = Math.min(y1, n.y);
          x2 = Math.max(x2, n.x + NODE_W); y2 = Math.max(y2, n.y + nodeHeight(n));
        }
        out.push({ id: g.id, label: g.label, nodes: g.nodes, x: x1 - PAD, y: y1 - PAD - BAR,
          w: x2 - x1 + 2 * PAD, h: y2 - y1 + 2 * PAD + BAR });
      }
      return out;
    },
  },
  methods: {
    edit(kind, id) {
      this.$emit("note", { action: "edit", kind, id });
    },
    down(ev, kind, item) {
      if (ev.button !== 0) return;
      const target = ev.currentTarget;
      target.setPointerCapture(ev.pointerId);
      const start = { x: ev.clientX, y: ev.clientY };
      const members = kind === "group"
        ? item.nodes.map((id) => this.byId[id]).filter(Boolean).map((n) => ({ node: n, x: n.x, y: n.y }))
        : [];
      let moved = false;
      const move = (e) => {
        const dx = (e.clientX - start.x) / this.k, dy = (e.clientY - start.y) / this.k;
        if (Math.abs(dx) + Math.abs(dy) > 2) moved = true;
        if (!moved) return;
        if (kind === "comment") {
          this.moving = { kind, id: item.id, x: item.x + dx, y: item.y + dy };
        } else {
          for (const m of members) { m.node.x = m.x + dx; m.node.y = m.y + dy; }
        }
      };
      const up = () => {
        target.removeEventListener("pointermove", move);
        target.removeEventListener("pointerup", up);
        target.removeEventListener("pointercancel", up);
        if (!moved) return;
        if (kind === "comment") {
          const m = this.moving;
          this.$emit("note", { action: "move", kind, id: item.id, x: Math.round(m.x), y: Math.round(m.y) });
        } else {
          this.$emit("note", { action: "move", kind, id: item.id,
            positions: members.map((m) => ({ id: m.node.id, x: Math.round(m.node.x), y: Math.round(m.node.y) })) });
        }
      };
      target.addEventListener("pointermove", move);
      target.addEventListener("pointerup", up);
      target.addEventListener("pointercancel", up);
    },
  },
  watch: {
    // Python's redraw after a move brings the comment's new place: stop showing the drag's
    notes() { this.moving = null; },
  },
};
