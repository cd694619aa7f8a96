"""The options JSON of an estimator, typed into right after picking an estimator, in Chromium.

Picking an estimator by typing its name opens the picker's menu; leaving the picker
while the menu still slides in used to give the focus back to the picker when the slide
ended, so that the rest of what was typed into the next field went to the picker.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.editor.pagekit import open_node, select_node
from tests.editor.test_params_know_data import LOGISTIC, WIDE, saved_params

FOREST = "sklearn.ensemble.RandomForestClassifier"
TREE = "sklearn.tree.DecisionTreeClassifier"
# each round: what is typed into the picker, the estimator it picks, the options typed next
ROUNDS = [
    (FOREST, FOREST, '{"n_estimators": 12, "max_depth": 4, "criterion": "entropy"}'),
    ("DecisionTreeClassifier", TREE, '{"max_depth": 3, "min_samples_leaf": 2}'),
    (LOGISTIC, LOGISTIC, '{"C": 0.25, "max_iter": 250, "fit_intercept": false}'),
    ("RandomForestClassifier", FOREST, '{"n_estimators": 7, "random_state": 11}'),
]


@pytest.mark.parametrize("rounds", [ROUNDS[:2], ROUNDS[2:]], ids=["named", "resolved"])
def test_options_typed_right_after_picking_an_estimator_keep_every_character(
        shared_server: Any, page: Any, rounds: list[tuple[str, str, str]]) -> None:
    name = f"wide-{len(rounds)}-{rounds[0][0].rsplit('.', 1)[-1]}.json"  # one per case
    path = shared_server.workspace / name
    path.write_text(json.dumps(WIDE))  # fit: a LogisticRegression with max_iter 500
    page.goto(f"{shared_server.url}/flow/{name}")
    select_node(page, "fit")
    expect(page.locator('[data-option="max_iter"]')).to_be_attached()  # the options drawn
    picker = page.get_by_test_id("estimator-picker")
    raw = page.locator('textarea[data-param="options"]')
    field = raw.get_attribute("id")  # the options of a new estimator are drawn anew, not this

    for typed_name, estimator, typed in [*rounds, *rounds]:  # twice: more chances to lose
        picker.click()
        picker.fill(typed_name)
        picker.press("Tab")  # leaving the picker's field takes the name typed into it
        raw.click()  # at once: the picker's menu may still be sliding in
        raw.press("ControlOrMeta+a")
        raw.press_sequentially(typed)

        expect(raw).to_have_value(typed)
        first, value = next(iter(json.loads(typed).items()))
        expect(page.locator(f'[data-option="{first}"]')).to_have_value(str(value))
        params = saved_params(page, path, "fit")
        assert (params["estimator"], params["options"]) == (estimator, json.loads(typed))
        expect(raw).to_have_value(typed)
    expect(raw).to_have_attribute("id", field or "")
    assert page.js_errors == []


STEPS = [{"estimator": "sklearn.preprocessing.StandardScaler"},
         {"estimator": LOGISTIC, "options": {"C": 0.5}}]
PIPE = {"edgewise": 1, "name": "pipe", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "wine"},
     "position": {"x": 40, "y": 60}},
    {"id": "fit", "component": "ml.fit", "params": {"estimator": LOGISTIC, "target": "target"},
     "position": {"x": 320, "y": 60}}],
    "edges": [{"source": "load.data", "target": "fit.data"}]}


def test_an_estimator_emptied_and_left_with_its_list_open_is_cleared(
        shared_server: Any, page: Any) -> None:
    # Quasar says a select lost the focus only if its list is closed by then; leaving it
    # for another field with the list open used to keep the estimator that was emptied,
    # and the steps typed next made the node ask for 'estimator or steps, not both'.
    path = open_node(page, shared_server, "emptied.json", PIPE, "fit")
    picker = page.get_by_test_id("estimator-picker")
    steps = page.locator('textarea[data-param="steps"]')
    for _round in range(2):
        picker.click()
        picker.fill("")
        expect(page.locator(".q-menu .q-item").first).to_be_visible()  # the list is open
        picker.press("Tab")  # leaves it with the list still open
        steps.fill(json.dumps(STEPS))
        steps.press("Tab")
        expect(page.get_by_test_id("step-row")).to_have_count(2)
        expect(page.get_by_test_id("problems")).to_contain_text("No problems.")
        params = saved_params(page, path, "fit")
        assert "estimator" not in params
        assert params["steps"] == STEPS
        # the estimator again, for the next round
        steps.fill("[]")
        steps.press("Tab")
        picker.click()
        picker.fill("LogisticRegression")
        picker.press("Enter")
        assert saved_params(page, path, "fit")["estimator"] == LOGISTIC
    assert page.js_errors == []


def test_the_chosen_option_clicked_after_typing_stays_chosen(
        shared_server: Any, page: Any) -> None:
    # Clicking an option moves the focus into the list, out of the field: that was taken as
    # leaving, and the text typed to find the option could become the choice. Clicking the
    # option already chosen sends no change at all, and the typed text was taken on leaving.
    path = open_node(page, shared_server, "same.json", WIDE, "fit")
    target = page.locator('[data-column-param="target"]')
    picker = page.get_by_test_id("estimator-picker")
    raw = page.locator('textarea[data-param="options"]')
    for field, typed, option in [(target, "targ", "target_0"),
                                 (picker, "Logis", "LogisticRegression")]:
        field.click()
        field.fill(typed)
        page.locator(".q-menu .q-item", has_text=option).first.click()
        page.keyboard.press("Escape")
        page.get_by_test_id("params-node").click()  # out of the field
    # and the choice typed out in full, key by key: its last key shows the choice, which
    # was taken for the field showing it again, so the text before that key was kept
    for field, typed in [(target, "target_0"), (picker, LOGISTIC)]:
        field.click()
        field.fill("")
        field.press_sequentially(typed)
        page.get_by_test_id("params-node").click()
    # an edit made after leaving: the server has handled the leaving when it has this edit
    raw.fill('{"max_iter": 600}')
    raw.press("Tab")
    params = saved_params(page, path, "fit")
    assert (params["target"], params["estimator"], params["options"]) == (
        "target_0", LOGISTIC, {"max_iter": 600})
    expect(target).to_have_value("target_0")
    expect(picker).to_have_value(re.compile("^LogisticRegression "))
    target.click()
    target.fill("")  # the typed text was not added to the columns offered
    expect(page.locator(".q-menu .q-item")).to_have_text(["target_0"])
    assert page.js_errors == []


def test_a_list_that_comes_while_typing_is_filtered_by_what_was_typed(
        server_factory: Any, workspace: Path, page: Any) -> None:
    # The editor lists scikit-learn's estimators the first time a picker is used (it
    # imports them all: seconds). Typed meanwhile, 'Forest' stayed in the field but the
    # list came whole, and the arrow keys and Enter chose ARDRegression.
    (workspace / "wide.json").write_text(json.dumps(WIDE))
    server = server_factory(workspace)  # its own editor: nothing listed yet
    page.goto(f"{server.url}/flow/wide.json")
    select_node(page, "fit")
    picker = page.get_by_test_id("estimator-picker")
    picker.click()
    picker.fill("Forest")  # at once, while the list is being made
    options = page.locator(".q-menu .q-item")
    expect(options.first).to_contain_text("Forest", timeout=60_000)  # listed, and filtered
    assert all("forest" in text.lower() for text in options.all_inner_texts()), (
        options.all_inner_texts())
    picker.press("ArrowDown")
    picker.press("Enter")
    expect(picker).to_have_value(re.compile("Forest"))
    assert page.js_errors == []
