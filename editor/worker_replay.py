"""A replay run inside the editor's (warm) worker process: a function call, as the CLI makes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EDITOR_POLICY = {"max_values": 1000, "sample_every": 100}  # as the editor's own runs


def replay(folder: str, from_node: str, flow: dict[str, Any], workspace: str,
           plugins: bool = False) -> dict[str, Any]:
    """Re-run ``from_node`` and what is downstream on the values kept in run ``folder``.

    The editor has asked the user about code it has not trusted before it sends a replay,
    so the replay is trusted here (as ``edgewise replay --trust``).

    Returns:
        ``run`` (the new run's id), ``status``, ``seconds`` and ``report``, the new run
        compared with the one it replays (``runtime.runs.diff_runs``, made here where the values
        are at hand); or ``error``, a message saying why the replay could not run.
    """
    import runtime
    from runtime.runs import plan_replay, run_replay

    root = Path(workspace)
    registry = runtime.default_registry()
    if plugins:
        registry = runtime.workspace_registry(root, registry)
    store = runtime.runs.RunStore(Path(folder))
    try:
        plan = plan_replay(store, from_node, root, flow=flow, registry=registry, trust=True)
        result, recorder = run_replay(plan, root,
                                      policy=runtime.StoragePolicy(**EDITOR_POLICY))
    except runtime.FlowInvalidError as exc:
        return {"error": "; ".join(p.message for p in exc.problems)}
    except (LookupError, runtime.EdgewiseError, OSError) as exc:
        return {"error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - an engine bug is reported, not swallowed
        return {"error": f"the replay crashed: {type(exc).__name__}: {exc}"}
    try:
        report = runtime.runs.diff_runs(store, recorder.store)
    except LookupError as exc:
        report = {"error": str(exc)}
    return {"run": recorder.run_id, "status": result.status, "seconds": result.seconds,
            "report": report}
