"""The ``python`` family: the function node, running the user's own Python code on each message."""

from __future__ import annotations
