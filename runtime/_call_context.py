"""What a component declared with the ``call-context`` tag may ask about the call it is in.

Most components compute from their inputs alone. A few must also say where those inputs
came from: ``model.register`` keeps the run and message ids of the model it registers, so
that ``trained-on`` finds the rows that trained it; a scorer names the message of the
model that answered each row. Such a component is declared with
``tags=[CONTEXT_TAG]`` and calls :func:`call_context` while it runs::

    @component("model.register", inputs={"model": "Model"}, tags=[CONTEXT_TAG])
    def register(model, *, params):
        where = call_context()   # run_id, node, and the message id of each input

The firing rule sets the context around each call of such a node (and only of such a
node, so that the hot path of every other component pays nothing), in the thread that
makes the call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

CONTEXT_TAG = "call-context"


@dataclass(frozen=True)
class CallContext:
    """Where the current call of a component comes from.

    Attributes:
        run_id: The kept run's id when the run is recorded, else None.
        node: The id of the node being called.
        inputs: The message id of the value on each connected input of this call; for
            a ``latest`` input, the message whose value the call uses.
    """

    run_id: str | None
    node: str
    inputs: dict[str, int] = field(default_factory=dict)


_current = threading.local()


def call_context() -> CallContext | None:
    """The context of the call running in this thread, or None outside such a call.

    Only components declared with the ``call-context`` tag get one.
    """
    context: CallContext | None = getattr(_current, "context", None)
    return context


def set_call_context(context: CallContext | None) -> None:
    """Set (or clear, with None) the context of the calls that this thread makes next."""
    _current.context = context
