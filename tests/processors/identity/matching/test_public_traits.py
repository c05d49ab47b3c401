"""A name and a birth date are no secret: with no identifier in common they merge nobody on their own (tester21 F18).

An anonymous portal visitor typed a bank customer's name and birth date (Marc Lefebvre, 1975-05-05) with an e-mail of
his own and nothing else. Blocking met the two on traits alone and merged them, rule ``blocking-candidate``, no review:
+6.78 bits (the names and birth date +30.5, the population's prior −20.4, the two e-mails −3.3), or +7.12 bits with the
surname misspelt ("Lefebre") against a customer with no e-mail on file. The stranger's e-mail then popped Marc, with his
offers. A merge with no identifier in common now needs a field of ``MATCH_UNLINKED_FIELDS`` (address line, postcode) to
agree too, whatever it weighs; else the pair goes to review (``MatchModel.unlinked_evidence``).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import Merged, ReviewRequested
from processors.identity.matching.weights import Decision
from processors.identity.rules import LinkPolicy
from tests.adapters.web.support import web_settings
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

OPENED = datetime(2021, 6, 10, tzinfo=UTC)
RECEIVED = datetime(2026, 12, 2, 4, 50, tzinfo=UTC)
MARC_EMAIL, STRANGER_EMAIL = "marc.lefebvre@bank-test.fr", "marc.l75@perso-mail.fr"
MARC = {"given_name": "Marc", "family_name": "Lefebvre", "birth_date": "1975-05-05"}
HOME = {"street": "14 rue des Lilas", "postalCode": "69003", "city": "Lyon"}  # as Segment's ``address`` trait


def core_banking_line(email: str | None, *, home: bool = False) -> list[tuple[Event, str]]:
    """Marc's row of the core-banking export (tester21's layout: account, customer number, names, birth date, phone,
    ``email`` when on file, his address with ``home``), as ``omnibus adapter legacy`` publishes it."""
    fields = {"account_number": "ACC-1004", "account_type": "current", "service_tier": "standard",
              "customer_id": "C-5004", "phone": "06 11 22 33 44", **MARC, **({"email": email} if email else {}),
              **({"address": HOME["street"], "postcode": HOME["postalCode"], "city": HOME["city"]} if home else {})}
    mapped = map_business(BusinessRecord("AccountOpened", fields, "cdc:4", OPENED),
                          LegacyContext("core-banking", "business.events.v1", identity_topic="identity.observed.v1",
                                        phone_region="FR"))
    return [(out.event, out.topic) for out in mapped.events]


def portal_identify(family_name: str, message_id: str = "m-rv-4", **extra: object) -> list[tuple[Event, str]]:
    """The visitor's ``identify``: an anonymous id, a new e-mail, first name, ``family_name`` and birthday (and
    ``extra`` traits), through the web adapter's mapper."""
    traits = {"email": STRANGER_EMAIL, "firstName": "Marc", "lastName": family_name, "birthday": "1975-05-05", **extra}
    message = {"type": "identify", "anonymousId": "anon-rv-4", "messageId": message_id,
               "timestamp": "2026-12-02T04:50:00Z", "traits": traits}
    result = SegmentMapper(web_settings(), TopicSettings())(message, source="portal-web", received_at=RECEIVED)
    return [(out.event, out.topic.removeprefix("omnibus.")) for out in result.events]


def replay(*records: list[tuple[Event, str]], **overrides: object) -> Harness:
    h = Harness(settings(default_region="FR", **overrides))
    for record in records:
        for event, topic in record:
            h.feed(event, topic)
    h.local.check_consistent()
    return h


