"""bus/identifiers/masking.py: masks that cannot be mistaken (new-user finding #6)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from bus.errors import ConfigError
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.identifiers.masking import (
    TAGGED_KINDS,
    keyed,
    mask,
    mask_keys,
    masked_tokens,
    record_kind,
    tag,
    untagged_mask,
)
from bus.identifiers.model import Rejected
from bus.identifiers.normaliser import IdentifierNormaliser
from bus.identifiers.settings import IdentifierSettings
from bus.identifiers.tokens import token
from bus.redact import redact

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


# Keyed tags (tester28 F10): a value's mask ends with ``~`` and three base32 characters of a keyed digest.
MASK_KEY, TOKEN_KEY, IDENTITY_KEY = "mask-key-0123456789abcdef", "token-key-0123456789abcdef", "identity-key-0123456789"
KEY_VARIABLES = ("OMNIBUS_IDENTIFIERS__MASK_KEY", "OMNIBUS_IDENTIFIERS__HMAC_KEY", "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY")
TAGGED = re.compile(r"~[A-Z2-7]{3}$")
# Two values of each kind whose untagged masks are the same (its shown characters alike).
ALIKE = {
    "ACCOUNT": ("EA-00200001", "EA-00300001"), "CUSTOMER_NUMBER": ("C-770001", "C-880001"),
    "SUPPLY_POINT": ("14500000000001", "14500000010001"), "EMAIL": ("jean@gmail.com", "julie@gmail.com"),
    "USER_ID": ("jean.dupont", "jean.martin"), "ANONYMOUS_ID": ("anon-0001", "anon-0002"),
    "DEVICE": ("356938035643809", "356938035643817"),  # two IMEIs of one model: one type allocation code
}


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in KEY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


@pytest.fixture
def mask_key(no_key: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    no_key.setenv("OMNIBUS_IDENTIFIERS__MASK_KEY", MASK_KEY)
    return no_key


def test_tester28_f10_five_contracts_ending_alike_have_five_masks(mask_key: pytest.MonkeyPatch) -> None:
    """tester28 F10: EA-00200001, EA-00300001, EA-00400001, EA-00500001 and EA-00700001 all showed as ``EA-****0001``
    in ``topics read``, the pops and the shared-identifier notes: five "equal" accounts."""
    contracts = [f"EA-00{n}00001" for n in (2, 3, 4, 5, 7)]
    shown = [mask("ACCOUNT", contract) for contract in contracts]
    assert len(set(shown)) == 5
    assert all(s.startswith("EA-****0001~") and TAGGED.search(s) for s in shown), shown
    assert mask_keys([f"ACCOUNT:{c}" for c in contracts]) == [f"ACCOUNT:{s}" for s in shown]  # nothing to number


@pytest.mark.parametrize("kind", sorted(ALIKE))
def test_two_values_whose_shown_characters_are_alike_get_two_masks(kind: str, mask_key: pytest.MonkeyPatch) -> None:
    first, second = ALIKE[kind]
    assert untagged_mask(kind, first) == untagged_mask(kind, second)  # the case: what shows is the same
    assert mask(kind, first) != mask(kind, second)
    assert mask(kind, first) == f"{untagged_mask(kind, first)}~{tag(MASK_KEY.encode(), kind, first)}"
    assert mask(kind, first) == mask(kind, first)  # the same value, the same tag


def test_every_kind_is_decided_tagged_or_not() -> None:
    """A kind added to the contract is decided on: tagged (``TAGGED_KINDS``) or named as shown apart without one."""
    untagged = {"PHONE", "CARD", "NATIONAL_ID"}
    assert set(TAGGED_KINDS) == set(ALIKE) and set(TAGGED_KINDS) | untagged == set(IDENTIFIER_TYPES)


def test_phones_cards_and_national_ids_carry_no_tag(mask_key: pytest.MonkeyPatch) -> None:
    """A phone's last four tell two numbers apart but by chance; a card's last four stand alone (PCI DSS: no digest
    of a PAN beside its truncation); a national ID shows nothing but its token's end."""
    nid, card = token(KEY, "NATIONAL_ID", "11010519491231002X"), token(KEY, "CARD", "4111111111111111")
    assert mask("PHONE", "+33612345678") == "+33*****5678"
    assert mask("CARD", "4111111111111111") == "****1111" and mask("CARD", card) == f"card1:…{card[-4:]}"
    assert mask("NATIONAL_ID", nid) == f"nid1:…{nid[-4:]}" and mask("NATIONAL_ID", "raw") == "[national id]"


def test_without_any_key_masks_carry_no_tag_and_alike_ones_are_numbered(no_key: pytest.MonkeyPatch) -> None:
    """No mask key and no token key: the masks of before; a list still numbers the ones alike."""
    assert mask("ACCOUNT", "EA-00200001") == "EA-****0001" and mask("EMAIL", "jean@gmail.com") == "j***@gmail.com"
    assert mask_keys(["ACCOUNT:EA-00200001", "ACCOUNT:EA-00300001"]) == [
        "ACCOUNT:EA-****0001 (1)", "ACCOUNT:EA-****0001 (2)"]


@pytest.mark.parametrize(("variable", "key"), [
    ("OMNIBUS_IDENTIFIERS__MASK_KEY", MASK_KEY), ("OMNIBUS_IDENTIFIERS__HMAC_KEY", TOKEN_KEY),
    ("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", IDENTITY_KEY)])
