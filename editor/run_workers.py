"""The worker processes of one page: the run's, a warm standby, and who answers questions."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

from nicegui import ui

from editor.document import FlowDocument
from editor.kept_values import reader
from editor.warm_up import flow_hints
from editor.worker import Message, RunWorker

REPLACE_DELAY = 0.5  # seconds after a standby is taken for a re-run until the next one starts


class Workers:
    """The page's run worker and its warm standby; every message they send goes to ``inbox``.

    ``on_state`` is told how ready the next run's worker is: ``none``, ``warming`` or
    ``ready`` (the Run button shows it as ``data-worker``).
    """

    def __init__(self, doc: FlowDocument, on_state: Callable[[str], None]) -> None:
        """Keep the workers of one page.

        Args:
            doc: the page's document (the estimators it names are imported ahead).
            on_state: told how ready the next run's worker is.
        """
        self.doc = doc
        self.on_state = on_state
        self.inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.worker: RunWorker | None = None  # the last run's: it waits for inspections
        self.standby: RunWorker | None = None
        self.closed = False

    @property
    def running(self) -> bool:
        """Whether a run is going on."""
        return self.worker is not None and self.worker.running

    def prepare(self) -> None:
        """Start a worker ahead of time, so that pressing Run starts the flow at once.

        It imports pandas, scikit-learn, the component families and the estimators the
        flow names while it waits, and says ``ready``.
        """
        if self.standby is None and not self.closed:
            self.standby = RunWorker(self.inbox.put)
            self.standby.spawn(tuple(flow_hints(self.doc.data)))
            self.on_state("warming")

    def ready(self) -> None:
        """A worker said it is ready: the Run button says so if it is the standby."""
        if self.standby is not None and self.standby.ready:
            self.on_state("ready")

    def for_run(self) -> RunWorker:
        """The worker of a new run (the standby if there is one); the last run's is ended."""
        if self.worker is not None:
            self.worker.close()
        self.worker = self.standby or RunWorker(self.inbox.put)
        self.standby = None
        self.on_state("none")
        return self.worker

    async def ask_kept(self, op: str, *args: Any) -> Any:
        """Ask about kept runs (``samples``, ``diff``) in another process, never this one.

        The warm standby worker answers if it is ready, else the kept-values reader.

        Raises:
            LookupError: the question could not be answered; the message says why.
        """
        worker = self.warm_worker()
        if worker is not None:
            return await worker.ask(op, *args)
        return await reader().ask(op, *args)

    def warm_worker(self) -> RunWorker | None:
        """A worker with everything imported and nothing to do, or None.

        The standby one once it is ready, else the one of the last run (it ran the flow,
        and waits for inspections).
        """
        for worker in (self.standby, self.worker):
            if worker is not None and worker.alive and not worker.running and (
                    worker.ready or worker is self.worker):
                return worker
        return None

    def replay_worker(self) -> tuple[RunWorker, bool]:
        """A warm worker for a re-run, and whether to end it after.

        The last run's worker if it waits (it stays, for inspections), else the standby
        one (a fresh standby takes its place).
        """
        warm = self.warm_worker()
        if warm is not None and warm is self.worker:
            return warm, False
        worker = self.standby or RunWorker(self.inbox.put)
        self.standby = None
        self.on_state("none")
        ui.timer(REPLACE_DELAY, self.prepare, once=True)
        return worker, True

    def close(self) -> None:
        """The tab went away: end its workers (and start no other)."""
        self.closed = True
        for worker in (self.worker, self.standby):
            if worker is not None:
                worker.close()
        self.worker = self.standby = None
