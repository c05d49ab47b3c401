"""Two identifiers with the same mask are told apart on the screen pop (tester12: two accounts FR7610001001 and
FR7620001001 both showed as ``****1001``)."""

from __future__ import annotations

from processors.identity.normalize import Identifier
from processors.identity.web import masked_values
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
