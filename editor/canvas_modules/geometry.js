// A node's geometry, shared by the canvas, its labels, minimap and notes: its width, its head
// (title, and key param when it has one), its port rows and its status line.
// editor/auto_layout.py sizes nodes the same way (NODE_W, node_height): keep them in step.

export const NODE_W = 176;
export const HEAD_H = 30;
export const ROW_H = 20;
export const FACE_H = 13; // a node's key param, a second line in its head
export const STATUS_H = 14; // a node's one-line run status, under its ports

// A node's head: its title, and its key param (the face) when it has one.
export function headHeight(node) {
  return node.face ? HEAD_H + FACE_H : HEAD_H;
}

export function nodeHeight(node) {
  const rows = Math.max((node.inputs || []).length, (node.outputs || []).length, 1);
  return headHeight(node) + rows * ROW_H + 8 + STATUS_H;
}

export function portY(node, index) {
  return node.y + headHeight(node) + ROW_H * index + ROW_H / 2;
}
