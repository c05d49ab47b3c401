"""A schema registry of a test's own, to stop and start again mid-test (the session's shared one stays up)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus.stack.registry import RegistryUnavailable, SchemaRegistryServer


def stoppable_registry(directory: Path) -> SchemaRegistryServer:
    """A started Apicurio with its data kept: started again, it comes back on the port of its first start, where its
    clients look, with its schemas under the same ids; the test stops it (``stop``) in a ``finally``. Skips the test
    when no registry can run on this machine (``RegistryUnavailable``)."""
    registry = SchemaRegistryServer(directory, keep_data=True)
    try:
        registry.start()
    except RegistryUnavailable as exc:
        pytest.skip(f"schema registry unavailable on this machine: {exc}")
    return registry
