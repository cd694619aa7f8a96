"""Lineage queries on a kept run: tracing, which model scored a record, what trained a model.

Message lineage follows parent ids. Row lineage follows a DataFrame row id (its index
label) through every parent that holds the same row: transforms that keep rows keep their
ids, so a row can be followed from a prediction back to its line in the source CSV. Where a
node builds new rows, the answer says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtime._errors import RunLookupError, RunValueError
from runtime._record.index import MessageInfo
from runtime._record.store import RunStore

if TYPE_CHECKING:
    from runtime._registry import ComponentSpec

MAX_ANCESTORS = 500
# The columns in which a champion/challenger scorer names the model that answered each row
# (the row format of ``ml.serve``): its label, and the id of the model's message.
MODEL_COLUMN, MODEL_MESSAGE_COLUMN = "model", "model_message"


@dataclass
class Step:
    """One message on a lineage path."""

    message: MessageInfo
    component: str
    depth: int = 0
    row: Any = None
    note: str | None = None
    source: dict[str, Any] | None = None
    side_inputs: list[MessageInfo] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form, for ``--json`` output."""
        return {"message": self.message.to_json(), "component": self.component,
                "depth": self.depth,
                "row": _plain(self.row), "note": self.note, "source": self.source,
                "side_inputs": [m.to_json() for m in self.side_inputs]}


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


