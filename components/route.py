"""The ``frame.route`` switch: each row goes to the first route it matches, or to ``otherwise``."""

from __future__ import annotations
