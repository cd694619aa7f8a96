"""Charts show as SVG in the Debug panel and the inspector, sanitised, in real Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from editor.svg_safe import UnsafeSvg, sanitize_svg
from runtime._previews import detail, distributions, importance

NODE = '[data-testid=node][data-node-id="{}"]'
LABEL = '[data-testid=edge][data-edge="{}"] [data-testid=edge-label]'
CHARTS = {"edgewise": 1, "name": "charts", "nodes": [
    {"id": "load", "component": "dataset.load", "params": {"name": "iris"},
     "position": {"x": 40, "y": 60}},
    {"id": "hist", "component": "chart.plot",
     "params": {"kind": "hist", "y": "sepal length (cm)"}, "position": {"x": 320, "y": 40}},
    {"id": "show", "component": "debug", "position": {"x": 600, "y": 40}},
    {"id": "split", "component": "ml.split", "params": {"target": "target"},
     "position": {"x": 320, "y": 260}},
    {"id": "fit", "component": "ml.fit", "position": {"x": 560, "y": 220},
     "params": {"estimator": "sklearn.linear_model.LogisticRegression", "target": "target",
                "options": {"max_iter": 500}}},
    {"id": "predict", "component": "ml.predict", "params": {"probabilities": True},
     "position": {"x": 800, "y": 300}},
    {"id": "roc", "component": "chart.roc", "params": {"target": "target"},
     "position": {"x": 1040, "y": 300}}],
    "edges": [{"source": "load.data", "target": "hist.data"},
              {"source": "hist.chart", "target": "show.data"},
              {"source": "load.data", "target": "split.data"},
              {"source": "split.train", "target": "fit.data"},
              {"source": "split.test", "target": "predict.data"},
              {"source": "fit.model", "target": "predict.model"},
              {"source": "predict.data", "target": "roc.data"}]}
EVIL_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwned=1;alert(1)">'
            '<script>window.__pwned=2;alert(2)</script>'
            '<a href="javascript:alert(3)"><rect width="10" height="10" id="evil-rect"/></a>'
            '<image href="data:image/png;base64,AAAA" onerror="window.__pwned=4;alert(4)"/>'
            '<foreignObject><img src="data:image/png;base64,AAAA" onerror="window.__pwned=5"/>'
            '</foreignObject><image href="https://example.com/track.png"/></svg>')
EVIL_CODE = ("def process(data, params):\n"
             "    return {'kind': 'chart', 'chart': 'evil', 'title': 't',\n"
             f"            'svg': {EVIL_SVG!r}}}\n")
EVIL = {"edgewise": 1, "name": "evil", "nodes": [
    {"id": "numbers", "component": "stream.range", "params": {"count": 1},
     "position": {"x": 40, "y": 60}},
    {"id": "fn", "component": "python.function", "params": {"code": EVIL_CODE},
     "position": {"x": 320, "y": 60}},
    {"id": "show", "component": "debug", "position": {"x": 600, "y": 60}}],
    "edges": [{"source": "numbers.data", "target": "fn.data"},
              {"source": "fn.data", "target": "show.data"}]}


def _edge_count(page: Any, edge: str) -> None:
    expect(page.locator(LABEL.format(edge))).to_have_text(re.compile(r"^1\b"), timeout=60_000)


def test_charts_show_as_svg_in_the_debug_panel_and_the_inspector(
        server_factory: Any, workspace: Path, page: Any) -> None:
    (workspace / "charts.json").write_text(json.dumps(CHARTS))
    server = server_factory(workspace)
    page.goto(server.url + "/flow/charts.json")
    expect(page.get_by_test_id("node")).to_have_count(7)
    page.get_by_test_id("run").click()
    for node in ("show", "roc"):
        expect(page.locator(NODE.format(node) + " [data-testid=node-status]")).to_have_attribute(
            "data-state", "done", timeout=60_000)

    page.get_by_test_id("tab-debug").click()
    entry = page.locator('[data-testid=debug-entry][data-node-id="show"]')
    expect(entry).to_have_count(1)
    expect(entry).to_have_attribute("data-kind", "chart")
    svg = page.get_by_test_id("debug-panel").locator("svg[data-testid=chart-svg]")
    expect(svg).to_have_count(1)
    expect(svg.locator("path").first).to_be_attached()

    _edge_count(page, "hist.chart->show.data")
    page.locator(LABEL.format("hist.chart->show.data")).click()
    inspector = page.get_by_test_id("inspector")
    expect(inspector.locator("svg[data-testid=chart-svg]")).to_have_count(1)
    expect(inspector).to_contain_text("hist chart")

    page.locator(LABEL.format("predict.data->roc.data")).click()
    plot = inspector.get_by_test_id("column-plot")
    expect(plot).to_have_attribute("data-column", "sepal length (cm)")
    bars = plot.locator("svg path[fill]:not([fill=none])")
    expect(bars.nth(5)).to_be_attached()  # a histogram has many bars
    page.get_by_test_id("column-plot-select").click()
    page.get_by_role("option", name="target", exact=True).click()
    expect(plot).to_have_attribute("data-column", "target")

    page.locator(LABEL.format("fit.model->predict.model")).click()
    weights = inspector.get_by_test_id("model-importance")
    expect(weights).to_have_attribute("data-kind", "coefficients")
    expect(weights).to_contain_text("petal length (cm)")
    expect(weights.locator("svg path[fill]:not([fill=none])").nth(3)).to_be_attached()
    assert page.js_errors == []


def test_a_malicious_chart_runs_no_script(server_factory: Any, workspace: Path,
                                          page: Any) -> None:
    (workspace / "evil.json").write_text(json.dumps(EVIL))
    server = server_factory(workspace)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server.url + "/flow/evil.json")
    expect(page.get_by_test_id("node")).to_have_count(3)
    page.get_by_test_id("run").click()
    page.get_by_test_id("trust-dialog").get_by_test_id("trust-run").click()
    expect(page.locator(NODE.format("show") + " [data-testid=node-status]")).to_have_attribute(
        "data-state", "done", timeout=60_000)

    page.get_by_test_id("tab-debug").click()
    svg = page.get_by_test_id("debug-panel").locator("svg[data-testid=chart-svg]")
    expect(svg).to_have_count(1)
    expect(svg.locator("#evil-rect")).to_be_attached()  # the drawing stays
    page.locator(LABEL.format("fn.data->show.data")).click()
    expect(page.get_by_test_id("inspector").locator("svg[data-testid=chart-svg]")).to_have_count(1)
    page.wait_for_timeout(500)  # give any handler a chance to fire (it must not)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    html = page.content()
    assert "onload" not in html and "onerror" not in html
    assert "<script>window.__pwned" not in html and "javascript:" not in html


def test_the_sanitiser_keeps_drawing_and_drops_scripts_links_and_entities() -> None:
    safe = sanitize_svg('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
                        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n' + EVIL_SVG)
    assert "evil-rect" in safe
    for bad in ("script", "onload", "onerror", "javascript", "foreignObject", "example.com"):
        assert bad not in safe
    kept = sanitize_svg('<svg xmlns="http://www.w3.org/2000/svg" '
                        'xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="#m1"/>'
                        '<image href="data:image/png;base64,AAAA"/></svg>')
    assert 'xlink:href="#m1"' in kept and 'href="data:image/png' in kept
    with pytest.raises(UnsafeSvg, match="entities"):
        sanitize_svg('<!DOCTYPE svg [<!ENTITY a "aaaa">]>'
                     '<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>')
    with pytest.raises(UnsafeSvg, match="<svg>"):
        sanitize_svg("<html xmlns='http://www.w3.org/1999/xhtml'/>")
    with pytest.raises(UnsafeSvg, match="well-formed"):
        sanitize_svg("<svg")


def test_distributions_are_numpy_histograms_and_pandas_value_counts() -> None:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"x": [0.5, 1.0, 1.0, np.nan, 7.25, 3.0],
                          "c": ["a", "b", "a", None, "a", "b"],
                          "flag": [True, False, True, True, False, True]})
    spread = detail(frame)["distribution"]
    counts, edges = np.histogram(frame["x"].dropna(), bins=4)  # four distinct values
    assert spread["x"] == {"kind": "hist", "edges": list(edges), "counts": list(counts),
                           "missing": 1}
    assert spread["c"] == {"kind": "counts", "labels": ["a", "b"], "counts": [3, 2],
                           "other": 0, "missing": 1}
    assert spread["flag"]["kind"] == "counts"
    assert spread["flag"]["labels"] == ["True", "False"]
    many = distributions(pd.DataFrame({"k": [str(i) for i in range(25)] + ["0"]}))["k"]
    assert many["labels"][0] == "0" and many["counts"][0] == 2  # noqa: PLR2004
    assert len(many["labels"]) == 20 and many["other"] == 5  # noqa: PLR2004


def test_importance_reads_feature_importances_and_coefficients() -> None:
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_iris(return_X_y=True, as_frame=True)
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(x, y)
    shown = importance(forest)
    assert shown is not None and shown["kind"] == "importances"
    order = np.argsort(-forest.feature_importances_, kind="stable")
    assert shown["features"] == [x.columns[i] for i in order]
    assert shown["values"] == [float(forest.feature_importances_[i]) for i in order]
    line = make_pipeline(StandardScaler(), LinearRegression()).fit(x, y)
    shown = importance(line)
    coef = line[-1].coef_
    assert shown is not None and shown["label"] == "coefficient"
    assert dict(zip(shown["features"], shown["values"], strict=True)) == dict(
        zip(x.columns, map(float, coef), strict=True))
    assert importance(StandardScaler().fit(x)) is None
