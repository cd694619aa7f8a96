"""The runs table, and comparing two kept runs: a legend, and a changed edge's A | B values."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.editor.pagekit import EDGE, STATE, select_node


def run_to_the_end(page: Any, rows: int) -> None:
    page.get_by_test_id("run").click()
    expect(page.get_by_test_id("run-row")).to_have_count(rows, timeout=60_000)
    expect(page.locator(STATE.format("metrics"))).to_have_attribute("data-state", "done",
                                                                    timeout=60_000)
    expect(page.get_by_test_id("run")).to_be_enabled()


def test_runs_table_and_a_comparison_with_legend_and_both_runs_values(
        server_factory: Any, example_workspace: Path, page: Any) -> None:
    server = server_factory(example_workspace)
    page.goto(server.url + "/flow/iris.json")
    page.get_by_test_id("tab-runs").click()
    run_to_the_end(page, 1)
    select_node(page, "fit")
    area = page.locator('[data-param="options"] textarea, textarea[data-param="options"]').first
    area.fill('{"max_iter": 500, "C": 0.01}')
    page.get_by_test_id("params-node").click()
    run_to_the_end(page, 2)

    # the table: newest first, with time, duration, status, changed params and metrics
    rows = page.get_by_test_id("run-row")
    newer, older = rows.nth(0), rows.nth(1)
    older_id = older.get_attribute("data-run")
    newer_id = newer.get_attribute("data-run")
    assert newer_id > older_id
    for row in (newer, older):
        expect(row.get_by_test_id("run-status")).to_have_text("ok")
        expect(row.get_by_test_id("run-time")).to_have_text(re.compile(r"\d\d:\d\d:\d\d$"))
        expect(row.get_by_test_id("run-duration")).to_have_text(re.compile(r"^\d+\.\d\d s$"))
        expect(row.get_by_test_id("run-metrics")).to_contain_text("accuracy ")
    expect(newer.get_by_test_id("run-changes")).to_have_text(
        'fit.options {"max_iter": 500} → {"max_iter": 500, "C": 0.01}')
    expect(older.get_by_test_id("run-changes")).to_have_text("")
    # sorted by time, then the other way round
    page.locator("[data-testid=runs-sort][data-key=started]").click()
    expect(rows.first).to_have_attribute("data-run", older_id)
    page.locator("[data-testid=runs-sort][data-key=started]").click()
    expect(rows.first).to_have_attribute("data-run", newer_id)

    # compare the older run (shown, run A) with the newer (run B); the warm worker waiting
    # for the next Run reads the kept values (else a helper process, started on first use)
    expect(page.get_by_test_id("run")).to_have_attribute("data-worker", "ready", timeout=60_000)
    older.get_by_test_id("run-show").click()
    expect(page.get_by_test_id("compare-legend")).to_have_count(0)
    page.locator(f'[data-testid=run-row][data-run="{newer_id}"]').get_by_test_id(
        "run-compare").click()
    legend = page.get_by_test_id("compare-legend")
    expect(legend).to_be_visible(timeout=60_000)
    expect(legend).to_contain_text(f"run A {older_id} → run B {newer_id}")
    expect(legend.get_by_test_id("legend-item")).to_have_count(3)
    for mark in ("first", "changed", "same"):
        expect(legend.locator(f"[data-testid=legend-item][data-change={mark}]")).to_be_visible()
    expect(page.locator(EDGE.format("fit.model->predict.model"))).to_have_attribute(
        "data-change", "first")
    expect(page.locator(EDGE.format("load.data->split.data"))).to_have_attribute(
        "data-change", "same")

    # a changed edge shows run A's value beside run B's, with the diff's details
    page.locator(EDGE.format("predict.data->score.data") + " [data-testid=edge-label]").click()
    inspector = page.get_by_test_id("inspector")
    details = inspector.get_by_test_id("compare-details")
    expect(details.locator("[data-topic=status]")).to_contain_text("changed")
    expect(details.locator("[data-topic=messages]")).to_have_text(re.compile("1 → 1"))
    expect(details.locator("[data-topic=rows]")).to_contain_text("38 → 38")
    expect(details.locator("[data-topic=drift]").first).to_contain_text("PSI")
    expect(details.locator("[data-topic=param]")).to_contain_text("fit.options")
    sides = inspector.get_by_test_id("compare-side")
    expect(sides).to_have_count(2)
    expect(sides.nth(0)).to_contain_text(f"run A · {older_id}")
    expect(sides.nth(1)).to_contain_text(f"run B · {newer_id}")
    for i in range(2):
        expect(sides.nth(i).get_by_test_id("inspector-shape")).to_contain_text("38 rows")
    # as wide as the window, in a dialog: A on the left, B on the right
    inspector.get_by_test_id("compare-wide").click()
    dialog = page.get_by_test_id("compare-dialog")
    expect(dialog).to_be_visible()
    wide = dialog.get_by_test_id("compare-side")
    expect(wide).to_have_count(2)
    expect(dialog.get_by_test_id("compare-details")).to_contain_text("38 → 38")
    # the dialog slides in: wait until it has its full width, then both boxes in one go
    page.wait_for_function("""() => [...document.querySelectorAll(
        '[data-testid=compare-dialog] [data-testid=compare-side]')].every(
          (el) => el.getBoundingClientRect().width > 400)""")
    box_a, box_b = page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid=compare-dialog] [data-testid=compare-side]')].map((el) => {
          const r = el.getBoundingClientRect();
          return {x: r.x, y: r.y, width: r.width, height: r.height}; })""")
    assert box_a["x"] + box_a["width"] <= box_b["x"] + 1
    assert box_b["width"] > 400 and abs(box_a["y"] - box_b["y"]) < 2
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.locator(EDGE.format("score.metrics->metrics.data") + " [data-testid=edge-label]").click()
    expect(details.locator("[data-topic=metric]").first).to_contain_text("accuracy: ")
    page.locator(EDGE.format("fit.model->predict.model") + " [data-testid=edge-label]").click()
    expect(details.locator("[data-topic=status]")).to_have_text(re.compile("first changed"))
    expect(details.locator("[data-topic=why]")).to_contain_text("model params changed: C")

    # back to live: no legend, no colours
    page.get_by_test_id("runs-live").click()
    expect(page.get_by_test_id("compare-legend")).to_have_count(0)
    expect(page.locator("[data-testid=edge][data-change]")).to_have_count(0)
    assert page.js_errors == []
    assert "Traceback" not in server.output()
