"""The ``parquet`` family: read a Parquet file whole or in batches, and write one."""

from __future__ import annotations
