"""Two identifiers with the same mask are told apart on the screen pop (tester12: two accounts FR7610001001 and
FR7620001001 both showed as ``****1001``)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bus.dead_letter import dead_letter_event
from bus.errors import RawRecord
from bus.identifiers.masking import mask, mask_keys
from bus.serde import Event, SingleObjectDeserializer
from processors.deadletters import DeadLetter, original
from processors.identity.normalize import Identifier
from processors.identity.review_sides import Side, masked_labels
from processors.identity.web import masked_values
from processors.profile.sections.products import ProductsSection
from processors.replay import Replayed
from processors.replay.read_cli import line
from processors.verify.report import shown as shown_in_report
from schemas.catalog import default_catalog
from tests.processors.identity.support import account_opened
from tests.processors.identity.test_openapi import MemoryScreenPop

FIRST, SECOND, PHONE = "ACCOUNT:FR7610001001", "ACCOUNT:FR7620001001", "PHONE:+33612340003"
OTHER_PHONE = "PHONE:+33698760003"


def test_values_with_one_mask_are_numbered_in_key_order_and_others_left_alone() -> None:
    assert masked_values([SECOND, FIRST, PHONE, FIRST]) == {
        FIRST: "FR****1001 (1)", SECOND: "FR****1001 (2)", PHONE: "+33*****0003"}


async def test_the_screen_pop_tells_two_accounts_ending_alike_apart_in_identifiers_and_hints() -> None:
    screen_pop = MemoryScreenPop({
        "cus_a": {"node": {"created": True, "members": {FIRST: 1, SECOND: 1, PHONE: 1},
                           "elsewhere": [OTHER_PHONE]}, "profile": None},
        "cus_b": {"node": {"created": True, "members": {OTHER_PHONE: 1}}, "profile": None},
        FIRST: {"node": {"owner": "cus_a"}, "people": 1},
        SECOND: {"node": {"owner": "cus_a", "kept_apart": ["cus_b"]}, "people": 2},
        PHONE: {"node": {"owner": "cus_a", "kept_apart": ["cus_b"]}, "people": 2},
        OTHER_PHONE: {"node": {"owner": "cus_b", "kept_apart": ["cus_a"]}, "people": 2},
    })
    answer = await screen_pop.lookup(Identifier.from_key(SECOND))
    assert answer is not None
    shown = [identifier["value"] for identifier in answer["identifiers"]]
    assert shown == ["FR****1001 (1)", "FR****1001 (2)", "+33*****0003 (1)"]
    assert answer["shared_identifier"]["value"] == "FR****1001 (2)"
    hints = {hint["value"] for hint in answer["shared_identifiers"]}
    assert hints == {"+33*****0003 (1)", "+33*****0003 (2)"}  # the housemate's phone ends alike too


# tester28 F10: five contracts of one billing system, EA-00200001 ... EA-00700001, all showed as ``EA-****0001``.
CONTRACTS = [f"ACCOUNT:EA-00{n}00001" for n in (2, 3, 4, 5, 7)]
KEY_VARIABLES = ("OMNIBUS_IDENTIFIERS__MASK_KEY", "OMNIBUS_IDENTIFIERS__HMAC_KEY", "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY")


@pytest.fixture
def mask_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in KEY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__HMAC_KEY", "deployment-token-key-0123")  # no MASK_KEY: the token key's


def contracts_pop() -> MemoryScreenPop:
    """A customer holding the five contracts; another customer is kept apart on the second one (a joint account)."""
    nodes: dict[str, dict[str, Any]] = {
        "cus_a": {"node": {"created": True, "members": dict.fromkeys(CONTRACTS, 1)}, "profile": None},
        "cus_b": {"node": {"created": True, "members": {}}, "profile": None}}
    nodes.update({key: {"node": {"owner": "cus_a"}, "people": 1} for key in CONTRACTS})
    nodes[CONTRACTS[1]] = {"node": {"owner": "cus_a", "kept_apart": ["cus_b"]}, "people": 2}
    return MemoryScreenPop(nodes)


async def test_tester28_f10_the_screen_pop_shows_five_contracts_ending_alike_as_five(mask_key: None) -> None:
    answer = await contracts_pop().lookup(Identifier.from_key(CONTRACTS[1]))
    assert answer is not None
    shown = [identifier["value"] for identifier in answer["identifiers"]]
    assert len(set(shown)) == 5 and all(re.fullmatch(r"EA-\*{4}0001~[A-Z2-7]{3}", value) for value in shown), shown
    assert answer["shared_identifier"]["value"] == mask("ACCOUNT", "EA-00300001") == shown[1]


def test_one_contract_has_one_mask_in_the_pop_the_review_list_topics_read_dead_letters_and_splits(
        mask_key: None) -> None:
    """The same tag wherever the same value is masked, and none of the contract's hidden digits."""
    contract = CONTRACTS[1]
    expected = mask("ACCOUNT", "EA-00300001")
    assert masked_values(CONTRACTS)[contract] == expected  # the screen pop and `identity pop`
    sides = {"cus_a": Side("cus_a", set(CONTRACTS), {"e1"}, ["BRANCH"])}
    assert masked_labels((contract,), sides, ("cus_a",))[contract] == f"ACCOUNT:{expected}"  # `identity review list`
    assert Side("cus_a", {contract}, set(), []).masked() == [f"ACCOUNT:{expected}"]
    opened = Event("omnibus.business.AccountOpened", {"account_number": "EA-00300001"})
    read = json.loads(line(Replayed("omnibus.business.events.v1", 0, 1, b"EA-00300001", opened)))  # `topics read`
    assert read["key"] == read["event"]["value"]["account_number"] == expected
    assert json.loads(line(Replayed("t", 0, 1, contract.encode(), None, None)))["key"] == f"ACCOUNT:{expected}"
    refused = dict(dead_letter_event(RawRecord(value=b'{"account_number": "EA-00300001"}'), reason="bad",
                                     error_type="E", component="adapter.branch").value)
    letter = DeadLetter("p.deadletter.v1", 0, 0, {**refused, "failed_at": datetime.now(UTC)})
    assert original(letter, SingleObjectDeserializer(default_catalog()))["value"]["account_number"] == expected
    assert shown_in_report(contract) == f"ACCOUNT:{expected}"  # `omnibus verify`
    assert mask_keys([contract, CONTRACTS[0]])[0] == f"ACCOUNT:{expected}"  # `identity split` / `unmerge` lines
    section = ProductsSection()  # the pop's products section
    shown = section.render(section.apply(None, account_opened("EA-00300001", minutes=1)))["accounts"]
    assert shown[0]["account_number"] == expected and "00300001" not in expected
