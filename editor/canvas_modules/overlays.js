// The canvas's small overlays: a context menu, a searchable pick list (quick-add, insert
// node, add component), a find box for nodes, and the sheet of keyboard shortcuts.

// A list of actions at a point; a disabled action says why in its tooltip.
export const EwMenu = {
  props: ["menu"],
  emits: ["pick"],
  template: `
    <div data-testid="context-menu" :data-target="menu.kind" class="ew-menu"
         :style="{left: menu.x + 'px', top: menu.y + 'px'}"
         @pointerdown.stop @contextmenu.prevent.stop>
      <div v-for="it in menu.items" :key="it.id" data-testid="context-item" :data-action="it.id"
           :class="['ew-menu-item', {disabled: it.disabled}]" :title="it.why || null"
           @click="!it.disabled && $emit('pick', it.id)">{{ it.label }}</div>
    </div>`,
};

// A filtered list of options with a search field: arrows move, Enter picks, Esc closes.
export const EwPicker = {
  props: ["picker"],
  emits: ["pick", "close"],
  data() {
    return { term: "", active: 0 };
  },
  computed: {
    shown() {
      const t = this.term.toLowerCase().trim();
      return this.picker.options.filter((o) => !t || `${o.id} ${o.title}`.toLowerCase().includes(t));
    },
  },
  watch: {
    term() { this.active = 0; },
  },
  mounted() {
    this.$refs.input.focus({ preventScroll: true });
  },
  methods: {
    key(ev) {
      if (ev.key === "Escape") { ev.preventDefault(); this.$emit("close"); }
      else if (ev.key === "ArrowDown") { ev.preventDefault(); this.active = Math.min(this.shown.length - 1, this.active + 1); }
      else if (ev.key === "ArrowUp") { ev.preventDefault(); this.active = Math.max(0, this.active - 1); }
      else if (ev.key === "Enter" && this.shown[this.active]) { ev.preventDefault(); this.$emit("pick", this.shown[this.active].id); }
    },
  },
  template: `
    <div :data-testid="picker.testid" class="ew-picker" :style="{left: picker.x + 'px', top: picker.y + 'px'}"
         @pointerdown.stop @contextmenu.prevent.stop @wheel.stop>
      <div class="ew-picker-title">{{ picker.title }}</div>
      <input ref="input" v-model="term" :data-testid="picker.testid + '-search'" class="ew-picker-input"
             placeholder="type to filter…" @keydown="key">
      <div class="ew-picker-list">
        <div v-for="(o, i) in shown" :key="o.id" :data-testid="picker.testid + '-item'" :data-id="o.id"
             :class="['ew-picker-item', {active: i === active}]" @pointerenter="active = i"
             @click="$emit('pick', o.id)">
          <span class="ew-picker-id">{{ o.id }}</span> <span class="ew-picker-sub">{{ o.title }}</span>
        </div>
        <div v-if="!shown.length" class="ew-picker-none">nothing fits</div>
      </div>
    </div>`,
};

// The keys of the editor, in one sheet (opened with "?").
export const SHORTCUTS = [
  ["Ctrl+S", "save (also inside a params field or the code editor)"],
  ["Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y", "undo / redo"],
  ["Ctrl+C / Ctrl+X / Ctrl+V", "copy / cut / paste at the pointer"],
  ["Ctrl+A", "select every node"],
  ["Delete, Backspace", "delete the selection"],
  ["Ctrl+F", "find a node by id, label or component"],
  ["Shift+click, drag on the background", "add to the selection, select with a box"],
  ["drag from a port", "wire it; the ports it fits light up; drop on empty canvas to add a node"],
  ["drop a node on a wire", "put it in between"],
  ["right-click", "the actions of a node, a wire or the canvas"],
  ["wheel, pinch, Ctrl+wheel", "zoom"],
  ["two-finger scroll, right- or middle-drag, Alt+drag", "pan"],
  ["?", "this sheet"],
  ["Esc", "close a menu, list or this sheet"],
];

export const EwHelp = {
  emits: ["close"],
  data() {
    return { keys: SHORTCUTS };
  },
  template: `
    <div class="ew-help-backdrop" @pointerdown.stop="$emit('close')">
      <div data-testid="shortcut-sheet" class="ew-help" role="dialog" aria-label="Keyboard shortcuts"
           @pointerdown.stop>
        <div class="ew-help-head"><b>Keyboard and mouse</b>
          <button data-testid="shortcut-close" class="ew-help-close" @click="$emit('close')">×</button></div>
        <table><tr v-for="k in keys" :key="k[0]" data-testid="shortcut">
          <td class="ew-help-key">{{ k[0] }}</td><td>{{ k[1] }}</td></tr></table>
      </div>
    </div>`,
};
