"""A metrics port some other process already holds, for the commands that must say so in one line or not need it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def metrics_port_taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Bind and listen on a free 127.0.0.1 port for the block, with ``OMNIBUS_METRICS__*`` pointing at it (metrics
    enabled); yields the port as text."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = str(held.getsockname()[1])
        monkeypatch.setenv("OMNIBUS_METRICS__ENABLED", "true")
        monkeypatch.setenv("OMNIBUS_METRICS__HOST", "127.0.0.1")
        monkeypatch.setenv("OMNIBUS_METRICS__PORT", port)
        yield port
