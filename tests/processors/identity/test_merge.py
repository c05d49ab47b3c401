"""``omnibus identity merge``: what it refuses before publishing, and which identifiers its saga looks up."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner, Result

from bus.serde import Event
from omnibus.cli import app as omnibus
from processors.identity.cli_common import current_customers
from processors.identity.config import DEFAULT_MAX_PER_CUSTOMER
from processors.identity.graph.messages.steps import Link
from processors.identity.merge import MergeRefused, merge_plan, merge_send
from processors.identity.rules import MANUAL_MERGE, LinkPolicy
from tests.processors.identity.support import settings

POLICY = LinkPolicy(settings())
OWNERS = {"ACCOUNT:A-1": "cus_a", "EMAIL:ann@x.org": "cus_a", "NATIONAL_ID:t-ann": "cus_a",
          "EMAIL:ann@y.org": "cus_b", "NATIONAL_ID:t-bob": "cus_c", "ACCOUNT:C-1": "cus_c"}


def test_a_merge_looks_up_each_customers_highest_priority_identifier_and_follows_merges() -> None:
    assert merge_plan("cus_a", "cus_b", OWNERS, {}, POLICY) == ("cus_a", "cus_b", ["NATIONAL_ID:t-ann",
                                                                                  "EMAIL:ann@y.org"])
    # cus_old merged into cus_b before: the merge names the customer it is now.
    assert merge_plan("cus_old", "cus_a", OWNERS, {"cus_old": "cus_b"}, POLICY)[:2] == ("cus_b", "cus_a")


@pytest.mark.parametrize(("first", "second", "says"), [
    ("cus_nobody", "cus_a", "no current customer cus_nobody on customer.events.v1"),
    ("cus_old", "cus_a", "cus_old (merged into cus_gone)"),
    ("cus_b", "cus_old_b", "one customer already (cus_b)"),
    ("cus_a", "cus_c", "two different NATIONAL_ID identifiers"),
])
def test_a_merge_is_refused_with_one_clear_line(first: str, second: str, says: str) -> None:
    survivors = {"cus_old": "cus_gone", "cus_old_b": "cus_b"}
    with pytest.raises(MergeRefused) as refused:
        merge_plan(first, second, OWNERS, survivors, POLICY)
    assert says in str(refused.value) and "@" not in str(refused.value) and "t-ann" not in str(refused.value)


def test_a_customer_left_without_identifiers_is_merged_by_id_and_two_national_ids_point_to_release_first() -> None:
    """tester21 F8: the merge's advice (release the wrong NATIONAL_ID) led to a refusal of the customer it left
    without identifiers; it is a current customer of ``customer.events.v1`` and the two are linked by id."""
    with pytest.raises(MergeRefused) as refused:
        merge_plan("cus_a", "cus_c", OWNERS, {}, POLICY)
    assert "release it (omnibus identity release NATIONAL_ID" in str(refused.value)
    assert "then omnibus identity merge cus_a cus_c" in str(refused.value)
    released = {key: owner for key, owner in OWNERS.items() if owner != "cus_c"}
    assert merge_plan("cus_a", "cus_c", released, {}, POLICY, current={"cus_a", "cus_b", "cus_c"}) == (
        "cus_a", "cus_c", [])
    send = merge_send("cmd-1", "cus_c", "cus_a", [], "ops-3", "clerk mistyped")
    assert send.node == "cus_c" and isinstance(send.message, Link) and send.message.other == "cus_a"
    assert (send.message.saga.rule, send.message.saga.force, send.message.saga.operator) == (
        MANUAL_MERGE, True, "ops-3")


def test_the_current_customers_are_those_created_or_split_off_that_no_merge_ended() -> None:
    def event(kind: str, **value: object) -> Event:
        lineage = {"triggering_event_id": "e", "channel": "WEB", "rule": "co-observed"}
        return Event(f"omnibus.identity.{kind}", {"lineage": lineage, **value})

    events = [event("CustomerCreated", customer_id="cus_a", identifiers=[]),
              event("CustomerCreated", customer_id="cus_b", identifiers=[]),
              event("CustomerCreated", customer_id="cus_c", identifiers=[]),
              event("CustomerMerged", survivor_customer_id="cus_a", merged_customer_id="cus_b"),
              event("CustomerSplit", source_customer_id="cus_a", new_customer_id="cus_d", moved_identifiers=[])]
    assert current_customers({"EMAIL:e@x.org": "cus_e"}, events) == {"cus_a", "cus_c", "cus_d", "cus_e"}


@pytest.mark.parametrize(("args", "says"), [
    (["cus_a", "cus_b", "--reason", "one person"], "Missing option '--by'"),
    (["cus_a", "cus_b", "--by", "ops-3", "--reason", " "], "--reason must not be empty"),
    (["cus_a", "--by", "ops-3", "--reason", "one person"], "Missing argument"),
])
def test_merge_refuses_without_two_customers_who_and_why_before_reading_any_topic(args: list[str],
                                                                                  says: str) -> None:
    result = CliRunner().invoke(omnibus, ["identity", "merge", *args])
    assert result.exit_code == 2 and says in result.output, result.output


LIMITED = sorted(DEFAULT_MAX_PER_CUSTOMER.items())


def _over(kind: str, limit: int) -> dict[str, str]:
    """Owners: cus_a holds ``limit`` identifiers of ``kind`` (``secret-...`` values), cus_b one more: together one
    over the limit, each alone within it."""
    owners = {f"{kind}:secret-a-{index}": "cus_a" for index in range(limit)}
    return {**owners, f"{kind}:secret-b": "cus_b", "ACCOUNT:A-1" if kind != "ACCOUNT" else "EMAIL:a@x.org": "cus_a"}


def _refused_as_operators_should_be(result: Result, kind: str) -> None:
    """Exit 2, one error naming the type and the setting, never a value."""
    assert result.exit_code == 2, (result.output, result.exception)
    assert f" {kind} identifiers" in result.output and "OMNIBUS_PROCESSOR_IDENTITY__MAX_PER_CUSTOMER" in result.output
    assert "secret" not in result.output and "A-1" not in result.output and "@" not in result.output


@pytest.mark.parametrize(("kind", "limit"), LIMITED)
def test_identity_merge_refuses_two_customers_over_a_limit_of_any_type(monkeypatch: pytest.MonkeyPatch, kind: str,
                                                                       limit: int) -> None:
    """tester26 F9: `identity merge` refused two customer numbers but merged two portal logins (USER_ID, limit 1);
    every limited type is refused alike, before anything is published."""
    from processors.identity import merge_cli

    sent: list[object] = []

    async def owners_read(_settings: object) -> tuple[dict, dict, set]:
        return _over(kind, limit), {}, {"cus_a", "cus_b"}

    async def publish(_settings: object, node: str, message: object) -> None:
        sent.append(message)

    monkeypatch.setattr(merge_cli, "_settings_or_exit", lambda: (None, settings()))
    monkeypatch.setattr(merge_cli, "_owners_survivors_and_current", owners_read)
    monkeypatch.setattr(merge_cli, "_publish", publish)
    result = CliRunner().invoke(omnibus, ["identity", "merge", "cus_a", "cus_b", "--by", "ops-1", "--reason", "same"])
    _refused_as_operators_should_be(result, kind)
    assert not sent


@pytest.mark.parametrize(("kind", "limit"), LIMITED)
def test_identity_review_accept_refuses_two_customers_over_a_limit_of_any_type(monkeypatch: pytest.MonkeyPatch,
                                                                               kind: str, limit: int) -> None:
    """tester26 F9, the review's side: `identity review accept` refuses what `identity merge` refuses."""
    from processors.identity import review_cli
    from processors.identity.review import REQUESTED

    requested = Event(REQUESTED, {
        "review_id": "rev-1", "customer_id": "cus_a", "other_customer_id": "cus_b", "match_weight": 3.0,
        "identifiers": [{"type": kind, "value": "secret-a-0"}, {"type": kind, "value": "secret-b"}],
        "comparison_levels": {}})

    async def review_events(_settings: object) -> tuple[list[Event], dict[str, str]]:
        return [requested], {}

    async def owners_read(_settings: object) -> dict[str, str]:
        return _over(kind, limit)

    monkeypatch.setattr(review_cli, "_settings_or_exit", lambda: (None, settings()))
    monkeypatch.setattr(review_cli, "_review_events", review_events)
    monkeypatch.setattr(review_cli, "_current_owners", owners_read)
    result = CliRunner().invoke(omnibus, ["identity", "review", "accept", "rev-1", "--by", "ops-1", "--reason", "same"])
    _refused_as_operators_should_be(result, kind)
    assert "omnibus identity review reject rev-1" in result.output


@pytest.mark.parametrize(("kind", "limit"), LIMITED)
def test_a_merge_within_every_limit_is_planned(kind: str, limit: int) -> None:
    """One fewer than ``_over``: the two fit, and the merge goes ahead."""
    owners = _over(kind, limit)
    del owners[f"{kind}:secret-a-0"]
    assert merge_plan("cus_a", "cus_b", owners, {}, POLICY)[:2] == ("cus_a", "cus_b")


def test_a_customer_over_a_since_lowered_limit_keeps_what_it_has_but_gains_no_more() -> None:
    lowered = LinkPolicy(settings(max_per_customer={"PHONE": 1}))
    owners = {"PHONE:+33600000001": "cus_a", "PHONE:+33600000002": "cus_a", "EMAIL:b@x.org": "cus_b"}
    assert merge_plan("cus_a", "cus_b", owners, {}, lowered)[:2] == ("cus_a", "cus_b")
    with pytest.raises(MergeRefused, match="two different PHONE identifiers"):
        merge_plan("cus_a", "cus_b", {**owners, "PHONE:+33600000003": "cus_b"}, {}, lowered)
