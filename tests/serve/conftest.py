"""Fixtures shared by the serving tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.serve.test_serve_command import Serving


@pytest.fixture
def servers() -> Iterator[list[Serving]]:
    """The ``edgewise serve`` processes a test started; killed when it ends."""
    started: list[Serving] = []
    yield started
    for server in started:
        server.kill()
