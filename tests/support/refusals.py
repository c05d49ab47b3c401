"""What a test needs to see the 401s a component counted and logged (``bus.refused_credentials``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from bus import refused_credentials
from bus.logging import get_logger


def refused_total(component: str, reason: str) -> float:
    """``omnibus_requests_unauthorized_total`` of ``component`` and ``reason`` now (0 before the first)."""
    labels = {"component": component, "reason": reason}
    return REGISTRY.get_sample_value("omnibus_requests_unauthorized_total", labels) or 0.0


@contextmanager
def refusal_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The refusal log lines written inside the block, each component's log window fresh (so its first refusal of
    a reason is logged whatever earlier tests refused)."""
    monkeypatch.setattr(refused_credentials, "_LOGS", {})
    monkeypatch.setattr(refused_credentials, "log", get_logger(refused_credentials.__name__))  # bound inside
    with capture_logs() as lines:
        yield lines