@pytest.mark.parametrize(("family_name", "email_on_file", "weight"), [
    pytest.param("Lefebvre", MARC_EMAIL, 6.78, id="the reported weight: his name, his e-mail on file"),
    pytest.param("Lefebre", None, 7.12, id="misspelt, no e-mail on file"),
])
@pytest.mark.parametrize("stranger_first", [False, True])
def test_the_anonymous_visitor_with_a_customers_name_and_birth_date_is_reviewed_not_merged(
        family_name: str, email_on_file: str | None, weight: float, stranger_first: bool) -> None:
    """The sample, in both orders: the stranger's e-mail stays off Marc's customer, a review waits, nothing merged."""
    records = [core_banking_line(email_on_file), portal_identify(family_name)]
    h = replay(*(reversed(records) if stranger_first else records))
    marc = h.customer("ACCOUNT", "ACC-1004")
    assert marc is not None and h.customer("EMAIL", STRANGER_EMAIL) not in (None, marc)
    assert h.customer("ANONYMOUS_ID", "anon-rv-4") != marc
    assert not h.decisions(Merged)
    (review,) = h.decisions(ReviewRequested)
    assert review.match_weight == pytest.approx(weight, abs=0.01) and review.lineage.rule == "match-review"
    assert "agree" not in review.levels.values()  # a blocking candidate: no identifier in common


def test_with_the_fields_rule_off_the_sample_merges_as_reported() -> None:
    """``MATCH_UNLINKED_FIELDS`` empty: the weight alone decides, as before the finding."""
    h = replay(core_banking_line(MARC_EMAIL), portal_identify("Lefebvre"), match_unlinked_fields=())
    assert h.customer("EMAIL", STRANGER_EMAIL) == h.customer("ACCOUNT", "ACC-1004")
    (merged,) = h.decisions(Merged)
    assert merged.lineage.rule == "blocking-candidate" and merged.match_weight == pytest.approx(6.78, abs=0.01)


def test_the_visitor_who_also_gives_the_customers_address_merges_in_every_order() -> None:
    """Where the customer lives is what a stranger with his name does not know: Marc's own second identity with his
    address (a misspelt surname as well) joins him, whichever record comes first; so does a later identify of the
    same browser that adds the address to a visit first kept apart."""
    line, with_address = core_banking_line(None, home=True), portal_identify("Lefebre", address=HOME)
    for order in itertools.permutations([line, with_address]):
        h = replay(*order)
        assert h.customer("EMAIL", STRANGER_EMAIL) == h.customer("ACCOUNT", "ACC-1004")
        assert {m.lineage.rule for m in h.decisions(Merged)} == {"blocking-candidate"}
    later = portal_identify("Lefebre", message_id="m-rv-5", address={"postalCode": HOME["postalCode"]})
    for order in itertools.permutations([line, portal_identify("Lefebre"), later]):
        h = replay(*order)
        assert h.customer("EMAIL", STRANGER_EMAIL) == h.customer("ACCOUNT", "ACC-1004"), order


MATCHER = LinkPolicy(settings()).matcher
TYPED = {"gn": ["marc"], "fn": ["lefebvre"], "bd": ["1975-05-05"]}
LIVES = {"ad": ["14 r des lilas"], "pc": ["69003"], "ci": ["lyon"]}
APART = (["ANONYMOUS_ID:anon-rv-4", "EMAIL:v@x.fr"], ["ACCOUNT:1"])  # each side's own identifiers, none in common


