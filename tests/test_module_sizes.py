"""No module of the runtime or the editor grows past 400 lines (Python or JavaScript).

A module that long has usually grown a second job; split it by job, not by line count.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIMIT = 400


def test_no_runtime_or_editor_module_passes_400_lines() -> None:
    files = [p for folder in ("runtime", "editor") for pattern in ("*.py", "*.js")
             for p in (REPO / folder).rglob(pattern)]
    assert len(files) > 80
    long = {str(p.relative_to(REPO)): n for p in files
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert long == {}
