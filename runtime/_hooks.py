"""The closed set of runtime hook points that observers (taps, recorders, hosts) attach to.

Engines call these once per *batch* of messages, never per message, so observation costs
nothing measurable when no one listens and little when someone does:

- ``node_started(node)``: a node began its first work.
- ``produced(port, batch)``: a node put a Batch of messages out on one of its output ports
  (``port`` is ``NODE.PORT``), whether or not an edge leaves that port. Called once per
  batch, before ``emitted``: observers that keep what a node made (the recorder) use this.
- ``emitted(edge, batch)``: a Batch of messages was put on an edge; a batch on a port
  with three edges is emitted three times.
- ``fired(node, count)``: a node finished ``count`` firings.
- ``failed(node, record)``: a firing raised; ``record`` is the ErrorRecord.
- ``node_ended(node, state)``: a node ended, as ``done`` or ``failed``.
- ``run_ended(result)``: the whole run ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HOOK_NAMES = ("node_started", "produced", "emitted", "fired", "failed", "node_ended", "run_ended")


class Hooks:
    """Lists of callbacks, one list per hook point. Unknown hook names are refused."""

    __slots__ = (*HOOK_NAMES, "errors")

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.node_started: list[Callable[..., Any]] = []
        self.produced: list[Callable[..., Any]] = []
        self.emitted: list[Callable[..., Any]] = []
        self.fired: list[Callable[..., Any]] = []
        self.failed: list[Callable[..., Any]] = []
        self.node_ended: list[Callable[..., Any]] = []
        self.run_ended: list[Callable[..., Any]] = []

    @property
    def watching(self) -> bool:
        """Whether a callback listens to what a run does while it runs (not only its end)."""
        return bool(self.node_started or self.produced or self.emitted or self.fired
                    or self.failed)

    @property
    def reads_batches(self) -> bool:
        """Whether a callback is handed batches (``produced``, ``emitted``), values and all."""
        return bool(self.produced or self.emitted)

    def add(self, name: str, callback: Callable[..., Any]) -> Callable[[], None]:
        """Attach a callback to a hook point; return a function that detaches it."""
        if name not in HOOK_NAMES:
            msg = f"unknown hook '{name}'; the hooks are: {', '.join(HOOK_NAMES)}"
            raise ValueError(msg)
        callbacks: list[Callable[..., Any]] = getattr(self, name)
        callbacks.append(callback)
        return lambda: callbacks.remove(callback) if callback in callbacks else None

    def call(self, name: str, *args: Any) -> None:
        """Call every callback attached to ``name``.

        An observer that raises is contained like a failing component: the error is kept
        in ``errors`` and the run goes on.
        """
        for callback in getattr(self, name):
            try:
                callback(*args)
            except Exception as exc:  # noqa: BLE001 - an observer must not stop the run
                if len(self.errors) < 100:
                    self.errors.append(f"{name} observer {getattr(callback, '__qualname__', '?')}"
                                       f" failed: {type(exc).__name__}: {exc}")
