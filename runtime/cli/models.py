"""The ``models`` command: list registered models, show one, move an alias, read the alias log."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from rich.table import Table

from runtime._errors import UsageError
from runtime._models import ModelRegistry, ModelVersion, registry_root
from runtime._terminal import plain
from runtime.cli.common import out, safe
from runtime.cli.exits import EXIT_OK

ACTIONS = {"list": (), "show": ("NAME",), "alias": ("NAME", "ALIAS", "VERSION"),
           "log": ("NAME",)}


def workspace_of(args: argparse.Namespace) -> Path:
    """The workspace whose registry to use: --workspace, else ``.`` or ``./flows``."""
    if args.workspace:
        return Path(args.workspace)
    here = Path(".")
    if not registry_root(here).is_dir() and registry_root(here / "flows").is_dir():
        return here / "flows"
    return here


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return os.environ.get("USER") or "unknown"


def _words(args: argparse.Namespace) -> list[str]:
    words: list[str] = list(args.words)
    wanted = ACTIONS[args.action]
    if len(words) != len(wanted):
        usage = " ".join(["edgewise models", args.action, *wanted])
        given = f"got {len(words)}: {' '.join(words)}" if words else "got none"
        msg = f"'models {args.action}' takes {len(wanted) or 'no'} argument(s) ({usage}); {given}"
        raise UsageError(msg)
    if args.why is not None and args.action != "alias":
        msg = "--why is for 'models alias' only"
        raise UsageError(msg)
    return words


def cmd_models(args: argparse.Namespace) -> int:
    """List registered models, show one, move an alias or print its log."""
    words = _words(args)
    registry = ModelRegistry(registry_root(workspace_of(args)))
    if args.action == "list":
        return _list(registry, args.json)
    if args.action == "show":
        return _show(registry, words[0], args.json)
    if args.action == "log":
        return _log(registry, words[0], args.json)
    return _alias(registry, words, args)


def _aliases_of(aliases: dict[str, int]) -> dict[int, list[str]]:
    pointing: dict[int, list[str]] = {}
    for alias, version in sorted(aliases.items()):
        pointing.setdefault(version, []).append(alias)
    return pointing


def _list(registry: ModelRegistry, as_json: bool) -> int:
    rows: list[dict[str, Any]] = []
    for name in registry.names():
        versions = registry.versions(name)
        rows.append({"name": name, "versions": [v.version for v in versions],
                     "latest": versions[-1].version if versions else None,
                     "created": versions[-1].created if versions else None,
                     "aliases": registry.aliases(name)})
    if as_json:
        print(json.dumps(rows))
        return EXIT_OK
    if not rows:
        print(plain(f"no registered models in {registry.root}"))
        return EXIT_OK
    table = Table(box=None)
    for col in ("name", "versions", "latest", "aliases", "latest created"):
        table.add_column(col, no_wrap=True)
    for r in rows:
        aliases = ", ".join(f"{a}={v}" for a, v in sorted(r["aliases"].items()))
        table.add_row(safe(r["name"]), str(len(r["versions"])), str(r["latest"] or ""),
                      safe(aliases), safe(str(r["created"] or "")[:19]))
    out().print(table)
    return EXIT_OK


def _metrics_text(version: ModelVersion) -> str:
    shown = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
             for k, v in version.metrics.items() if k != "name"]
    return ", ".join(shown)


def _trained_on(version: ModelVersion) -> str:
    source = version.source or {}
    if source.get("run") and source.get("node") and source.get("message") is not None:
        return (f"edgewise trained-on {source['run']} {source['node']}.{source['port']} "
                f"--id {source['message']}")
    return ""


def _show(registry: ModelRegistry, name: str, as_json: bool) -> int:
    versions = registry.versions(name)
    aliases = registry.aliases(name)
    damage = registry.log_damage(name)
    if as_json:
        print(json.dumps({"name": name, "aliases": aliases,
                          "versions": [v.to_json() for v in versions],
                          "log_damage": damage}))
        return EXIT_OK
    console = out()
    pointing = _aliases_of(aliases)
    console.print(f"[bold]{safe(name)}[/] in {safe(registry.root)}: {len(versions)} "
                  f"version(s); aliases: "
                  f"{safe(', '.join(f'{a}={v}' for a, v in sorted(aliases.items())) or 'none')}")
    table = Table(box=None)
    for col in ("version", "aliases", "created", "estimator", "metrics", "run", "message"):
        table.add_column(col, no_wrap=col not in ("metrics",))
    for v in versions:
        source = v.source or {}
        table.add_row(str(v.version), safe(", ".join(pointing.get(v.version, []))),
                      safe(v.created[:19]), safe(v.estimator.rsplit(".", 1)[-1]) if not
                      v.damage else "[red]damaged[/]", safe(_metrics_text(v)),
                      safe(source.get("run") or ""), safe(source.get("message") or ""))
    console.print(table)
    for v in versions:
        if v.damage:
            console.print(safe(f"version {v.version}: {v.damage}"))
        elif hint := _trained_on(v):
            console.print(safe(f"version {v.version} was trained on: see `{hint}`"))
    for line in damage:
        print(plain(f"edgewise models: {line}"), file=sys.stderr)
    return EXIT_OK


def _log(registry: ModelRegistry, name: str, as_json: bool) -> int:
    moves = registry.log(name)
    damage = registry.log_damage(name)
    if as_json:
        print(json.dumps({"name": name, "moves": [m.to_json() for m in moves],
                          "damage": damage}))
        return EXIT_OK
    if not moves:
        print(plain(f"no alias of '{name}' has been set yet"))
    else:
        table = Table(box=None)
        for col in ("time", "alias", "from", "to", "by", "why"):
            table.add_column(col, no_wrap=col != "why")
        for m in moves:
            table.add_row(safe(m.time[:19]), safe(m.alias),
                          "" if m.from_version is None else str(m.from_version),
                          str(m.to_version), safe(m.by), safe(m.why))
        out().print(table)
    for line in damage:
        print(plain(f"edgewise models: {line}"), file=sys.stderr)
    return EXIT_OK


def _alias(registry: ModelRegistry, words: list[str], args: argparse.Namespace) -> int:
    name, alias, number = words
    if not number.isdigit() or int(number) < 1:
        msg = f"VERSION must be a version number such as 3, not '{plain(number)}'"
        raise UsageError(msg)
    move = registry.set_alias(name, alias, int(number), by=f"cli:{_login()}",
                              why=args.why or "")
    if args.json:
        print(json.dumps(move.to_json()))
        return EXIT_OK
    before = "nowhere" if move.from_version is None else f"version {move.from_version}"
    print(plain(f"{alias} of '{name}' moved from {before} to version {move.to_version} "
                f"(by {move.by})"))
    return EXIT_OK
