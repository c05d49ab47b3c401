"""bus/identifiers/masking.py: masks that cannot be mistaken (new-user finding #6)."""

from __future__ import annotations

from bus.identifiers.masking import mask, mask_keys
from bus.identifiers.tokens import token

KEY = b"k" * 32


def test_a_card_token_is_shown_as_a_token_never_as_the_cards_last_four() -> None:
    card = token(KEY, "CARD", "4111111111111111")
    shown = mask("CARD", card)
    assert shown == f"card1:…{card[-4:]}" and not shown.startswith("****")
    assert mask("CARD", "tok_9f8e7d6c") == "token …7d6c"  # an issuer's token is a token too
    assert mask("CARD", "4111111111111111") == "****1111"  # a number: its own last four, as a receipt prints


def test_two_accounts_ending_alike_are_told_apart_and_nothing_more_is_shown() -> None:
    """The reported case: ``identity review list`` showed ACCOUNT:****0009 twice for accounts 1000009 and 2000009."""
    shown = mask_keys(["ACCOUNT:1000009", "ACCOUNT:2000009", "PHONE:+33612345678"])
    assert shown == ["ACCOUNT:****0009 (1)", "ACCOUNT:****0009 (2)", "PHONE:+33*****5678"]
    assert not any("100" in s or "200" in s for s in shown)


def test_the_same_value_twice_keeps_one_number_and_a_lone_mask_none() -> None:
    assert mask_keys(["ACCOUNT:1000009", "ACCOUNT:2000009", "ACCOUNT:1000009"]) == [
        "ACCOUNT:****0009 (1)", "ACCOUNT:****0009 (2)", "ACCOUNT:****0009 (1)"]
    assert mask_keys(["ACCOUNT:1000009", "EMAIL:ann@example.org"]) == ["ACCOUNT:****0009", "EMAIL:a***@example.org"]
    assert mask_keys([]) == []


def test_tester25_f6_two_customer_numbers_of_one_issuer_differ_on_the_screen() -> None:
    """tester25 F6: the screen pop showed ``C-77…`` for both C-770002 (Alice) and C-770003 (Bernard): a customer
    number's first characters are the issuer's, so the agent could not confirm which record was on screen. Shown by
    its last four, as an account: what tells two customers apart, not the whole number."""
    alice, bernard = mask("CUSTOMER_NUMBER", "C-770002"), mask("CUSTOMER_NUMBER", "C-770003")
    assert (alice, bernard) == ("C-****0002", "C-****0003")
    assert "C-77" not in alice + bernard and mask("CUSTOMER_NUMBER", "C-5") == "****"


def test_every_kind_shown_by_its_first_characters_is_one_whose_values_differ_there() -> None:
    """The kind of tester25 F6: an identifier issued by one system (its numbers share a prefix: accounts, cards,
    customer numbers) is shown by its end, where its values differ; one prefix does not hide two values."""
    issued = {"ACCOUNT": ("FR7630006000011234567890189", "FR7630006000011234567890190"),
              "CARD": ("4111111111111111", "4111111111111129"), "CUSTOMER_NUMBER": ("CIF-00012345", "CIF-00012346")}
    for kind, (first, second) in issued.items():
        assert mask(kind, first) != mask(kind, second), kind


def test_tester26_f10_a_contract_and_a_customer_number_ending_alike_are_told_apart() -> None:
    """The pop showed ``****0002`` for contract CA-900002 and customer C-500002: the letters each starts with (which
    system issued it, not whose it is) are kept before the mask; the digits stay hidden but the last four."""
    contract, customer = mask("ACCOUNT", "CA-900002"), mask("CUSTOMER_NUMBER", "C-500002")
    assert (contract, customer) == ("CA-****0002", "C-****0002")
    assert mask("ACCOUNT", "FR7630006000011234567890189") == "FR****0189"  # an IBAN's country
    assert mask("ACCOUNT", "1000009") == "****0009" and mask("CUSTOMER_NUMBER", "C-5001") == "****5001"
    assert mask("ACCOUNT", "ACC-0042-7781") == "ACC-****7781" and mask("CARD", "4111111111111111") == "****1111"
    assert mask("ACCOUNT", "PREFIXED-900002") == "****0002"  # a long word is no issuer's prefix: nothing more shown
    assert mask("ACCOUNT", mask("ACCOUNT", "CA-900002")) == "CA-****0002"  # a masked value shown again is as it was
