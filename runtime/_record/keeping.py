"""Which values of a batch a recording keeps, and where each goes.

Plain values of a fast stream go to the port's values file, one payload a batch; a batch
passed on unchanged points at its parent's bytes instead. Other values go one by one to
where their kind is stored (``runtime._record.values``); what the storage policy leaves
out, or what cannot be stored, is counted per port with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime._previews import is_model
from runtime._record.index import IndexWriter
from runtime._record.packing import pack_small_ints
from runtime._record.sameness import RecentBatches, item_addresses
from runtime._record.values import (
    SCALARS,
    UNSTORABLE,
    PortFiles,
    Stored,
    encode_partial,
    encode_scalars,
    json_value,
    value_types,
    write_array,
    write_model,
)

NUMBERS = ({int}, {float})
"""The types of a batch that encodes as one int64 or float64 array."""


@dataclass
class StoragePolicy:
    """Which values a recording keeps. The index always records every message.

    Attributes:
        max_values: Keep at most this many values per output port (None: all of them).
        sample_every: After the cap, keep one value in this many (0: none).
    """

    max_values: int | None = None
    sample_every: int = 0

    def keeps(self, seen: int) -> bool:
        """Whether to keep the value of the ``seen``-th message (0-based) of a port."""
        if self.max_values is None or seen < self.max_values:
            return True
        return self.sample_every > 0 and (seen - self.max_values) % self.sample_every == 0

    def to_json(self) -> dict[str, Any]:
        """For the manifest."""
        return {"max_values": self.max_values, "sample_every": self.sample_every}


@dataclass
class PortState:
    """What one output port has written, seen and kept."""

    files: PortFiles
    seen: int = 0
    kept: int = 0
    not_kept: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


class ValueKeeper:
    """Stores the values of each batch as the policy says, and indexes where they went."""

    def __init__(self, folder: Path, index: IndexWriter, policy: StoragePolicy) -> None:
        self.folder = folder
        self.index = index
        self.policy = policy
        self.ports: dict[str, PortState] = {}
        self.pending_bytes = 0
        """Bytes of small values appended and not yet taken (see :meth:`take`)."""
        self._recent = RecentBatches()

    def take(self) -> list[tuple[PortFiles, list[bytes]]]:
        """The small values appended since the last take, per port, to :meth:`write` later."""
        self.pending_bytes = 0
        return [(state.files, state.files.take()) for state in self.ports.values()
                if state.files.pending]

    @staticmethod
    def write(taken: list[tuple[PortFiles, list[bytes]]]) -> None:
        """Write what :meth:`take` took and hand it to the OS."""
        for files, payloads in taken:
            files.write(payloads)

    def close(self) -> None:
        """Close every port's files."""
        for state in self.ports.values():
            state.files.close()

    def summary(self) -> dict[str, Any]:
        """What was kept and not kept, in total and per port, for the manifest."""
        ports = self.ports
        return {
            "values_kept": sum(s.kept for s in ports.values()),
            "values_not_kept": sum(s.not_kept for s in ports.values()),
            "ports": {o: {"messages": s.seen, "kept": s.kept, "not_kept": s.not_kept,
                          "why_not_kept": s.reasons} for o, s in ports.items()},
        }

    def port(self, origin: str) -> PortState:
        """The state of one output port, made on its first batch."""
        state = self.ports.get(origin)
        if state is None:
            state = self.ports[origin] = PortState(PortFiles(self.folder, origin))
        return state

    def keep_plain(self, origin: str, ids: range, values: list[Any], parents: range | None,
                   *, numbers_only: bool = False) -> tuple[str, str, int, int] | None:
        """Keep a batch whole if that is cheap: where its values went, or None.

        Cheap is a batch passed on unchanged from a batch kept so (it points at its parent's
        bytes) or a batch of plain values (encoded as one payload), all kept by the policy;
        with ``numbers_only``, only values that are all ints or all floats are encoded, as
        one array, at a fixed cost per value (text could be long). Any other batch is left
        untouched, for :meth:`keep`. The caller indexes the batch and says where its values
        are (``IndexWriter.add_inline``).
        """
        state = self.ports.get(origin) or self.port(origin)
        count = len(values)
        if self.policy.max_values is not None and state.seen + count > self.policy.max_values:
            return None
        found = None if parents is None else self._recent.passed_on_from(parents, values)
        if found is not None:
            where, addresses = found  # its parent's bytes, and its parent's addresses
        else:
            # The common case of a fast stream: plain values, all kept, one array.
            payload = pack_small_ints(values)
            if payload is not None:
                kind = "int64"
            else:
                types = value_types(values)
                if not types <= SCALARS or (numbers_only and types not in NUMBERS):
                    return None
                kind, payload = encode_scalars(values, types)
            where = state.files.append(kind, payload)
            self.pending_bytes += len(payload)
            addresses = item_addresses(values)
        state.seen += count
        state.kept += count
        self._recent.remember(ids, values, where, addresses)
        return where

    def keep(self, seq: int, origin: str, ids: range, values: list[Any],
             frame_type: Any, parents: range | None) -> None:
        """Keep the values of batch ``seq`` (ids ``ids``) from ``origin``, as the policy says.

        ``frame_type`` is pandas' DataFrame if pandas is loaded; ``parents`` the batch's
        parents if they are one range (a batch that may pass its parent's values on).
        """
        where = self.keep_plain(origin, ids, values, parents)
        if where is not None:
            self.index.add_inline(seq, where)
            return
        state = self.port(origin)
        inline: list[Any] = []
        for message_id, value in zip(ids, values, strict=True):
            keep = self.policy.keeps(state.seen)
            state.seen += 1
            if not keep:
                state.not_kept += 1
                state.reasons["policy"] = state.reasons.get("policy", 0) + 1
                inline.append(None)
                continue
            reason = self._keep_one(state, origin, message_id, value, frame_type, inline)
            if reason:
                state.not_kept += 1
                state.reasons[reason] = state.reasons.get(reason, 0) + 1
            else:
                state.kept += 1
        if any(v is not None for v in inline):
            payload = encode_partial(inline)
            self.index.add_inline(seq, state.files.append("json-partial", payload))
            self.pending_bytes += len(payload)

    def _keep_one(self, state: PortState, origin: str, message_id: int, value: Any,
                  frame_type: Any, inline: list[Any]) -> str | None:
        """Store one value where its kind goes; the reason if it cannot be kept.

        A value kept in the batch's own JSON is appended to ``inline``; any other puts
        ``None`` there.
        """
        stored: Stored | str
        if frame_type is not None and isinstance(value, frame_type):
            kind, stored = "dataframe", state.files.append_frame(value)
        elif is_model(value):
            kind, stored = "model", write_model(self.folder, message_id, value)
        elif type(value).__name__ == "ndarray":
            kind, stored = "ndarray", write_array(self.folder, message_id, value)
        else:
            plain = json_value(value)
            inline.append(None if plain is UNSTORABLE else plain)
            return f"not storable ({type(value).__name__})" if plain is UNSTORABLE else None
        inline.append(None)
        if isinstance(stored, str):
            return stored
        self.index.add_kept(message_id, origin, kind, *stored)
        return None
