// Where a wire may end, as the runtime says: the canvas holds no connection rule of its own.
//
// When a wire is picked up at a port, the canvas asks Python (event "wire_started") and
// Python answers with the ports the runtime would join it to (runtime.connections
// .fitting_ports, one pass over the flow), which light up on arrival (markFits). A wire
// dropped on a port is sent to Python, whose answer is the edge or the runtime's refusal.
// The components a wire may add come from a table per port type that Python works out
// from the catalogue with the runtime's type rule (editor/canvas.py fit_table).

// Mark every port on the canvas as one the held wire may end on ("fits") or not ("unfit").
// `start` is the wire ({node, port, dir}); `fits` the set of "node.port" it may join.
export function markPorts(root, start, fits) {
  for (const el of root.querySelectorAll(".ew-port")) {
    const ok = el.dataset.direction !== start.dir && fits.has(el.dataset.port);
    el.classList.toggle("fits", ok);
    el.classList.toggle("unfit", !ok);
  }
}

export function clearPorts(root) {
  for (const el of root.querySelectorAll(".ew-port.fits, .ew-port.unfit")) {
    el.classList.remove("fits", "unfit");
  }
}

// The components a wire from a port of type `type` may add (`dir` is the side the wire
// starts from), from the table {type: {out: [ids it may feed], in: [ids that may feed
// it]}}. `also` narrows to components that also have an output feeding `also` (a node
// put on an edge: both ends).
export function componentsThatFit(table, catalog, type, dir, also) {
  const row = (table || {})[type] || { in: [], out: [] };
  const keep = also === undefined ? null : new Set(((table || {})[also] || { in: [] }).in);
  return row[dir].filter((id) => !keep || keep.has(id))
    .map((id) => ({ id, title: ((catalog || {})[id] || {}).title || id }))
    .sort((a, b) => a.id.localeCompare(b.id));
}
