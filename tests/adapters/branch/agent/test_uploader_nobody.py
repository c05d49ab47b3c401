"""A case the adapter opened that names no identifier of the customer (``handoffs_naming_nobody`` in its 2xx answer):
the agent tells the clerk, as it does of a handoff the adapter left off (``dropped_handoffs``), and ``counter-agent
status`` lists it. Before, only software reading the adapter's answer itself saw it: the agent dropped the list. And a
follow-up the adapter left off (``dropped_follow_ups``), which the agent called a handoff."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from adapters.base.handoff_request import NAMES_NOBODY
from adapters.branch.agent.cli import app
from adapters.branch.agent.journal import Journal
from tests.adapters.branch.agent.test_journal import ticket
from tests.adapters.branch.agent.test_uploader import StandInAdapter, adapter, journal, warned

__all__ = ["adapter", "journal"]  # the fixtures this module's tests use

CASE = "counter:CT-0142-03:TX-CT-0142-03-000981"


async def test_a_case_naming_nobody_is_told_to_the_clerk_and_kept_for_status(
    adapter: tuple[StandInAdapter, str], journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    (a,) = journal.append_many([ticket("A1")])
    answer = {"success": True, "accepted": 1, "duplicates": 0,
              "handoffs_naming_nobody": [{"index": 0, "event_id": a, "handoff_id": CASE, "reason": NAMES_NOBODY}]}
    ((event, fields),) = await warned(journal, adapter, answer, monkeypatch)
    assert "name no phone, e-mail or account" in event and fields == {"cases": [{"event_id": a, "handoff_id": CASE}]}
    expected = [{"event_id": a, "part": "handoff_naming_nobody", "handoff_id": CASE}]
    assert journal.left_off() == expected
    status = json.loads(CliRunner().invoke(app, ["status", "--journal", str(journal.path)]).stdout)
    assert status["left_off"] == {"count": 1, "parts": expected}


async def test_a_follow_up_left_off_is_kept_for_status_as_a_follow_up(
    adapter: tuple[StandInAdapter, str], journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction's follow-up without the case's ``handoff_id`` is listed by the adapter in ``dropped_follow_ups``
    (it was listed with the handoffs, and ``status`` called it a ``handoff``)."""
    (a,) = journal.append_many([ticket("A1")])
    answer = {"success": True, "accepted": 1, "duplicates": 0, "dropped_follow_ups": [
        {"index": 0, "event_id": a, "code": "bad_field", "reason": "'transaction.follow_up.handoff_id' is required"}]}
    ((event, _),) = await warned(journal, adapter, answer, monkeypatch)
    assert "follow-up" in event and "handoff they asked for" not in event
    assert journal.left_off() == [{"event_id": a, "part": "follow_up", "code": "bad_field"}]
