"""The ``ml`` family's evaluations: cross-validation, hyper-parameter search, Test and Score."""

from __future__ import annotations
