import pytest

from processors.identity.normalize import (
    BLOCKED, INVALID, Identifier, IdentifierNormalizer, Rejected, canonical_national_id, luhn_valid, mask,
    national_id_check_char,
)
from tests.processors.identity.support import Harness, matcher_settings, national_id, settings

NORMALIZER = IdentifierNormalizer(settings())
VALID_ID = "11010519491231002X"  # the GB 11643 example number


def norm(kind: str, value: str) -> Identifier | Rejected:
    return NORMALIZER.normalize({"type": kind, "value": value})


@pytest.mark.parametrize("raw", ["+86 139 1234 5678", "13912345678", "0086 13912345678", "+8613912345678"])
def test_phones_become_e164_with_the_default_region(raw: str) -> None:
    assert norm("PHONE", raw) == Identifier("PHONE", "+8613912345678")


def test_default_region_is_configurable() -> None:
    french = IdentifierNormalizer(settings(default_region="FR"))
    assert french.normalize({"type": "PHONE", "value": "06 12 34 56 78"}) == Identifier("PHONE", "+33612345678")


def test_without_a_region_of_its_own_identity_reads_phones_like_the_adapters() -> None:
    """One rule set (#14 item 4): no CN default of identity's own; the shared OMNIBUS_IDENTIFIERS__DEFAULT_REGION."""
    from bus.identifiers.settings import IdentifierSettings

    own = settings(default_region=None)
    french = IdentifierNormalizer(own, IdentifierSettings(default_region="FR"))
    assert french.normalize({"type": "PHONE", "value": "06 12 34 56 78"}) == Identifier("PHONE", "+33612345678")
    nowhere = IdentifierNormalizer(own, IdentifierSettings()).normalize({"type": "PHONE", "value": "06 12 34 56 78"})
    assert isinstance(nowhere, Rejected)
    assert IdentifierNormalizer(own, IdentifierSettings()).normalize(
        {"type": "PHONE", "value": "+33 6 12 34 56 78"}) == Identifier("PHONE", "+33612345678")


def test_a_lookup_reads_a_phone_as_dialled_in_the_region_it_names() -> None:
    """The screen pop's ``region`` (a new user's ``value=0612345678`` was a 400: "no default region")."""
    from bus.identifiers.settings import IdentifierSettings

    nowhere = IdentifierNormalizer(settings(default_region=None), IdentifierSettings())
    assert isinstance(nowhere.normalize({"type": "PHONE", "value": "0612345678"}), Rejected)
    assert nowhere.normalize({"type": "PHONE", "value": "0612345678"}, region="fr") == Identifier("PHONE", "+33612345678")
    assert NORMALIZER.normalize({"type": "PHONE", "value": "0612345678"}, region="FR") == Identifier("PHONE", "+33612345678")
    assert NORMALIZER.normalize({"type": "EMAIL", "value": "A@Example.org"}, region="FR") == Identifier(
        "EMAIL", "a@example.org")
    with pytest.raises(ValueError, match="unknown phone region"):
        nowhere.normalize({"type": "PHONE", "value": "0612345678"}, region="XX")


@pytest.mark.parametrize("raw", ["12", "anonymous", "+86 123", "+999 1234567"])
def test_invalid_phones_are_rejected_with_a_reason(raw: str) -> None:
    result = norm("PHONE", raw)
    assert isinstance(result, Rejected) and result.rule in (INVALID, BLOCKED) and result.reason


def test_emails_are_trimmed_and_case_folded() -> None:
    assert norm("EMAIL", "  Ann.Lee@Example.ORG ") == Identifier("EMAIL", "ann.lee@example.org")
    assert isinstance(norm("EMAIL", "not-an-email"), Rejected)
    assert isinstance(norm("EMAIL", "a@b"), Rejected)


def test_national_id_check_character_follows_iso_7064_mod_11_2() -> None:
    assert national_id_check_char(VALID_ID[:17]) == "X"
    assert canonical_national_id(VALID_ID.lower()) == VALID_ID


def test_a_valid_national_id_is_kept_only_as_a_keyed_token() -> None:
    result = norm("NATIONAL_ID", VALID_ID)
    assert isinstance(result, Identifier)
    assert result.value.startswith("nid1:") and VALID_ID not in result.value and "1949" not in result.value
    other_key = IdentifierNormalizer(settings(hmac_key="another-key-0123456789"))
    assert other_key.normalize({"type": "NATIONAL_ID", "value": VALID_ID}) != result  # keyed, not a plain hash
    assert norm("NATIONAL_ID", result.value) == result  # normalising a token is a no-op


