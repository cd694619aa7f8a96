// Edge labels: what a label says (a record's numbers first, rounded), and where it goes: on
// an opaque tag on the free part of its wire, clear of nodes and of the other labels.
// Written straight to the DOM by layoutLabels: no Vue render per update.

const SHORT_ZOOM = 0.6; // below this zoom a label shows only its count
const LABEL_H = 16;
const LABEL_PAD = 5;
// parameters along the wire, from the middle outwards
const T_ORDER = [0.5];
for (let d = 0.025; d <= 0.42; d += 0.025) T_ORDER.push(0.5 - d, 0.5 + d);

function roundValue(text) {
  const v = Number(text);
  if (text === "" || !Number.isFinite(v)) return null;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 ? String(Math.round(v)) : String(Number(v.toFixed(3)));
}

// The items of a dict's summary (`{name='score', accuracy=0.9737, f1_macro=0.97…}`), the
// numbers rounded; null for any other summary.
function summaryItems(summary) {
  const m = /^\{(.*?)(…)?\}$/.exec(summary || "");
  if (!m || !m[1]) return null;
  const items = [];
  for (const item of m[1].split(", ")) {
    const eq = item.indexOf("=");
    if (eq <= 0) return null;
    items.push({ key: item.slice(0, eq), text: item.slice(eq + 1), number: roundValue(item.slice(eq + 1)) });
  }
  return { items, more: Boolean(m[2]) };
}

// The parts of a label, most telling first: a record's numbers (metrics), rounded, lead its
// label; `accuracy 0.974 · f1_macro 0.97 · 1`.
export function labelParts(l) {
  const metrics = Object.entries(l.metrics || {}).map(([k, v]) => `${k} ${roundValue(String(v))}`);
  if (metrics.length) return [...metrics, `${l.count}`];
  const dict = summaryItems(l.summary);
  if (dict && dict.items.some((i) => i.number !== null)) {
    return [...dict.items.filter((i) => i.number !== null).map((i) => `${i.key} ${i.number}`), `${l.count}`];
  }
  const parts = [`${l.count}`];
  if (l.rows !== null && l.rows !== undefined) parts.push(`${l.rows} rows`);
  if (l.summary) parts.push(l.summary);
  return parts;
}

// The texts to try, longest first: the whole label, then fewer parts with an ellipsis.
export function labelVariants(parts, count) {
  const out = [parts.join(" · ")];
  for (let n = parts.length - 1; n >= 1; n--) out.push(parts.slice(0, n).join(" · ") + " · …");
  if (!out.includes(`${count}`)) out.push(`${count}`);
  return out;
}

function overlaps(a, b) {
  return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
}

// Place every label on an opaque tag on the free part of its wire: outside every node's
// box, clear of the other labels and, where possible, of the other wires. A label that
// finds no room whole is shortened part by part down to its count. Zoomed out, labels
// keep their size on screen (so they take more of the canvas) and show only the count.
export function layoutLabels(vm, { NODE_W, nodeHeight, edgeEnds, curvePoint }) {
  const short = vm.k < SHORT_ZOOM;
  const scale = vm.k < 1 ? 1 / vm.k : 1;
  vm.labelScale = scale;
  const nodeBoxes = vm.nodes.map((n) => ({ x1: n.x - 7, y1: n.y - 3, x2: n.x + NODE_W + 7, y2: n.y + nodeHeight(n) + 3 }));
  const wires = [];
  const items = [];
  for (const e of vm.edges) {
    const s = vm.byId[e.source.split(".")[0]], t = vm.byId[e.target.split(".")[0]];
    if (!s || !t) continue;
    const ends = edgeEnds(e, s, t);
    const len = Math.hypot(ends[1].x - ends[0].x, ends[1].y - ends[0].y);
    const steps = Math.min(200, Math.max(16, Math.ceil(len / 6)));
    const pts = [];
    for (let i = 0; i <= steps; i++) pts.push(curvePoint(ends[0], ends[1], i / steps));
    wires.push({ id: e.id, pts });
    if (vm.labels[e.id]) items.push({ e, ends, len });
  }
  items.sort((a, b) => a.len - b.len); // short wires have the fewest places: they go first
  const placed = [];
  const free = (box, id, strict) => {
    if (nodeBoxes.some((b) => overlaps(b, box)) || placed.some((b) => overlaps(b, box))) return false;
    if (!strict) return true;
    return !wires.some((w) => w.id !== id && w.pts.some((p) => p.x > box.x1 && p.x < box.x2 && p.y > box.y1 && p.y < box.y2));
  };
  for (const { e, ends } of items) {
    const g = vm.$el.querySelector(`.ew-edge[data-edge="${CSS.escape(e.id)}"] .ew-edge-tag`);
    if (!g) continue;
    const text = g.querySelector("text"), rect = g.querySelector("rect");
    const l = vm.labels[e.id];
    const parts = labelParts(l);
    const full = parts.join(" · ");
    text.dataset.full = full;
    text.dataset.count = `${l.count}`;
    g.style.display = "";
    // texts to try at the on-screen size, then the count ever smaller, down to canvas size
    const tries = (short ? [`${l.count}`] : labelVariants(parts, l.count)).map((v) => [v, scale]);
    for (let f = scale * 0.8; f > 1; f *= 0.8) tries.push([`${l.count}`, f]);
    if (scale > 1) tries.push([`${l.count}`, 1]);
    let spot = null, size = scale;
    for (const [variant, f] of tries) {
      text.textContent = variant;
      size = f;
      const w = (text.getComputedTextLength() + 2 * LABEL_PAD) * f, h = LABEL_H * f;
      for (const strict of [true, false]) {
        for (const t of T_ORDER) {
          const p = curvePoint(ends[0], ends[1], t);
          const box = { x1: p.x - w / 2, y1: p.y - h / 2, x2: p.x + w / 2, y2: p.y + h / 2 };
          if (free(box, e.id, strict)) { spot = box; break; }
        }
        if (spot) break;
      }
      if (spot) break;
    }
    if (!spot) { // nowhere free: the count at the middle, drawn over whatever is there
      text.textContent = `${l.count}`;
      size = 1;
      const w = text.getComputedTextLength() + 2 * LABEL_PAD, h = LABEL_H;
      const p = curvePoint(ends[0], ends[1], 0.5);
      spot = { x1: p.x - w / 2, y1: p.y - h / 2, x2: p.x + w / 2, y2: p.y + h / 2 };
    }
    placed.push(spot);
    // drawn around the origin, then moved to the spot and scaled
    const w = (spot.x2 - spot.x1) / size;
    g.setAttribute("transform", `translate(${(spot.x1 + spot.x2) / 2},${(spot.y1 + spot.y2) / 2}) scale(${size})`);
    rect.setAttribute("x", -w / 2);
    rect.setAttribute("y", -LABEL_H / 2);
    rect.setAttribute("width", w);
    rect.setAttribute("height", LABEL_H);
    text.setAttribute("x", 0);
    text.setAttribute("y", 4);
    g.classList.toggle("shortened", text.textContent !== full);
  }
}
