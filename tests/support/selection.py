"""What else the test session runs: a fast test whose proof a selected slow test repeats at scale steps aside."""

from __future__ import annotations

from typing import Any

import pytest


def skip_if_session_runs(request: pytest.FixtureRequest, test: str, **params: Any) -> None:
    """Skip the calling test when this session also runs ``test`` (a function name of the same module) with
    ``params``: the slow variant of the same fuzzer and checks with many more cases, so the fast one proves
    nothing more there. CI runs both (``slow`` included); ``-m "not slow"`` keeps the fast one."""
    module = request.node.module
    for item in request.session.items:
        if getattr(item, "originalname", None) != test or getattr(item, "module", None) is not module:
            continue
        given = getattr(getattr(item, "callspec", None), "params", {})
        if all(given.get(name) == value for name, value in params.items()):
            pytest.skip(f"{item.name} runs in this session: the same checks with more cases")