def test_a_first_generation_id_gets_the_token_of_its_18_character_form() -> None:
    fifteen = "110105491231002"
    assert canonical_national_id(fifteen) == VALID_ID
    assert norm("NATIONAL_ID", fifteen) == norm("NATIONAL_ID", VALID_ID)


@pytest.mark.parametrize(("raw", "why"), [
    ("110105194912310021", "check character"),
    ("110105194913310025", "date of birth"),
    ("11010519491231", "18 characters"),
    (national_id("01010519800101001"), "region"),
])
def test_invalid_national_ids_are_rejected_and_never_echoed(raw: str, why: str) -> None:
    result = norm("NATIONAL_ID", raw)
    assert isinstance(result, Rejected) and result.rule == INVALID
    assert why in result.reason
    assert raw not in result.masked and raw[:6] not in result.masked


def test_card_numbers_are_tokenised_and_tokens_kept() -> None:
    result = norm("CARD", "4111 1111 1111 1111")
    assert isinstance(result, Identifier) and result.value.startswith("card1:") and "4111" not in result.value
    assert isinstance(norm("CARD", "4111 1111 1111 1112"), Rejected)  # fails Luhn
    assert norm("CARD", "tok_9f8e7d") == Identifier("CARD", "tok_9f8e7d")
    assert luhn_valid("79927398713")


@pytest.mark.parametrize(("kind", "raw"), [
    ("PHONE", "+8613800138000"), ("EMAIL", "test@example.com"), ("ACCOUNT", "unknown"), ("ACCOUNT", "0000000"),
    ("USER_ID", "null"), ("DEVICE", "N/A"), ("ACCOUNT", "123456789"),
])
def test_placeholders_and_test_values_are_blocked(kind: str, raw: str) -> None:
    result = norm(kind, raw)
    assert isinstance(result, Rejected) and result.rule == BLOCKED


def test_configured_blocked_values_add_to_the_defaults() -> None:
    normalizer = IdentifierNormalizer(settings(blocked_values={"ACCOUNT": ["ACC-TEST"]}))
    assert isinstance(normalizer.normalize({"type": "ACCOUNT", "value": "ACC-TEST"}), Rejected)
    assert isinstance(normalizer.normalize({"type": "PHONE", "value": "+8613800138000"}), Rejected)


def test_other_identifiers_are_trimmed_and_uuids_lowercased() -> None:
    assert norm("ACCOUNT", " ACC-1 ") == Identifier("ACCOUNT", "ACC-1")
    assert norm("DEVICE", "6F9619FF-8B86-D011-B42D-00C04FC964FF") == Identifier(
        "DEVICE", "6f9619ff-8b86-d011-b42d-00c04fc964ff")
    assert isinstance(norm("UNKNOWN", "x1"), Rejected)
    assert isinstance(norm("ACCOUNT", "a\x00b"), Rejected)


def test_masks_show_little() -> None:
    assert mask("PHONE", "+8613800138000") == "+86*******8000"
    assert mask("EMAIL", "ann@example.org") == "a***@example.org"
    assert mask("ACCOUNT", "ACC-123456") == "ACC-****3456"
    token = norm("NATIONAL_ID", VALID_ID).value  # type: ignore[union-attr]
    assert mask("NATIONAL_ID", token) == f"nid1:…{token[-4:]}"


def test_what_an_adapter_normalised_identity_keeps_as_it_is() -> None:
    from tests.bus.identifiers.support import normaliser as adapter_normaliser

    # A French region checks national IDs as fr.nir unless told otherwise: VALID_ID is a Chinese resident ID.
    adapter = adapter_normaliser(default_region="FR", national_id_schemes=("cn.ric",)).collect([
        ("PHONE", "06 12 34 56 78"), ("EMAIL", "Ann@Bücher.example"), ("NATIONAL_ID", VALID_ID),
        ("CARD", "4111 1111 1111 1111"), ("DEVICE", "6F9619FF-8B86-D011-B42D-00C04FC964FF")])
    assert len(adapter.identifiers) == 5
    for identifier in adapter.identifiers:  # one key: adapters and identity issue the same tokens
        assert NORMALIZER.normalize(identifier.as_record()) == identifier


