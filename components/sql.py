"""The ``sql`` family: read a query's rows from a database and write rows to a table."""

from __future__ import annotations