def test_the_key_is_the_mask_key_else_the_token_key(variable: str, key: str, no_key: pytest.MonkeyPatch) -> None:
    """MASK_KEY first, then the token key (the shared HMAC_KEY, then identity's), read when a mask is made: every
    deployment whose identity runs (it needs a token key) tags its masks without a new setting."""
    for later in KEY_VARIABLES[KEY_VARIABLES.index(variable) + 1:]:  # set too, and not used
        no_key.setenv(later, "another-key-0123456789abc")
    no_key.setenv(variable, key)
    assert mask("ACCOUNT", "EA-00200001") == f"EA-****0001~{tag(key.encode(), 'ACCOUNT', 'EA-00200001')}"


def test_a_key_given_in_process_overrides_the_environment(mask_key: pytest.MonkeyPatch) -> None:
    """``keyed``: the demo holds its keys in its settings, not in its environment."""
    with keyed(TOKEN_KEY.encode()):
        assert mask("EMAIL", "jean@gmail.com") == f"j***@gmail.com~{tag(TOKEN_KEY.encode(), 'EMAIL', 'jean@gmail.com')}"
        with keyed(None):
            assert mask("EMAIL", "jean@gmail.com") == "j***@gmail.com"
    assert mask("EMAIL", "jean@gmail.com") == f"j***@gmail.com~{tag(MASK_KEY.encode(), 'EMAIL', 'jean@gmail.com')}"


def test_the_same_value_has_the_same_tag_in_another_process(mask_key: pytest.MonkeyPatch) -> None:
    """Another worker, a restart or a command holding the same key tags a value alike (a keyed digest, no per-process
    salt); another key tags it otherwise."""
    code = "from bus.identifiers.masking import mask; print(mask('ACCOUNT', 'EA-00200001'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "random"})
    assert other.stdout.strip() == mask("ACCOUNT", "EA-00200001")
    mask_key.setenv("OMNIBUS_IDENTIFIERS__MASK_KEY", "another-key-0123456789abc")
    assert other.stdout.strip() != mask("ACCOUNT", "EA-00200001")


def test_a_tagged_mask_masked_again_is_as_it_was(mask_key: pytest.MonkeyPatch) -> None:
    for kind, (value, _) in ALIKE.items():
        assert mask(kind, mask(kind, value)) == mask(kind, value), kind
    assert mask("USER_ID", "abcd~AAA") != "abcd~AAA"  # a value that only ends like a tag is masked


def test_an_untagged_mask_is_never_tagged_as_if_it_were_a_value(mask_key: pytest.MonkeyPatch) -> None:
    """A record published before the tags (or by a process without the key) holds ``EA-****0001`` for several
    contracts; read again with the key (``topics read`` of a ``LinkRefused``), a tag of that text would be one tag for
    all of them, saying they are one contract."""
    for kind, (value, _) in ALIKE.items():
        assert mask(kind, untagged_mask(kind, value)) == untagged_mask(kind, value), kind


def test_a_log_line_keeps_a_mask_and_its_tag(mask_key: pytest.MonkeyPatch) -> None:
    """The logs' scrubber (``bus.redact``) leaves a mask as it is: a refusal logged shows the tag the pop shows."""
    refused = IdentifierNormaliser(block_placeholders=True).normalise("ACCOUNT", "EA-00000000")
    assert isinstance(refused, Rejected) and TAGGED.search(refused.masked)
    masks = [mask(kind, value) for kind, (value, _) in ALIKE.items()]
    assert redact({"rejected": refused.as_record(), "masks": masks}) == {"rejected": refused.as_record(), "masks": masks}


def test_the_key_is_never_in_a_mask_nor_in_a_refusal_of_a_short_one(no_key: pytest.MonkeyPatch) -> None:
    no_key.setenv("OMNIBUS_IDENTIFIERS__MASK_KEY", MASK_KEY)
    shown = [mask(kind, value) for kind, values in ALIKE.items() for value in values]
    assert not any(MASK_KEY in s or MASK_KEY[:8] in s for s in shown)
    assert MASK_KEY not in repr(IdentifierSettings(mask_key=MASK_KEY)) and "**********" in str(
        IdentifierSettings(mask_key=MASK_KEY).mask_key)
    no_key.setenv("OMNIBUS_IDENTIFIERS__MASK_KEY", "short-secret")
    with pytest.raises(ConfigError) as refused:
        mask("ACCOUNT", "EA-00200001")
    assert "MASK_KEY" in str(refused.value) and "short-secret" not in str(refused.value)


@pytest.mark.parametrize(("record", "kind"), [
    ({"type": "PHONE", "value": "+34622111222"}, "PHONE"),  # as every event carries them
    ({"type": "phone", "value": "622 111 222"}, "PHONE"),  # as the counter API takes them
    ({"type": "national_id", "value": "12345678Z"}, "NATIONAL_ID"),
    ({"type": "Account", "value": 400012345678}, "ACCOUNT"),
    ({"type": "phone", "value": True}, None),
    ({"type": "phone"}, None),
    ({"type": "invoice", "value": "F-1"}, None),
    ({"type": 3, "value": "x"}, None),
])
def test_an_identifier_record_is_known_by_its_type_in_any_case(record: dict[str, object], kind: str | None) -> None:
    assert record_kind(record) == kind


def test_a_secrets_token_inside_text_shows_by_its_end() -> None:
    nid, card = token(b"k" * 32, "NATIONAL_ID", "12345678Z"), token(b"k" * 32, "CARD", "4111111111111111")
    assert masked_tokens(f"DNI {nid}, tarjeta {card}.") == f"DNI {mask('NATIONAL_ID', nid)}, tarjeta {mask('CARD', card)}."
    assert masked_tokens(f"x{nid}") == f"x{nid}" and masked_tokens("nid1:abc") == "nid1:abc"  # not a token's shape
