"""How a fused chain hands a stage's outputs down to the next stage: one rule for every engine.

The local engine (``runtime._chain``) and the Ray engine's hosts (``runtime._ray_stage``)
fire a chain through this one function, so a chain's steps are the same on both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from runtime._collector import Outputs
from runtime._firing import FiringRule

Step = tuple[int, Outputs, bool]  # (stage index, its outputs, whether it fired on input)


class Linked(Protocol):
    """A stage of a chain: its firing rule, and the edge to the next stage."""

    @property
    def rule(self) -> FiringRule:
        """The stage's firing rule."""

    @property
    def link(self) -> tuple[str, str] | None:
        """(this stage's output port, the next stage's input port); None for the last."""


def hand_down(stages: Sequence[Linked], index: int, out: Outputs, steps: list[Step],
              processed: bool, before: Callable[[int], None] | None = None) -> None:
    """Keep stage ``index``'s outputs in ``steps``, and fire each next stage on its batch.

    The chain goes on while a stage's linked output has values: the next stage fires on
    that batch, its outputs are kept, and so on to the end of the chain.

    Args:
        stages: The chain's stages, in order.
        index: The stage whose outputs ``out`` are.
        out: Its outputs.
        steps: Where each stage's ``(index, outputs, processed)`` is appended.
        processed: Whether stage ``index`` fired on input (not a source's pull, not finish).
        before: Called with a stage's index before that stage fires (the local engine
            reports what the chain did so far from there).
    """
    while True:
        steps.append((index, out, processed))
        link = stages[index].link
        if link is None:
            return
        batch = out.get(link[0])
        if batch is None or not batch.values:
            return
        index += 1
        if before is not None:
            before(index)
        out = stages[index].rule.process([(link[1], batch)])
        processed = True