class Lineage:
    """Lineage queries over one kept run."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        flow = store.flow()
        self.components = {n["id"]: n.get("component", "?") for n in flow.get("nodes", [])}
        self.params = {n["id"]: n.get("params", {}) for n in flow.get("nodes", [])}
        self.edges = [(e.get("source", ""), e.get("target", "")) for e in flow.get("edges", [])]
        self.base_dir = Path(store.manifest().get("base_dir", "."))
        self._values: dict[int, Any] = {}
        self._specs: dict[str, ComponentSpec | None] = {}

    def value(self, message_id: int) -> Any:
        """A message's kept value (cached), or None if it was not kept."""
        if message_id not in self._values:
            try:
                self._values[message_id] = self.store.value(message_id)
            except KeyError:
                self._values[message_id] = None
        return self._values[message_id]

    def _is_frame(self, message: MessageInfo) -> bool:
        return message.kept == "dataframe" or (message.preview or {}).get("kind") == "dataframe"

    def source_of(self, message: MessageInfo, row: Any) -> dict[str, Any] | None:
        """Where a row of a source message came from, with ``text`` saying it in words.

        For ``csv.read`` (and a CSV file of ``file.watch``), the file and line; for
        ``parquet.read`` (and a Parquet file of ``file.watch``), the file and row id; for
        ``sql.read``, the database, query and row id; for ``dataset.load``, the data set.
        """
        component = self.components.get(message.node)
        params = self.params.get(message.node, {})
        if row is None or component is None:
            return {"component": component} if component else None
        row = _plain(row)
        if component == "csv.read":
            path = str(Path(str(params.get("path", ""))))
            return {"component": component, "file": path, "line": int(row) + 2, "row": row,
                    "text": f"{path} line {int(row) + 2}"}
        if component == "file.watch":  # each message names its own file
            path = str(getattr(self.value(message.id), "attrs", {}).get("source_file", "?"))
            if params.get("format") == "parquet" or path.lower().endswith((".parquet", ".pq")):
                return {"component": component, "file": path, "row": row,
                        "text": f"{path} row {row}"}
            return {"component": component, "file": path, "line": int(row) + 2, "row": row,
                    "text": f"{path} line {int(row) + 2}"}
        if component == "parquet.read":
            path = str(Path(str(params.get("path", ""))))
            return {"component": component, "file": path, "row": row,
                    "text": f"{path} row {row}"}
        if component == "sql.read":
            database = str(params.get("database", ""))
            return {"component": component, "database": database,
                    "query": params.get("query"), "row": row,
                    "text": f"{database} ({params.get('query')}) row {row}"}
        if component == "dataset.load":
            return {"component": component, "dataset": params.get("name"), "row": row,
                    "text": f"dataset {params.get('name')}, row {row}"}
        return {"component": component}

    # -- tracing -------------------------------------------------------------------------

    def trace(self, message_id: int, row: Any = None) -> list[Step]:
        """The path from a message (or one row of it) back to its sources."""
        start = self.store.message(message_id)
        if start is None:
            msg = f"run {self.store.id} has no message {message_id}"
            raise RunLookupError(msg)
        if row is not None:
            return self._trace_row(start, row)
        return self._trace_message(start)

    def _trace_message(self, start: MessageInfo) -> list[Step]:
        steps: list[Step] = []
        stack = [(start, 0)]
        seen = {start.id}
        while stack and len(steps) < MAX_ANCESTORS:
            message, depth = stack.pop()
            step = Step(message=message, component=self.components.get(message.node, "?"),
                        depth=depth)
            if not message.parent_ranges:
                step.source = self.source_of(message, None)
            total = sum(b - a for a, b in message.parent_ranges)
            if total > MAX_ANCESTORS:
                step.note = (f"built from {total} messages; listing the first "
                             f"{MAX_ANCESTORS} ancestors")
            steps.append(step)
            parents = []
            for a, b in message.parent_ranges:
                for parent_id in range(a, min(b, a + MAX_ANCESTORS)):
                    if parent_id not in seen:
                        seen.add(parent_id)
                        parent = self.store.message(parent_id)
                        if parent is not None:
                            parents.append((parent, depth + 1))
            stack.extend(reversed(parents))
        return steps

    def _trace_row(self, start: MessageInfo, row: Any) -> list[Step]:
        value = self.value(start.id)
        if value is None or not hasattr(value, "index"):
            msg = (f"message {start.id} holds no kept DataFrame, so it has no rows to trace"
                   if value is None else f"message {start.id} is not a DataFrame")
            raise RunValueError(msg)
        label = match_label(value.index, row)
        if label is None:
            shown = ", ".join(str(i) for i in list(value.index[:5]))
            msg = (f"message {start.id} ({start.origin}) has no row with id {row!r}; its "
                   f"{len(value)} rows have ids like {shown}")
            raise RunLookupError(msg)
        row = label
        steps: list[Step] = []
        message: MessageInfo | None = start
        while message is not None:
            step = Step(message=message, component=self.components.get(message.node, "?"),
                        depth=len(steps), row=row)
            steps.append(step)
            parents = [p for p in (self.store.message(i) for a, b in message.parent_ranges
                                   for i in range(a, b)) if p is not None]
            if not parents:
                step.source = self.source_of(message, row)
                break
            if self._builds_new_rows(message.node):
                step.note = (f"node '{message.node}' builds new rows ({step.component}): row "
                             f"{row!r} names a group or a result, not a row of its inputs, so "
                             "row lineage stops here")
                break
            holders, others = [], []
            for parent in parents:
                if self._is_frame(parent):
                    frame = self.value(parent.id)
                    if frame is not None and match_label(frame.index, row) is not None:
                        holders.append(parent)
                    continue
                others.append(parent)
            step.side_inputs = others
            if len(holders) > 1:
                holders = self._streamed(message.node, holders)
            if len(holders) == 1:
                message = holders[0]
            elif not holders:
                frames = [p for p in parents if self._is_frame(p)]
                step.note = (f"node '{message.node}' builds new rows: row {row!r} is in none of "
                             "its inputs, so row lineage stops here" if frames else
                             f"node '{message.node}' has no DataFrame input to follow")
                message = None
            else:
                step.note = (f"row id {row!r} appears in {len(holders)} inputs of node "
                             f"'{message.node}' (messages {[h.id for h in holders]}); the row "
                             "cannot be told apart, so tracing stops here")
                message = None
        return steps

    def _builds_new_rows(self, node: str) -> bool:
        """Whether a node's component makes new rows, whose ids are not its inputs' ids."""
        from runtime._registry import NEW_ROWS_TAG

        spec = self._spec(node)
        return spec is not None and NEW_ROWS_TAG in spec.tags

    def _spec(self, node: str) -> ComponentSpec | None:
        """A node's component with the ports its params (from the run's snapshot) give it.

        A component whose ports depend on its params (``python.function``'s inputs, say) has
        its static ports only while those params cannot be checked.
        """
        if node not in self._specs:
            from runtime._graph import resolve_node
            from runtime._registry import default_registry

            spec = default_registry().get(self.components.get(node, ""))
            if spec is not None:
                raw = self.params.get(node) or {}
                spec, _, _ = resolve_node(node, spec, raw if isinstance(raw, dict) else {},
                                          self.base_dir, [])
            self._specs[node] = spec
        return self._specs[node]

    def _streamed(self, node: str, holders: list[MessageInfo]) -> list[MessageInfo]:
        """Of several inputs holding a row, the ones that came in on a stream input.

        A ``latest`` input, such as ``frame.join``'s lookup table, has row ids of its own
        that may equal the stream's; the node keeps the stream's rows, so follow those.
        """
        spec = self._spec(node)
        if spec is None:
            return holders
        modes: dict[str, set[str]] = {}
        for source, target in self.edges:
            target_node, _, port = target.partition(".")
            if target_node == node and port in spec.inputs:
                modes.setdefault(source, set()).add(spec.inputs[port].mode)
        streamed = [h for h in holders if modes.get(h.origin) == {"stream"}]
        return streamed or holders

    # -- the audit questions -------------------------------------------------------------

    def scored_by(self, message_id: int, row: Any) -> dict[str, Any]:
        """Which model scored this record: the model, its params, when, and its training data."""
        steps = self.trace(message_id, row)
        found = scorer(steps)
        if found is None:
            msg = (f"no model took part in making row {row!r} of message {message_id}; "
                   "its path has no model input")
            raise RunLookupError(msg)
        step, model = found
        model, label = self._answering_model(step, model)
        return {"record": {"message": message_id, "row": _plain(steps[0].row)},
                "scored_at": {"node": step.message.node, "message": step.message.id},
                "model": {**self.model_facts(model), "label": label},
                "path": [s.to_json() for s in steps]}

    def _answering_model(self, step: Step, model: MessageInfo) -> tuple[MessageInfo, str | None]:
        """The model that answered the row at a scoring step, and its label where it has one.

        A scorer with several models (a champion and a challenger) names the one that
        answered each row in its ``model_message`` column; otherwise the step's model input
        answered.
        """
        frame = self.value(step.message.id)
        if MODEL_MESSAGE_COLUMN not in getattr(frame, "columns", ()):
            return model, None
        rows = frame.loc[frame.index == step.row]
        if rows.empty or rows[MODEL_MESSAGE_COLUMN].isna().iloc[0]:
            return model, None
        named = int(rows[MODEL_MESSAGE_COLUMN].iloc[0])
        answered = self.store.message(named)
        if answered is None:
            msg = (f"row {step.row!r} of message {step.message.id} names model message "
                   f"{named}, which run {self.store.id} does not have")
            raise RunLookupError(msg)
        label = rows[MODEL_COLUMN].iloc[0] if MODEL_COLUMN in rows.columns else None
        return answered, None if label is None else str(label)

    def model_facts(self, model: MessageInfo) -> dict[str, Any]:
        """What a model message was: estimator, params, when it was trained, on which data."""
        info = model.preview or {}
        started = self.store.manifest().get("started")
        training = [self.store.message(i) for a, b in model.parent_ranges for i in range(a, b)]
        return {
            "message": model.id,
            "node": model.node,
            "estimator": info.get("class"),
            "params": info.get("params"),
            "features": info.get("features"),
            "trained": {"run_started": started, "seconds_into_run": round(model.t, 6)},
            "training_data": [{"message": m.id, "node": m.node, "rows": m.rows}
                              for m in training if m is not None],
        }

    def trained_on(self, model_id: int) -> tuple[dict[str, Any], Any]:
        """Which records trained a model: the facts, and the training rows with their sources.

        Returns the model's facts and a DataFrame of the training rows, with the columns
        ``_message`` (the training message) and ``_source`` / ``_line`` where known.
        """
        model = self.store.message(model_id)
        if model is None:
            msg = f"run {self.store.id} has no message {model_id}"
            raise RunLookupError(msg)
        if (model.preview or {}).get("kind") != "model":
            msg = f"message {model_id} (from {model.origin}) is not a model"
            raise RunValueError(msg)
        import pandas as pd

        parts = []
        for a, b in model.parent_ranges:
            for parent_id in range(a, b):
                frame = self.value(parent_id)
                if frame is None or not hasattr(frame, "index"):
                    continue
                sources = self._row_sources(parent_id, list(frame.index))
                part = frame.copy()
                part.insert(0, "_message", parent_id)
                part["_source"] = [sources.get(r, {}).get("file") or
                                   sources.get(r, {}).get("dataset") for r in frame.index]
                part["_line"] = [sources.get(r, {}).get("line") for r in frame.index]
                parts.append(part)
        rows = pd.concat(parts) if parts else pd.DataFrame()
        return self.model_facts(model), rows

    def _row_sources(self, message_id: int, rows: list[Any]) -> dict[Any, dict[str, Any]]:
        """Follow many rows of one message back to their sources, message by message."""
        found: dict[Any, dict[str, Any]] = {}
        todo: list[tuple[int, list[Any]]] = [(message_id, rows)]
        while todo:
            current_id, wanted = todo.pop()
            message = self.store.message(current_id)
            if message is None:
                continue
            if not message.parent_ranges:
                for row in wanted:
                    source = self.source_of(message, row)
                    if source:
                        found[row] = source
                continue
            left = set(wanted)
            for a, b in message.parent_ranges:
                for parent_id in range(a, b):
                    frame = self.value(parent_id)
                    if frame is None or not hasattr(frame, "index") or not left:
                        continue
                    here = [r for r in left if r in frame.index]
                    if here:
                        todo.append((parent_id, here))
                        left -= set(here)
        return found


def scorer(steps: list[Step]) -> tuple[Step, MessageInfo] | None:
    """The first step of a lineage path that took a model in, and that model message."""
    for step in steps:
        for side in step.side_inputs:
            if (side.preview or {}).get("kind") == "model":
                return step, side
    return None


def match_label(index: Any, row: Any) -> Any:
    """The index label equal to ``row`` (given as text on the command line), or None."""
    if row in index:
        return row
    for convert in (int, float):
        try:
            candidate = convert(row)
        except (TypeError, ValueError):
            continue
        if candidate in index:
            return candidate
    return None
