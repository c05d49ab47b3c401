"""``omnibus identity unmerge`` and what ``identity split`` says it moves (tester20 F3), in process: the plan from
the topics' records, the refusals, and the commands with their topic reads and publish replaced."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from bus.identifiers.masking import tag
from bus.serde import Event
from processors.identity.graph.messages.commands import SplitCustomer
from processors.identity.unmerge import (
    MergeRecord,
    UnmergeRefused,
    merge_records,
    split_lines,
    split_plan,
    unmerge_plan,
)
from tests.processors.identity.support import HMAC_KEY

USER, EMAIL, PHONE = "USER_ID:u-t20-claire", "EMAIL:claire.t20@example.net", "PHONE:+33612345678"
# The tester's merge: the web customer (cus_b: user id, e-mail) merged into the counter one (cus_a: phone).
OWNERS = {USER: "cus_a", EMAIL: "cus_a", PHONE: "cus_a", "ACCOUNT:C-1": "cus_c"}


def merged_event(survivor: str, merged: str, moved: list[str], rule: str = "manual-merge",
                 operator: str | None = "tester20") -> Event:
    """A ``CustomerMerged`` as ``customer.events.v1`` carries it (the fields the plan reads)."""
    return Event("omnibus.identity.CustomerMerged", {
        "survivor_customer_id": survivor, "merged_customer_id": merged, "operator": operator,
        "moved_identifiers": [{"type": key.split(":")[0], "value": key.split(":", 1)[1]} for key in moved],
        "lineage": {"triggering_event_id": "cmd", "channel": "BACK_OFFICE", "rule": rule}})


MERGES = merge_records([merged_event("cus_a", "cus_b", [USER, EMAIL]),
                        merged_event("cus_a", "cus_b", [USER, EMAIL]),  # a redelivery: one merge
                        Event("omnibus.identity.CustomerSplit", {})])


def test_the_merge_is_read_from_its_announcement() -> None:
    assert MERGES == {"cus_b": MergeRecord("cus_a", "cus_b", (USER, EMAIL), "manual-merge", "tester20")}


def test_an_unmerge_moves_what_the_merged_away_customer_brought_and_follows_later_merges() -> None:
    plan = unmerge_plan("cus_b", MERGES, OWNERS)
    assert (plan.source, plan.moving, plan.staying, plan.gone) == ("cus_a", (USER, EMAIL), (PHONE,), ())
    # cus_a merged into cus_0 since, and the e-mail was split off meanwhile: the rest moves, the e-mail is named.
    merges = {**MERGES, "cus_a": MergeRecord("cus_0", "cus_a", (PHONE,), "co-observed")}
    owners = {USER: "cus_0", EMAIL: "cus_e", PHONE: "cus_0", "ACCOUNT:Z-1": "cus_0"}
    plan = unmerge_plan("cus_b", merges, owners)
    assert (plan.source, plan.moving, plan.gone) == ("cus_0", (USER,), (EMAIL,))
    assert plan.staying == ("ACCOUNT:Z-1", PHONE)


@pytest.mark.parametrize(("customer", "owners", "says"), [
    ("cus_x", OWNERS, "no merge ended customer cus_x"),
    ("cus_a", OWNERS, "cus_a is a survivor: cus_b merged into it"),
    ("cus_b", {**OWNERS, USER: "cus_new", EMAIL: "cus_new"}, "cus_a holds none of the 2 identifiers cus_b brought"),
    ("cus_b", {USER: "cus_a", EMAIL: "cus_a"}, "cus_a holds nothing but what cus_b brought"),
])
def test_an_unmerge_is_refused_with_one_line(customer: str, owners: dict[str, str], says: str) -> None:
    with pytest.raises(UnmergeRefused) as refused:
        unmerge_plan(customer, MERGES, owners)
    assert says in str(refused.value) and "claire" not in str(refused.value)


def test_a_split_that_parts_a_merge_says_what_stays_and_names_the_unmerge() -> None:
    """The tester split the e-mail alone: the output says the user id stays, and how to give cus_b back whole."""
    lines = split_lines(split_plan("cus_a", [EMAIL], OWNERS), MERGES)
    assert lines[0] == "moves to one new customer: EMAIL:c***@example.net"
    assert lines[1] == "stays with cus_a: PHONE:+33*****5678, USER_ID:u-t2…"
    assert "came through them alone" in lines[2]
    assert "merge of cus_b into cus_a (rule manual-merge, by tester20) brought USER_ID:u-t2… too" in lines[3]
    assert "`omnibus identity unmerge cus_b`" in lines[3]
    # Both of what the merge brought: nothing parted, no note.
    assert not [line for line in split_lines(split_plan("cus_a", [EMAIL, USER], OWNERS), MERGES) if "note" in line]


def test_no_identifier_value_reaches_the_output() -> None:
    text = "\n".join(split_lines(unmerge_plan("cus_b", MERGES, OWNERS), MERGES))
    assert "claire.t20" not in text and "u-t20-claire" not in text and "12345678" not in text


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """The commands' topic reads answered from ``OWNERS`` and ``MERGES``'s event; what they publish, collected."""
    import processors.identity.cli_common as cli_common
    import processors.identity.cli_unmerge as cli_unmerge
    import processors.identity.split_cli as split_cli

    sent: list[tuple[str, Any]] = []

    async def read(settings: object) -> tuple[dict[str, str], list[Event]]:
        return dict(OWNERS), [merged_event("cus_a", "cus_b", [USER, EMAIL])]

    async def publish(settings: object, customer: str, message: Any) -> None:
        sent.append((customer, message))

    monkeypatch.setattr(cli_unmerge, "read_owners_and_customer_events", read)
    monkeypatch.setattr(split_cli, "read_owners_and_customer_events", read)
    monkeypatch.setattr(split_cli, "_publish", publish)
    monkeypatch.setattr(cli_common, "_publish", publish)
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", HMAC_KEY)
    return sent


def test_the_unmerge_command_sends_one_split_of_both_and_records_who_why_and_which_merge(
        published: list[tuple[str, Any]]) -> None:
    result = CliRunner().invoke(omnibus, ["identity", "unmerge", "cus_b", "--by", "ops-7", "--reason", "two people"])
    assert result.exit_code == 0, result.output
    ((customer, message),) = published
    assert customer == "cus_a" and isinstance(message, SplitCustomer)
    assert (message.ids, message.operator) == ([USER, EMAIL], "ops-7")
    assert message.reason == "undoes the merge of cus_b into cus_a (rule manual-merge, by tester20): two people"
    tags = {key: tag(HMAC_KEY.encode(), *key.split(":")) for key in (USER, EMAIL)}  # identity's key's (tester28 F10)
    assert f"moves to one new customer: USER_ID:u-t2…~{tags[USER]}, EMAIL:c***@example.net~{tags[EMAIL]}" in \
        result.output
    assert "stays with cus_a: PHONE:+33*****5678" in result.output and "claire.t20" not in result.output


def test_the_unmerge_command_refuses_a_survivor_id_before_publishing(published: list[tuple[str, Any]]) -> None:
    result = CliRunner().invoke(omnibus, ["identity", "unmerge", "cus_a", "--by", "ops-7", "--reason", "two people"])
    assert result.exit_code == 2 and "cus_b merged into it" in result.output and not published, result.output


def test_the_split_command_says_what_moves_what_stays_and_the_merge_it_parts(published: list[tuple[str, Any]]) -> None:
    result = CliRunner().invoke(omnibus, ["identity", "split", "--customer", "cus_a", "--identifier",
                                          "EMAIL:Claire.T20@example.net", "--by", "ops-7", "--reason", "not her"])
    assert result.exit_code == 0, result.output
    ((customer, message),) = published
    assert (customer, message.ids, message.reason) == ("cus_a", [EMAIL], "not her")
    assert "stays with cus_a: PHONE:+33*****5678, USER_ID:u-t2…" in result.output
    assert "omnibus identity unmerge cus_b" in result.output and "claire.t20" not in result.output.lower()
