"""The ``model`` family: save fitted models as skops files and load them back safely."""

from __future__ import annotations
