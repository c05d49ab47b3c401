"""Fixtures of the local stack's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.ports import stack_port_options


@pytest.fixture
def stack_ports() -> Iterator[list[str]]:
    """``omnibus stack up``'s port options for the test: ports held for the whole test (``stack_port_options``), never
    the fixed defaults another test's or the developer's own stack may hold."""
    with stack_port_options() as options:
        yield options
