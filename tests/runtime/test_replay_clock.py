"""A replay's verdict forgives a decision's wall-clock time, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from runtime._record.diff import _only_clock

CLOCKS = {"supervisor": "time"}


def edge(name: str, *reasons: str, both: bool = True) -> dict[str, Any]:
    return {"edge": name, "in_a": True, "in_b": both, "reasons": list(reasons)}


def test_an_edge_whose_only_difference_is_the_decision_time_is_reproduced() -> None:
    assert _only_clock(edge("supervisor.decisions->d.data", "'time' differs on 1 of 1 rows"),
                       CLOCKS)


@pytest.mark.parametrize("found", [
    edge("supervisor.decisions->d.data", "'time' differs on 1 of 1 rows",
         "'to' differs on 1 of 1 rows"),  # another decision, not only another moment
    edge("supervisor.decisions->d.data", "message count 1 → 2"),
    edge("supervisor.decisions->d.data"),  # nothing differs: it is identical, not clock-only
    edge("supervisor.decisions->d.data", "'time' differs on 1 of 1 rows", both=False),
    edge("serve.data->s.data", "'time' differs on 5 of 5 rows"),  # a column of the data
])
def test_any_other_difference_still_counts(found: dict[str, Any]) -> None:
    assert not _only_clock(found, CLOCKS)
