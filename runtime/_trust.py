"""The trust rule: a flow that carries code runs only once its user has trusted it.

A flow without code nodes is data, like a kept run or a model file: it runs as it is. A flow
with a node of a ``runs_code`` component (see ``Registry.code_nodes``) is code, like a
notebook, and is trusted in one of three ways:

- the user saved it in the editor (the editor signs what it saves from a trusted page);
- the user ran ``edgewise trust FLOW`` after reading it;
- the user passed ``--trust`` to run it once.

Trust is kept as SHA-256 digests of the flow document (keys sorted, whitespace ignored) in
``trust.sqlite`` in the user's config folder, as Jupyter keeps notebook signatures: any
change to the flow, by anyone, makes it untrusted again until it is saved or trusted anew.
The folder is ``$EDGEWISE_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/edgewise``, else
``~/.config/edgewise``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from runtime._errors import UntrustedFlowError
from runtime._registry import Registry

DB_NAME = "trust.sqlite"


def config_dir() -> Path:
    """The user's Edgewise config folder (it need not exist yet)."""
    explicit = os.environ.get("EDGEWISE_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "edgewise"


def digest(doc: Any) -> str:
    """The digest that trust is kept under: SHA-256 of the document with sorted keys."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def code_nodes(doc: Any, registry: Registry) -> list[tuple[str, str]]:
    """The ``(node id, component id)`` of every node of a flow document that runs code."""
    nodes = doc.get("nodes") if isinstance(doc, dict) else None
    pairs = [(str(n.get("id")), str(n.get("component"))) for n in nodes or []
             if isinstance(n, dict)]
    return registry.code_nodes(pairs)


class TrustStore:
    """The digests of the flows this user trusts."""

    def __init__(self, folder: Path | None = None) -> None:
        self.path = (folder or config_dir()) / DB_NAME

    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        if not create and not self.path.is_file():
            return None
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("CREATE TABLE IF NOT EXISTS trusted (digest TEXT PRIMARY KEY, "
                   "flow TEXT, trusted_at TEXT NOT NULL)")
        return db

    def is_trusted(self, doc: Any) -> bool:
        """Whether exactly this flow document was trusted."""
        try:
            db = self._connect(create=False)
            if db is None:
                return False
            with db:
                row = db.execute("SELECT 1 FROM trusted WHERE digest = ?",
                                 (digest(doc),)).fetchone()
            db.close()
        except sqlite3.Error:
            return False  # a damaged store trusts nothing; `trust` says what is wrong
        return row is not None

    def trust(self, doc: Any, flow: str | Path | None = None) -> str:
        """Trust this flow document from now on; returns its digest.

        Raises:
            OSError: the config folder cannot be written.
            sqlite3.Error: the trust store is damaged.
        """
        key = digest(doc)
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        db = self._connect(create=True)
        assert db is not None  # noqa: S101 - create=True always connects
        with db:
            db.execute("INSERT OR REPLACE INTO trusted (digest, flow, trusted_at) "
                       "VALUES (?, ?, ?)", (key, str(flow) if flow else None, now))
        db.close()
        return key

    def revoke(self, doc: Any) -> bool:
        """Stop trusting this flow document; returns whether it was trusted."""
        db = self._connect(create=False)
        if db is None:
            return False
        with db:
            gone = db.execute("DELETE FROM trusted WHERE digest = ?", (digest(doc),)).rowcount
        db.close()
        return bool(gone)


def require_trust(doc: Any, registry: Registry, flow: str, *, trusted: bool = False,
                  store: TrustStore | None = None, is_file: bool = True) -> None:
    """Refuse a flow that holds code unless it is trusted.

    Raises:
        UntrustedFlowError: it holds code, ``trusted`` is false, and the store does not
            know it; the error lists every code node.
    """
    found = code_nodes(doc, registry)
    if not found or trusted or (store or TrustStore()).is_trusted(doc):
        return
    raise UntrustedFlowError(flow, found, is_file=is_file)