@pytest.mark.parametrize(("visitor", "customer", "ids", "decision"), [
    # name and birth date alone, exact or misspelt (surname, given name one slip off): ask, however high the weight
    pytest.param(TYPED, {**TYPED, **LIVES}, APART, Decision.REVIEW, id="exact name, his address on one side"),
    pytest.param({**TYPED, "fn": ["lefebre"]}, {**TYPED, **LIVES}, APART, Decision.REVIEW, id="surname misspelt"),
    pytest.param({**TYPED, "gn": ["mrac"]}, TYPED, APART, Decision.REVIEW, id="given name one slip off"),
    pytest.param(TYPED, TYPED, (["EMAIL:a@x.fr"], ["ACCOUNT:1", "EMAIL:b@x.fr"]), Decision.REVIEW,
                 id="no address on either side, identifiers of their own"),
    # the same with where he lives: his address line and postcode, either alone, or the line with a typo
    pytest.param({**TYPED, **LIVES}, {**TYPED, **LIVES}, APART, Decision.MERGE, id="address and postcode"),
    pytest.param({**TYPED, "fn": ["lefebre"], "pc": ["69003"]}, {**TYPED, **LIVES}, APART, Decision.MERGE,
                 id="misspelt, postcode only"),
    pytest.param({**TYPED, "ad": ["14 r des lilas"]}, {**TYPED, "ad": ["14 r des lilas"]}, APART, Decision.MERGE,
                 id="address line only, no postcodes"),
    pytest.param({**TYPED, "ad": ["14 r des lillas"], "pc": ["69003"]}, {**TYPED, **LIVES}, APART, Decision.MERGE,
                 id="address line with a typo"),
    # a town is no secret either, and the same line in another town is no evidence (compare.place_level)
    pytest.param({**TYPED, "ci": ["lyon"]}, {**TYPED, "ci": ["lyon"]}, APART, Decision.REVIEW, id="the town only"),
    pytest.param({**TYPED, "ad": ["14 r des lilas"], "pc": ["33000"]}, {**TYPED, **LIVES}, APART, Decision.REVIEW,
                 id="his line in another town"),
    # an identifier in common is no public trait: the weight decides as before
    pytest.param(TYPED, TYPED, (["EMAIL:m@x.fr"], ["ACCOUNT:1", "EMAIL:m@x.fr"]), Decision.MERGE,
                 id="an e-mail in common, no address"),
])
def test_a_pair_with_no_identifier_in_common_merges_only_on_where_the_person_lives(
        visitor: dict[str, list[str]], customer: dict[str, list[str]], ids: tuple[list[str], list[str]],
        decision: Decision) -> None:
    """Symmetric: either side first gives the same decision."""
    forward, backward = MATCHER.score(visitor, customer, *ids), MATCHER.score(customer, visitor, *reversed(ids))
    assert MATCHER.decide(forward) is MATCHER.decide(backward) is decision, forward
    assert decision is Decision.MERGE or forward.weight < MATCHER.merge_at or not MATCHER.unlinked_evidence(
        forward.levels)


@pytest.mark.parametrize(("id_field", "postcodes", "reviewed"), [
    pytest.param("anonymousId", (None, None), True, id="two visitors, no address"),
    pytest.param("anonymousId", (None, "13001"), True, id="two visitors, one postcode"),
    pytest.param("anonymousId", ("69003", "13001"), True, id="two visitors, two postcodes"),
    pytest.param("userId", (None, None), False, id="two logins: two user ids refuse"),
])
def test_namesakes_on_the_portal_with_a_name_and_birth_date_are_never_merged_in_either_order(
        id_field: str, postcodes: tuple[str | None, str | None], reviewed: bool) -> None:
    """Two Marc Lefebvres born the same day on the portal, each with an e-mail of his own (and ``postcodes``): apart in
    both orders. Anonymous visitors weigh +6.8 bits (+2.2 with two postcodes) and wait for review; two user ids are
    two people (−11.3 bits) and are refused."""
    def visit(number: int, postcode: str | None) -> list[tuple[Event, str]]:
        traits = {"email": f"marc{number}@x.fr", "firstName": "Marc", "lastName": "Lefebvre", "birthday": "1975-05-05",
                  **({"address": {"postalCode": postcode}} if postcode else {})}
        message = {"type": "identify", id_field: f"marc-{number}", "messageId": f"m-marc-{number}",
                   "timestamp": "2026-12-02T05:00:00Z", "traits": traits}
        result = SegmentMapper(web_settings(), TopicSettings())(message, source="portal-web", received_at=RECEIVED)
        return [(out.event, out.topic.removeprefix("omnibus.")) for out in result.events]

    visits = [visit(number, postcode) for number, postcode in enumerate(postcodes)]
    for order in (visits, visits[::-1]):
        h = replay(*order)
        assert h.customer("EMAIL", "marc0@x.fr") != h.customer("EMAIL", "marc1@x.fr")
        assert not h.decisions(Merged)
        assert bool(h.decisions(ReviewRequested)) is reviewed

