import pytest

from processors.offers.offer_file import OfferFileError, parse_offers

GOOD = """\
offer_id: fibre-upgrade
version: 2
title: Fibre 1 Gbit/s
content:
  default: Twice the speed, same price.
  CALL_CENTER: "Script: offer the upgrade."
channels: [WEB, CALL_CENTER, BRANCH]
valid_from: 2026-12-01T00:00:00+01:00
valid_until: 2027-01-31T23:59:59+01:00
priority: 50
eligibility: '"DSL" in products && service_tier != "BASIC"'
caps: [{max: 2, per: 7d}, {max: 1, per: 1d, channel: CALL_CENTER}]
quiet_hours: {start: "21:00", end: "08:00"}
"""


def test_a_good_file() -> None:
    (offer,) = parse_offers(GOOD)
    assert (offer.offer_id, offer.version, offer.priority) == ("fibre-upgrade", 2, 50)
    assert offer.content_for("WEB") == "Twice the speed, same price." and offer.content_for("CALL_CENTER").startswith("Script")
    assert [c.per for c in offer.caps] == [7 * 86400, 86400]


def test_a_plain_text_content_is_the_default_for_every_channel() -> None:
    """A new user's ``content: hello`` was refused with "Input should be a valid dictionary"."""
    text = GOOD.replace("content:\n  default: Twice the speed, same price.\n  CALL_CENTER: \"Script: offer the upgrade.\"\n",
                        "content: hello\n")
    (offer,) = parse_offers(text)
    assert offer.content == {"default": "hello"}
    assert {offer.content_for(channel) for channel in ("WEB", "CALL_CENTER", "BRANCH")} == {"hello"}
    with pytest.raises(OfferFileError, match="content: "):
        parse_offers(text.replace("content: hello", "content: [hello]"))


def test_a_list_of_offers() -> None:
    second = GOOD.replace("fibre-upgrade", "tv").replace("\n", "\n  ")
    text = "- " + GOOD.replace("\n", "\n  ") + "\n- " + second
    assert [o.offer_id for o in parse_offers(text)] == ["fibre-upgrade", "tv"]


@pytest.mark.parametrize(("change", "line", "message"), [
    (("version: 2", "version: zero"), 2, "version"),
    (("[WEB, CALL_CENTER, BRANCH]", "[WEB, FAX]"), 7, "channels.1"),
    (("+01:00\nvalid_until", "\nvalid_until"), 8, "time zone"),
    (("service_tier", "tier"), 11, "unknown fact 'tier'"),
    (("per: 7d", "per: a week"), 12, "duration"),
    (('"08:00"', '"8h"'), 13, "HH:MM"),
    (("  CALL_CENTER:", "  FAX:"), 4, "content for channels the offer is not on"),
    (("title: Fibre 1 Gbit/s\n", ""), 1, "title: Field required"),
])
def test_errors_carry_line_numbers(change: tuple[str, str], line: int, message: str) -> None:
    with pytest.raises(OfferFileError) as caught:
        parse_offers(GOOD.replace(*change), "offer.yaml")
    assert any(e.line == line and message in e.message for e in caught.value.errors), caught.value.errors


def test_several_errors_at_once_and_bad_yaml() -> None:
    with pytest.raises(OfferFileError) as caught:
        parse_offers(GOOD.replace("version: 2", "version: -1").replace("priority: 50", "priority: 5000"))
    assert [e.line for e in caught.value.errors] == [2, 10]
    with pytest.raises(OfferFileError, match="line 2: not YAML"):
        parse_offers("offer_id: a\n  - broken: [")


def test_the_same_offer_twice_is_refused() -> None:
    text = "- " + GOOD.replace("\n", "\n  ") + "\n- " + GOOD.replace("\n", "\n  ")
    with pytest.raises(OfferFileError, match="more than once"):
        parse_offers(text)
