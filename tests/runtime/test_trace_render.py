"""One text for a lineage path: terminal and editor say the same words, indented their way."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from runtime import Run, plan
from runtime._record import RunStore, record_run
from runtime._record.lineage import Lineage, Step
from runtime._trace_render import MAX_INDENT, render_trace

FLOWS = Path(__file__).resolve().parents[2] / "flows"
NBSP = chr(160)


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    folder = tmp_path_factory.mktemp("iris")
    shutil.copy(FLOWS / "iris.json", folder / "iris.json")
    run = Run(plan(folder / "iris.json"))
    recorder = record_run(run, folder)
    assert run.run().status == "ok"
    return recorder.store


def row_path(store: RunStore) -> tuple[list[Step], str]:
    [message] = list(store.messages("predict.data"))
    row = str(store.value(message.id).index[0])
    return Lineage(store).trace(message.id, row), row


def test_a_row_is_traced_to_its_source_and_the_model_that_scored_it(iris: RunStore) -> None:
    steps, row = row_path(iris)
    lines = render_trace(steps, times=True)

    assert [line.kind for line in lines] == ["message", "input", "message", "message",
                                            "source"]
    assert re.fullmatch(r"← #\d+ predict\.data \(ml\.predict, 38 rows, t=\d+\.\d{3} s\)",
                        lines[0].text)
    assert re.fullmatch(r"  scored by model #\d+ fit\.model .*LogisticRegression.*",
                        lines[1].text)
    assert lines[-1].text == f"      source: dataset iris, row {row}"


def test_the_editor_and_the_terminal_say_the_same(iris: RunStore) -> None:
    steps, _row = row_path(iris)
    terminal = render_trace(steps, pad="  ", times=True)
    page = render_trace(steps, pad=NBSP * 3)

    assert [line.kind for line in terminal] == [line.kind for line in page]
    for shown, printed in zip(page, terminal, strict=True):
        words = re.sub(r", t=\d+\.\d{3} s\)$", ")", printed.text.lstrip(" "))
        assert shown.text.lstrip(NBSP) == words
        assert len(shown.text) - len(shown.text.lstrip(NBSP)) == 3 * (
            len(printed.text) - len(printed.text.lstrip(" "))) // 2


def test_a_deep_path_stops_indenting(iris: RunStore) -> None:
    steps, _row = row_path(iris)
    deep = [dataclasses.replace(step, depth=40) for step in steps[:1]]

    [message, scored_by] = render_trace(deep, pad=".")

    assert message.text.startswith("." * MAX_INDENT + "←")
    assert scored_by.text.startswith("." * (MAX_INDENT + 1) + "scored by model")
