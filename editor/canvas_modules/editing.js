// The canvas's editing habits, mixed into its methods: a node dropped on a wire goes in
// between, a wire dropped on empty canvas offers the components it fits, a context menu on
// nodes, wires and the canvas, paste at the pointer, and finding a node.

import { clearPorts, componentsThatFit } from "edgewise-canvas/wiring.js";

// The methods, given the canvas's node geometry (NODE_W, HEAD_H, nodeHeight).
export function editingMethods({ NODE_W, HEAD_H, nodeHeight }) {
  return {
    // ---- editing habits: splice, quick-add, context menu, find ----
    // the last pointer position over the canvas, in canvas units (as panned and zoomed now)
    pasteAt() {
      if (!this.pointer) return {};
      const p = this.toCanvas(this.pointer);
      return { x: Math.round(p.x), y: Math.round(p.y) };
    },
    // the id of the edge whose wire is under the pointer, or null
    edgeAt(ev) {
      for (const el of document.elementsFromPoint(ev.clientX, ev.clientY)) {
        if (el.classList && el.classList.contains("ew-edge-hit")) return el.closest(".ew-edge").dataset.edge;
        if (el === this.$refs.svg) break;
      }
      return null;
    },
    markSplice(edgeId) {
      if (this.spliceEdge === edgeId) return;
      this.spliceEdge = edgeId;
      for (const el of this.$el.querySelectorAll(".ew-edge.splice")) el.classList.remove("splice");
      if (edgeId) {
        const el = this.$el.querySelector(`.ew-edge[data-edge="${CSS.escape(edgeId)}"]`);
        if (el) el.classList.add("splice");
      }
    },
    closeOverlays() {
      this.menu = null;
      this.picker = null;
      this.helping = false;
      if (this.wire) { this.wire = null; clearPorts(this.$el); }
      this.$refs.root.focus({ preventScroll: true });
    },
    // where an overlay opens: at the pointer, kept inside the canvas
    overlayAt(ev, w = 260, h = 300) {
      const r = this.$refs.root.getBoundingClientRect();
      return { x: Math.max(0, Math.min(ev.clientX - r.left, r.width - w)), y: Math.max(0, Math.min(ev.clientY - r.top, r.height - h)) };
    },
    openQuickAdd(w, ev) {
      const port = (w.dir === "out" ? this.byId[w.node].outputs : this.byId[w.node].inputs).find((p) => p.name === w.port);
      const at = this.toCanvas(ev);
      this.picker = { ...this.overlayAt(ev), testid: "quick-add", title: `add a node wired to ${w.node}.${w.port}`,
        options: componentsThatFit(this.fitTable, this.catalog, port ? port.type : "Any", w.dir),
        action: { kind: "wired", port: `${w.node}.${w.port}`, dir: w.dir, x: Math.round(at.x - (w.dir === "out" ? 0 : NODE_W)), y: Math.round(at.y - HEAD_H / 2) } };
    },
    openFind() {
      this.closeOverlays();
      const r = this.$refs.root.getBoundingClientRect();
      this.picker = { x: r.width / 2 - 130, y: 12, testid: "find", title: "find a node",
        options: this.nodes.map((n) => ({ id: n.id, title: [n.label, n.component].filter(Boolean).join(" · ") })),
        action: { kind: "find" } };
    },
    onPick(id) {
      const a = this.picker.action;
      this.picker = null;
      this.$refs.root.focus({ preventScroll: true });
      if (a.kind === "find") {
        this.selNodes = new Set([id]);
        this.selEdges = new Set();
        this.emitSelection();
        this.centerOn(id);
      } else if (a.kind === "wired") {
        this.$emit("quick_add", { component: id, x: a.x, y: a.y, port: a.port, direction: a.dir });
      } else if (a.kind === "add") {
        this.$emit("node_dropped", { component: id, x: a.x, y: a.y, edge: a.edge || null });
      }
    },
    centerOn(id) {
      const n = this.byId[id];
      const r = this.$refs.root.getBoundingClientRect();
      if (!n) return;
      this.tx = r.width / 2 - (n.x + NODE_W / 2) * this.k;
      this.ty = r.height / 2 - (n.y + nodeHeight(n) / 2) * this.k;
    },
    onContext(ev) {
      if (this.pan && (Math.abs(ev.clientX - this.pan.x) + Math.abs(ev.clientY - this.pan.y) > 4)) return;
      this.picker = null;
      this.helping = false;
      const nodeEl = ev.target.closest && ev.target.closest(".ew-node");
      const edgeEl = !nodeEl && ev.target.closest && ev.target.closest(".ew-edge");
      const at = this.overlayAt(ev, 180, 200);
      this.menuPoint = this.toCanvas(ev);
      if (nodeEl) {
        const id = nodeEl.dataset.nodeId;
        if (!this.selNodes.has(id)) { this.selNodes = new Set([id]); this.selEdges = new Set(); this.emitSelection(); }
        this.menu = { ...at, kind: "node", node: id, items: [
          { id: "rename", label: "Rename…" }, { id: "duplicate", label: "Duplicate" },
          { id: "copy", label: "Copy" }, { id: "rerun", label: "Re-run from here" },
          { id: "delete", label: "Delete" }] };
      } else if (edgeEl) {
        const id = edgeEl.dataset.edge;
        this.selEdges = new Set([id]); this.selNodes = new Set(); this.emitSelection();
        this.menu = { ...at, kind: "edge", edge: id, items: [
          { id: "inspect", label: "Inspect" }, { id: "insert", label: "Insert node…" },
          { id: "delete", label: "Delete" }] };
      } else {
        this.menu = { ...at, kind: "canvas", items: [
          { id: "paste", label: "Paste here" }, { id: "add", label: "Add component…" },
          { id: "fit", label: "Fit to view" }] };
      }
    },
    onMenuPick(action) {
      const m = this.menu;
      this.menu = null;
      const p = this.menuPoint;
      const sel = { nodes: [...this.selNodes], edges: [...this.selEdges] };
      const screen = { clientX: m.x + this.$refs.root.getBoundingClientRect().left, clientY: m.y + this.$refs.root.getBoundingClientRect().top };
      if (action === "fit") this.fit();
      else if (action === "paste") this.$emit("command", { name: "paste", x: Math.round(p.x), y: Math.round(p.y) });
      else if (action === "add") {
        this.picker = { ...this.overlayAt(screen), testid: "quick-add", title: "add a component",
          options: Object.entries(this.catalog || {}).map(([id, c]) => ({ id, title: c.title || id })).sort((a, b) => a.id.localeCompare(b.id)),
          action: { kind: "add", x: Math.round(p.x - NODE_W / 2), y: Math.round(p.y - HEAD_H / 2) } };
      } else if (action === "insert") {
        const e = this.edges.find((x) => x.id === m.edge);
        const [s, t] = [e.source, e.target].map((r) => r.split("."));
        const sp = this.byId[s[0]].outputs.find((q) => q.name === s[1]);
        const tp = this.byId[t[0]].inputs.find((q) => q.name === t[1]);
        this.picker = { ...this.overlayAt(screen), testid: "quick-add", title: `insert a node on ${m.edge}`,
          options: componentsThatFit(this.fitTable, this.catalog, sp ? sp.type : "Any", "out", tp ? tp.type : "Any"),
          action: { kind: "add", edge: m.edge, x: Math.round(p.x - NODE_W / 2), y: Math.round(p.y - HEAD_H / 2) } };
      } else if (action === "inspect") this.$emit("edge_clicked", { edge: m.edge });
      else this.$emit("command", { name: action, ...sel });
    },
  };
}
