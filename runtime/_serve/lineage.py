"""Request lineage: which requests each message of a served flow came from, through the hooks.

A message emitted by an endpoint node (``http.in``) carries the requests whose rows it holds
(in its DataFrame's ``attrs["requests"]``). Every message made from it inherits them
through its parents, which the engine's ``produced`` hook reports. When a firing fails,
the ``failed`` hook's error record names its input messages; every request they came from
that is still waiting is answered 500 with the error's text. Only messages derived from
requests still waiting are kept, so memory follows the requests in flight, not the run.
"""

from __future__ import annotations

from typing import Any

from runtime._graph import Plan
from runtime._hooks import Hooks
from runtime._messages import Batch, ErrorRecord, IdRanges
from runtime._serve.hub import ENDPOINT_TAG, ServingHub

REQUESTS_ATTR = "requests"


class RequestLineage:
    """Follows request ids from endpoint messages to their descendants and error records."""

    def __init__(self, plan: Plan, hub: ServingHub) -> None:
        self.hub = hub
        self.ports = {f"{nid}.{port}" for nid, node in plan.nodes.items()
                      if ENDPOINT_TAG in node.spec.tags for port in node.spec.data_outputs}
        self.owner: dict[int, tuple[str, ...]] = {}
        self.messages: dict[str, list[int]] = {}
        hub.on_finish.append(self._finished)

    def attach(self, hooks: Hooks) -> None:
        """Listen to the run's ``produced`` and ``failed`` hooks."""
        hooks.add("produced", self._produced)
        hooks.add("failed", self._failed)

    def _keep(self, message: int, requests: tuple[str, ...]) -> None:
        """Remember the requests still waiting that ``message`` came from."""
        requests = tuple(r for r in requests if self.hub.is_open(r))
        if not requests:
            return
        self.owner[message] = requests
        for rid in requests:
            self.messages.setdefault(rid, []).append(message)

    def _produced(self, port: str, batch: Batch) -> None:
        with self.hub.lock:
            if port in self.ports:
                for mid, value in zip(batch.ids, batch.values, strict=True):
                    attrs: dict[str, Any] = getattr(value, "attrs", {})
                    self._keep(mid, tuple(attrs.get(REQUESTS_ATTR, ())))
                return
            owner = self.owner
            if not owner:
                return
            for index, parents in enumerate(batch.parents):
                if isinstance(parents, int):
                    found = owner.get(parents)
                elif isinstance(parents, IdRanges):
                    continue  # made from a whole stream (collect, count): not one request's
                else:
                    found = tuple(r for p in parents for r in owner.get(p, ()))
                if found:
                    self._keep(batch.ids[index], found)

    def _failed(self, node: str, record: ErrorRecord) -> None:
        with self.hub.lock:
            requests = {r for mid in record.inputs for r in self.owner.get(mid, ())}
        if not requests:
            return
        body = _error_body(node, record)
        for rid in sorted(requests):
            self.hub.answer(rid, 500, body)

    def _finished(self, request_id: str) -> None:
        """Forget the messages of an answered request (the hub's lock is not held here)."""
        with self.hub.lock:
            for mid in self.messages.pop(request_id, ()):
                requests = self.owner.get(mid)
                if requests is not None and not any(self.hub.is_open(r) for r in requests):
                    del self.owner[mid]


def _error_body(node: str, record: ErrorRecord) -> bytes:
    import json

    return json.dumps({"error": str(record), "node": node, "type": record.error,
                       "message": record.message}).encode()
