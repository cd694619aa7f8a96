// Which ports may be joined: the canvas's copy of the runtime's connection rule, used to
// light up the ports a wire may end on, to list the components a wire may add, and to
// refuse a connection at once. Python checks every edge again (FlowDocument.add_edge).
//
// KEEP IN STEP with runtime/graph.py: typesCompatible is types_compatible, and
// connectionProblem follows check_connection / _check_edge (both ends exist, an output
// feeds an input of another node, the types fit, no duplicate, no cycle).
// tests/editor/test_editing_habits.py compares the lit ports with the Python rule.

export const ANY = "Any"; // runtime.registry.ANY
export const ERROR_PORT = "error"; // runtime.registry.ERROR_PORT

export function typesCompatible(have, want) {
  return have === want || have === ANY || want === ANY;
}

function split(ref) {
  const i = ref.indexOf(".");
  return [ref.slice(0, i), ref.slice(i + 1)];
}

// The nodes reachable from `start` (itself included), along the edges (`forward`) or
// against them.
export function reachable(edges, start, forward) {
  const next = {};
  for (const e of edges) {
    const a = e.source.split(".")[0], b = e.target.split(".")[0];
    const [k, v] = forward ? [a, b] : [b, a];
    (next[k] = next[k] || []).push(v);
  }
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length) {
    for (const n of next[stack.pop()] || []) if (!seen.has(n)) { seen.add(n); stack.push(n); }
  }
  return seen;
}

// Why the edge src -> dst ("node.port" each) would be refused, or null. `closesCycle`
// (source node, target node) answers the cycle question when many ends of one wire are
// checked (with `edgeIds`, the set of edge ids); by default both are worked out here.
export function connectionProblem(byId, edges, src, dst, closesCycle, edgeIds) {
  const [sNode, sPort] = split(src), [tNode, tPort] = split(dst);
  if (sNode === tNode) return "cannot connect a node to itself";
  const s = byId[sNode], t = byId[tNode];
  if (!s || !t) return "this node is gone";
  if (s.unknown || t.unknown) return "a node of an unknown component cannot be wired";
  const sp = (s.outputs || []).find((p) => p.name === sPort);
  const tp = (t.inputs || []).find((p) => p.name === tPort);
  if (!sp) return `'${src}' is not an output`;
  if (!tp) return `'${dst}' is not an input`;
  if (!typesCompatible(sp.type, tp.type)) return `input '${tp.name}' expects ${tp.type} but '${src}' gives ${sp.type}`;
  const id = `${src}->${dst}`;
  if (edgeIds ? edgeIds.has(id) : edges.some((e) => e.id === id)) return "this connection exists already";
  const cycle = closesCycle ? closesCycle(sNode, tNode) : reachable(edges, tNode, true).has(sNode);
  if (cycle) return "this connection would make a cycle";
  return null;
}

// For a wire held at `start` ({node, port, dir}), mark every port element on the canvas as
// one it may end on (class "fits") or not ("unfit").
export function markPorts(root, byId, edges, start) {
  // an edge s -> t closes a cycle when t reaches s
  const around = reachable(edges, start.node, start.dir !== "out");
  const closesCycle = start.dir === "out" ? (s, t) => around.has(t) : (s) => around.has(s);
  const ref = `${start.node}.${start.port}`;
  const ids = new Set(edges.map((e) => e.id));
  for (const el of root.querySelectorAll("[data-testid=port]")) {
    let ok = false;
    if (el.dataset.direction !== start.dir) {
      const [src, dst] = start.dir === "out" ? [ref, el.dataset.port] : [el.dataset.port, ref];
      ok = connectionProblem(byId, edges, src, dst, closesCycle, ids) === null;
    }
    el.classList.toggle("fits", ok);
    el.classList.toggle("unfit", !ok);
  }
}

export function clearPorts(root) {
  for (const el of root.querySelectorAll("[data-testid=port].fits, [data-testid=port].unfit")) {
    el.classList.remove("fits", "unfit");
  }
}

// The components a wire from a port of type `type` may add: those with a port on the other
// side that fits (`dir` is the side the wire starts from). `also` narrows to components
// that also have an output fitting `also` (a node put on an edge: both ends).
export function componentsThatFit(catalog, type, dir, also) {
  const out = [];
  for (const [id, c] of Object.entries(catalog || {})) {
    const fitsIn = (t) => (c.inputs || []).some((p) => typesCompatible(t, p.type));
    const fitsOut = (t) => (c.outputs || []).some((p) => typesCompatible(p.type, t));
    const ok = dir === "out" ? fitsIn(type) : fitsOut(type);
    if (ok && (also === undefined || fitsOut(also))) out.push({ id, title: c.title || id });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
