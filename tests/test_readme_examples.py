"""The component examples in the README's "Writing a component" section run as shown."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.linear_model import LinearRegression

from runtime import ComponentSpec
from runtime.testing import run_component

README = Path(__file__).resolve().parents[1] / "README.md"


def section_code(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"### {title}")
    end = text.index("\n## ", start)
    blocks = re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)
    # the route example is an excerpt (its RouteParams and body are elided)
    return "\n".join(b for b in blocks if "..." not in b and "def setup()" not in b
                     and "run_flow(" not in b)


def components() -> dict[str, ComponentSpec]:
    namespace: dict[str, Any] = {}
    exec(section_code("Writing a component"), namespace)
    return {v.id: v for v in namespace.values() if isinstance(v, ComponentSpec)}


def test_every_readme_component_example_declares_a_component() -> None:
    assert set(components()) == {"demo.scale", "demo.split_even", "demo.running_total",
                                 "demo.score"}


def test_the_readme_examples_do_what_the_readme_says() -> None:
    found = components()
    frame = pd.DataFrame({"amount": [1.0, 2.5], "x": [1.0, 2.0]})

    scaled = run_component(found["demo.scale"], {"data": [frame]}, {"factor": 3})
    pd.testing.assert_frame_equal(scaled["data"][0], frame * 3)

    split = run_component(found["demo.split_even"], {"data": [1, 2, 3, 4]})
    assert (split["even"], split["odd"]) == ([2, 4], [1, 3])

    total = run_component(found["demo.running_total"], {"data": [frame, frame]})
    assert total["total"] == [7.0]

    model = LinearRegression().fit(frame[["amount", "x"]], [0.0, 1.0])
    scored = run_component(found["demo.score"], {"data": [frame], "model": [model]})
    assert list(scored["data"][0]["prediction"]) == list(model.predict(frame))


def test_the_component_table_lists_every_installed_component() -> None:
    import runtime

    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Components"):text.index("### Writing a component")]
    listed = set(re.findall(r"^\| `([a-z_.]+)` \|", table, flags=re.M))
    assert listed == set(runtime.default_registry().ids())
