"""More of the ``frame`` family: assign, join, group-by, sort, missing values, dummies, rename."""

from __future__ import annotations