def test_the_shared_key_wins_over_identitys_own() -> None:
    from tests.bus.identifiers.support import identifier_settings

    shared = IdentifierNormalizer(settings(), identifier_settings(hmac_key="shared-key-0123456789"))
    assert shared.normalize({"type": "NATIONAL_ID", "value": VALID_ID}) != norm("NATIONAL_ID", VALID_ID)
    assert shared.token("NATIONAL_ID", VALID_ID) == IdentifierNormalizer(
        settings(hmac_key="shared-key-0123456789")).token("NATIONAL_ID", VALID_ID)


def test_an_accepted_value_is_remembered_and_a_refused_one_counted_every_time() -> None:
    from bus.identifiers.metrics import REJECTED_IDENTIFIERS

    normalizer = IdentifierNormalizer(settings())
    first = normalizer.normalize({"type": "PHONE", "value": "139 1234 5678"})
    normalizer._shared = None  # type: ignore[assignment]  # a second parse would fail: it must come from memory
    assert normalizer.normalize({"type": "PHONE", "value": "139 1234 5678"}) is first
    counted = IdentifierNormalizer(settings())
    before = REJECTED_IDENTIFIERS.labels("identity", "PHONE", "phone-invalid")._value.get()
    for _ in range(2):
        assert isinstance(counted.normalize({"type": "PHONE", "value": "12"}), Rejected)
    assert REJECTED_IDENTIFIERS.labels("identity", "PHONE", "phone-invalid")._value.get() == before + 2


@pytest.mark.parametrize(("kind", "value", "counted_as"), [
    ("FOO", "x", ("UNKNOWN", "unknown-type")), ("EMAIL", "", ("EMAIL", "empty")),
    ("PHONE", "0711223344", ("PHONE", "phone-invalid")),
])
def test_a_screen_pop_querys_refusal_is_counted_apart_from_channel_data(
    kind: str, value: str, counted_as: tuple[str, str]
) -> None:
    """tester9 #6: an agent's mistyped lookup counted as a channel's rejected identifier; it has its own component."""
    from bus.identifiers.metrics import REJECTED_IDENTIFIERS
    from processors.identity.normalize import LOOKUP_COMPONENT

    def count(component: str) -> float:
        return REJECTED_IDENTIFIERS.labels(component, *counted_as)._value.get()

    normalizer = IdentifierNormalizer(settings(default_region="FR"))
    channel, lookups = count("identity"), count(LOOKUP_COMPONENT)
    assert isinstance(normalizer.normalize({"type": kind, "value": value}, lookup=True), Rejected)
    assert (count("identity"), count(LOOKUP_COMPONENT)) == (channel, lookups + 1)


def test_tester14_m1_one_iban_in_three_spellings_is_one_customer_and_the_lower_case_lookup_finds_her() -> None:
    """Branch visit with the IBAN spaced, a call from another phone with it compact, a lookup in lower case. A
    producer that is not an Omnibus adapter (or an adapter before this rule) is normalised again at intake."""
    harness = Harness(matcher_settings())
    harness.observe(("ACCOUNT", "FR21 1751 5900 0008 0000 0000 175"), ("EMAIL", "marc.petit@example.fr"),
                    ("PHONE", "+33633333333"), channel="BRANCH")
    harness.observe(("ACCOUNT", "FR2117515900000800000000175"), ("PHONE", "+33677777777"), channel="CALL_CENTER",
                    minutes=5)
    marc = harness.customer("EMAIL", "marc.petit@example.fr")
    assert marc is not None and harness.customer("PHONE", "+33677777777") == marc
    for kind, query in (("ACCOUNT", "fr2117515900000800000000175"), ("iban", "fr21 1751 5900 0008 0000 0000 175")):
        found = harness.normalizer.normalize({"type": kind, "value": query}, lookup=True)
        assert isinstance(found, Identifier) and harness.local.customer_of(found.key) == marc


def test_tester14_n1_a_configured_test_iban_is_blocked_in_every_spelling_and_a_valid_one_never_a_placeholder() -> None:
    normalizer = IdentifierNormalizer(settings(blocked_values={"ACCOUNT": ["FR76 3000 6000 0112 3456 7890 189"]}))
    for written in ("FR7630006000011234567890189", "fr76 3000 6000 0112 3456 7890 189"):
        assert isinstance(normalizer.normalize({"type": "ACCOUNT", "value": written}), Rejected)
    for written in ("FR7430003012340001234567890", "FR74 3000 3012 3400 0123 4567 890"):
        assert norm("ACCOUNT", written) == Identifier("ACCOUNT", "FR7430003012340001234567890")
