"""Checks of a function node's code before it runs: its syntax and the functions it defines."""

from __future__ import annotations

import ast
from collections.abc import Sequence

CODE_FILE = "<node code>"
DEFAULT_INPUTS = ("data",)


def process_shape(inputs: Sequence[str]) -> str:
    """How ``process`` is written for these input ports, e.g. ``(left, right, params)``."""
    return f"({', '.join([*inputs, 'params'])})"


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def _positional_problem(func: ast.FunctionDef, want: int, shape: str, name: str) -> str | None:
    """Say why ``func`` cannot be called with ``want`` positional arguments, or None."""
    args = func.args
    positional = len(args.posonlyargs) + len(args.args)
    needed = positional - len(args.defaults)
    required_keywords = [a.arg for a, default in zip(args.kwonlyargs, args.kw_defaults,
                                                     strict=True) if default is None]
    if needed > want or (positional < want and args.vararg is None) or required_keywords:
        return f"line {func.lineno}: '{name}' must take {shape}"
    return None


def _keyword_problem(func: ast.FunctionDef, inputs: Sequence[str]) -> str | None:
    """Say why ``process`` cannot take one keyword argument per input plus ``params``."""
    args = func.args
    wanted = [*inputs, "params"]
    by_name = [a.arg for a in [*args.args, *args.kwonlyargs]]
    faults: list[str] = []
    if args.posonlyargs:
        faults.append(f"its arguments before '/' ({_quoted([a.arg for a in args.posonlyargs])})"
                      " cannot be given by name")
    unknown = [n for n in by_name if n not in wanted]
    if unknown:
        faults.append(f"it takes {_quoted(unknown)}, which {'is' if len(unknown) == 1 else 'are'}"
                      f" not among the input ports ({', '.join(inputs)})")
    missing = [n for n in wanted if n not in by_name]
    if missing and args.kwarg is None:
        faults.append(f"it does not take {_quoted(missing)}")
    if not faults:
        return None
    return (f"line {func.lineno}: 'process' must take {process_shape(inputs)}, one argument "
            f"named after each input port plus params, in any order: {'; '.join(faults)}")


def code_problem(code: str, inputs: Sequence[str] | None = DEFAULT_INPUTS) -> str | None:
    """Say what keeps ``code`` from being a function node's code, or None when it is fine.

    Args:
        code: The node's code.
        inputs: The node's input ports, which ``process`` must take; None when they are not
            known (invalid), and then ``process``'s arguments are not checked.
    """
    try:
        tree = ast.parse(code, CODE_FILE)
    except SyntaxError as exc:
        where = f"line {exc.lineno}, column {exc.offset}" if exc.lineno else "the code"
        text = (exc.text or "").rstrip("\n").strip()
        shown = f": {text}" if text else ""
        return f"syntax error at {where}: {exc.msg}{shown}"
    except ValueError as exc:  # a NUL character
        return f"the code cannot be read: {exc}"
    found = {node.name: node for node in tree.body
             if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    process = found.get("process")
    if process is None:
        shape = process_shape(inputs or DEFAULT_INPUTS)
        return f"the code must define a function 'process{shape}' at the top level"
    for name in ("process", "setup", "end"):
        func = found.get(name)
        if func is None:
            continue
        if isinstance(func, ast.AsyncFunctionDef):
            return f"line {func.lineno}: '{name}' must be a plain function, not 'async def'"
        if name != "process":
            problem = _positional_problem(func, 0, "()", name)
        elif inputs is None:
            problem = None
        elif len(inputs) == 1:
            problem = _positional_problem(func, 2, process_shape(inputs), name)
        else:
            problem = _keyword_problem(func, inputs)
        if problem is not None:
            return problem
    return None
