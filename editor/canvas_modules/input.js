// The canvas's pointer and keyboard handling, mixed into its methods: selecting, dragging
// nodes, drawing wires, rubber-band selection, panning, zooming, dropping components, and
// the shortcuts.

import { clearPorts } from "edgewise-canvas/wiring.js";
import { portPos } from "edgewise-canvas/drawing.js";
import { HEAD_H, NODE_W, nodeHeight } from "edgewise-canvas/geometry.js";

export const inputMethods = {
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
      this.wireKey = (this.wireKey || 0) + 1;
      this.wire = { node: n.id, port, dir, x1: pos.x, y1: pos.y, x2: pos.x, y2: pos.y,
        cx: ev.clientX, cy: ev.clientY, moved: false, key: this.wireKey };
      this.$emit("wire_started", { key: this.wireKey, port: `${n.id}.${port}`, side: dir });
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
        const target = el && el.closest(".ew-port");
        if (target) {
          if (target.dataset.port !== `${w.node}.${w.port}`) this.tryConnect(w, target.dataset.port, target.dataset.direction, ev);
        } else if (el && !el.closest(".ew-node") && this.$refs.svg.contains(el)) {
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
    // ---- connections: the runtime decides (Python answers with the edge or a refusal) ----
    tryConnect(w, portRef, direction, ev) {
      const rect = this.$refs.root.getBoundingClientRect();
      this.dropAt = { x: ev.clientX - rect.left + 12, y: ev.clientY - rect.top + 12 };
      // two ends on one side make no edge either way round: nothing to ask the runtime
      if (w.dir === direction) {
        this.showRefusal(direction === "in" ? "cannot connect an input to an input" : "cannot connect an output to an output");
        return;
      }
      let src = `${w.node}.${w.port}`, dst = portRef;
      if (w.dir === "in") [src, dst] = [dst, src];
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
};
