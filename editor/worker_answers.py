"""What a waiting (warm) run worker answers about kept runs: an edge's samples, a diff."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def answer(op: str, args: list[Any]) -> dict[str, Any]:
    """Answer one question, as the kept-values reader would: ``{"ok": ...}`` or ``{"error"}``.

    Args:
        op: ``samples`` (folder, origin): the last values on a port, as the inspector shows
            them; or ``diff`` (folder A, folder B): ``runtime.runs.diff_runs``.
        args: the question's arguments.
    """
    import runtime
    from editor.kept_values import run_samples

    try:
        if op == "samples":
            found: Any = run_samples(runtime.runs.RunStore(Path(args[0])), str(args[1]))
        elif op == "diff":
            found = runtime.runs.diff_runs(runtime.runs.RunStore(Path(args[0])),
                                      runtime.runs.RunStore(Path(args[1])))
        else:
            return {"error": f"unknown question '{op}'"}
        return {"ok": json.loads(json.dumps(found, default=str))}  # as the reader sends it
    except (LookupError, ValueError, OSError) as exc:
        return {"error": runtime.exception_text(exc)}
    except Exception as exc:  # noqa: BLE001 - a bug is reported, not left to hang the editor
        return {"error": f"{type(exc).__name__}: {exc}"}
