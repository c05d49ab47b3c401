"""``omnibus identity release`` of a customer that does not hold the identifier (tester24 F13): sent, not refused.

The topics are not read here: the current owners (``customer.identifiers.v1``) and the publish are stubbed; what the
graph does with the command is ``graph/test_release_users.py``'s."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from processors.identity import release_cli
from processors.identity.graph.messages.commands import ReleaseIdentifier
from tests.processors.identity.support import HMAC_KEY

SOPHIE, CLAIRE = "cus_661a545ecfdda3b811d474f4", "cus_661a545ecfdda3b811d4ca15"
MOBILE = "PHONE:+33622334455"


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    sent: list[tuple[str, Any]] = []

    async def owners(_settings: object) -> dict[str, str]:
        return {MOBILE: SOPHIE, "CUSTOMER_NUMBER:C-770006": CLAIRE}

    async def publish(_settings: object, customer: str, message: object) -> None:
        sent.append((customer, message))

    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", HMAC_KEY)
    monkeypatch.setattr(release_cli, "_current_owners", owners)
    monkeypatch.setattr(release_cli, "_publish", publish)
    return sent


def release(customer: str) -> Any:
    return CliRunner().invoke(omnibus, ["identity", "release", "PHONE", "06 22 33 44 55", "--customer", customer,
                                        "--by", "ops-tester", "--reason", "keypad typo", "--region", "FR"])


def test_f13_a_release_from_a_customer_that_does_not_hold_it_is_sent(published: list[tuple[str, Any]]) -> None:
    result = release(CLAIRE)
    assert result.exit_code == 0, result.output
    assert "does not hold" in result.output and "not evicted" in result.output
    assert "22 33" not in result.output and "0622334455" not in result.output  # the value is never echoed
    ((customer, message),) = published
    assert customer == CLAIRE and isinstance(message, ReleaseIdentifier)
    assert (message.identifier, message.operator, message.reason) == (MOBILE, "ops-tester", "keypad typo")


def test_the_holders_release_says_it_evicts(published: list[tuple[str, Any]]) -> None:
    result = release(SOPHIE)
    assert result.exit_code == 0 and "(rule manual-release, evicted)" in result.output, result.output
    assert [customer for customer, _ in published] == [SOPHIE]


def test_an_unknown_customer_is_still_refused(published: list[tuple[str, Any]]) -> None:
    result = release("cus_000000000000000000000000")
    assert result.exit_code == 2 and "no current customer" in result.output, result.output
    assert published == []


def test_tester27_f7_the_answer_names_the_kind_with_its_label_and_article(
    published: list[tuple[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``release of a ACCOUNT identifier``: the kind's label, with the article it takes."""
    async def owners(_settings: object) -> dict[str, str]:
        return {"ACCOUNT:ACC-100234": SOPHIE}

    monkeypatch.setattr(release_cli, "_current_owners", owners)
    result = CliRunner().invoke(omnibus, ["identity", "release", "ACCOUNT", "ACC-100234", "--customer", SOPHIE,
                                          "--by", "ops-tester", "--reason", "wrong holder"])
    assert result.exit_code == 0, result.output
    assert "release of an account number (ACCOUNT) from" in result.output and "a ACCOUNT" not in result.output
