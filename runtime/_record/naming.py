"""Message ids held in values, named by port and position so that two runs can be compared.

The ids an error record lists as its inputs are named the same way.

Ids are handed out as a run goes, so the same message has another id in another run (in a
replay, say). A scorer writes the id of the model that answered each row into its
``model_message`` column, and a supervisor the ids of a decision's evidence messages into
its ``evidence`` column; compared as numbers, two runs whose rows were answered by the same
models would differ on every row. Named as ``<port> #<position>`` (the port a replay's
stand-in source takes the place of, for a recorded input), they compare as they should.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from runtime._messages import ErrorRecord
from runtime._record.lineage import MODEL_MESSAGE_COLUMN
from runtime._record.store import RunStore

EVIDENCE_COLUMN = "evidence"  # a supervisor's decisions: the ids of the evidence messages
COLUMNS = (MODEL_MESSAGE_COLUMN, EVIDENCE_COLUMN)


def named_message_ids(store: RunStore, values: list[Any]) -> list[Any]:
    """``values``, with each DataFrame's message-id column holding message names instead.

    Values without such a column are returned as they are (the same list when none has one).
    """
    if not any(isinstance(v, ErrorRecord) or c in getattr(v, "columns", ())
               for v in values for c in COLUMNS):
        return values
    inputs: dict[str, str] = store.manifest().get("replay_inputs") or {}
    stand_in = {f"{node}.data": origin for origin, node in inputs.items()}
    names: dict[Any, str] = {}

    def name(message_id: Any) -> str:
        if message_id not in names:
            info = store.message(int(message_id)) if _is_id(message_id) else None
            names[message_id] = (f"{stand_in.get(info.origin, info.origin)} #{info.position}"
                                 if info is not None else f"#{message_id}")
        return names[message_id]

    out = []
    for value in values:
        if isinstance(value, ErrorRecord):  # the inputs of the call that failed
            named: list[Any] = [name(i) for i in value.inputs]
            out.append(dataclasses.replace(value, inputs=named))
            continue
        columns = [c for c in COLUMNS if c in getattr(value, "columns", ())]
        if columns:
            value = value.copy()
        for column in columns:
            value[column] = [[name(m) for m in ids] if _several(ids) else name(ids)
                             for ids in value[column]]
        out.append(value)
    return out


def _several(value: Any) -> bool:
    """Whether a cell holds a list of ids (a list, or an array when read back from Arrow)."""
    return isinstance(value, list | tuple) or getattr(value, "ndim", 0) == 1


def _is_id(value: Any) -> bool:
    try:
        return int(value) == value and int(value) > 0
    except (TypeError, ValueError, OverflowError):
        return False
