"""Tester21 F9: what a system of record gives its holder stays with that holder, whatever weaker channel claims it.

A core-banking nightly export (``omnibus adapter legacy import-batch``, one ``AccountOpened`` line per customer) gives
Alice her account, IBAN and card, and Paul his own national ID. A web-portal identify, a counter transaction or a
call whose IVR took an account number then carries Paul's national ID, or his name and birth date, beside Alice's
IBAN or card (a mistyped registration, or a fraudster): the link is refused (two national IDs, or two people by
weight), and the rule "earliest-claim" must not take the card or the IBAN to Paul's customer, whether the claim is
dated before or after the export's line and in every arrival order (``rules.RECORD_KINDS``, ``limits.key_rank``).
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper_ctr import map_ctr
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import Resolved
from processors.identity.normalize import IdentifierNormalizer
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, interaction, matcher_settings

Items = list[tuple[Event, str]]
OBSERVED, BUSINESS, CONTACTS = "identity.observed.v1", "business.events.v1", "contact.events.v1"
BANK = identifier_settings(default_region="FR")  # a French bank: national IDs are NIRs (fr.nir)
KEYS = IdentifierNormalizer(matcher_settings(), BANK)
NIGHT = datetime(2025, 3, 1, 2, tzinfo=UTC)  # when the export's lines occurred
# The claim's day: the export's night is 2025-03-01 02:00, the claims are at about 09:00-10:00 that day or the day before.
DAYS = {"claim-before-export": "2025-02-28", "claim-after-export": "2025-03-01"}
IBAN, CARD = "FR76 3000 4000 0312 3456 7890 143", "4970100000000014"
LINES = {  # tester21's customers_layout.yaml fields (birth dates as the layout's %d/%m/%Y reads them)
    "alice": {"account_number": "ACC-1001", "account_type": "current", "service_tier": "standard",
              "customer_id": "C-5001", "iban": IBAN, "national_id": "285057505601252",
              "card_number": "4970 1000 0000 0014", "given_name": "Alice", "family_name": "Martin",
              "birth_date": "1985-05-12", "address": "12 rue de la Paix", "postcode": "75002", "city": "Paris",
              "phone": "06 12 34 56 71", "email": "alice.martin@bank-test.fr"},
    "paul": {"account_number": "ACC-1004", "account_type": "current", "service_tier": "standard",
             "customer_id": "C-5004", "national_id": "160047505607881", "given_name": "Paul", "family_name": "Petit",
             "birth_date": "1960-04-03", "address": "5 rue Victor Hugo", "postcode": "69002", "city": "Lyon",
             "phone": "06 77 88 99 00", "email": "paul.petit@bank-test.fr"},
}
PAUL_NIR = LINES["paul"]["national_id"]


def export_line(holder: str, line: int) -> Items:
    """What ``import-batch`` publishes for one line of the nightly export: the business event and its record."""
    mapped = map_business(BusinessRecord("AccountOpened", LINES[holder], f"night1.csv:{line}", NIGHT),
                          LegacyContext("core-banking", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=BANK))
    return [(out.event, out.topic) for out in mapped.events]


def portal_identify(day: str, traits: dict[str, str], message_id: str = "m-nid-2") -> Items:
    """F9's ``POST /v1/identify`` (user ``ob-paul``) with ``traits``, as the web adapter maps it (its event id derives
    from ``message_id``: one a message)."""
    body = {"type": "identify", "userId": "ob-paul", "messageId": message_id, "timestamp": f"{day}T10:00:00Z",
            "traits": traits}
    mapped = SegmentMapper(web_settings(), TopicSettings(), BANK)(body, received_at=datetime.fromisoformat(
        f"{day}T10:00:01+00:00"))
    return [(out.event, out.topic) for out in mapped.events]


def counter_transaction(day: str) -> Items:
    """A clerk keys Paul's national ID, name and birth date with Alice's IBAN and card (a card-replacement)."""
    event = {"event_id": f"tx-{day}", "kind": "transaction", "occurred_at": f"{day}T09:30:00Z", "agent_id": "E-2231",
             "transaction": {"id": f"TX-{day}", "type": "card-replacement", "status": "completed", "counter_id": "C3"},
             "identifiers": [{"type": "national_id", "value": PAUL_NIR}, {"type": "iban", "value": IBAN},
                             {"type": "card", "value": CARD}],
             "customer": {"given_name": "Paul", "family_name": "Petit", "birth_date": "1960-04-03"}}
    mapped = CounterMapper(branch_settings(), TopicSettings(), BANK)(event, terminal_id="CT-0142-03", branch_id="0142")
    return [(out.event, out.topic) for out in mapped.events]


def ivr_call(day: str) -> Items:
    """Paul calls from his own mobile; the IVR takes Alice's IBAN as the account number, and his name and birth date."""
    record = ctr(ContactId=f"c-paul-{day}", CustomerEndpoint={"Address": "+33677889900", "Type": "TELEPHONE_NUMBER"},
                 Attributes={"accountNumber": IBAN, "firstName": "Paul", "lastName": "Petit",
                             "dateOfBirth": "1960-04-03"})
    native = json.loads(json.dumps(record).replace("2024-03-05T", f"{day}T"))
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for out in map_ctr(native, context()).events]


def key(kind: str, value: str) -> str:
    return KEYS.normalize({"type": kind, "value": value}).key  # type: ignore[union-attr]


def owners(blocks: list[Items], order: tuple[int, ...], *, partitions: int = 1, seed: int | None = None,
           duplicates: float = 0.0) -> tuple[Harness, dict[str, str | None]]:
    """``blocks`` in ``order`` (over ``partitions`` in an interleaving drawn by ``seed``, with ``duplicates``); who
    holds Alice's card and IBAN: ``alice``, ``paul``, or None (nobody)."""
    h = Harness(matcher_settings(default_region="FR"), partitions=partitions, seed=seed, duplicates=duplicates)
    for index in order:
        for event, topic in blocks[index]:
            h.feed(event, topic, settle=partitions == 1)
    h.local.run()
    h.local.check_consistent()
    people = {root(h, h.local.customer_of(key("NATIONAL_ID", line["national_id"])) or ""): name
              for name, line in LINES.items()}
    assert len(people) == 2, order  # never one customer: two national IDs

    def holder(kind: str, value: str) -> str | None:
        customer = h.local.customer_of(key(kind, value))
        return people.get(root(h, customer), customer) if customer else None

    return h, {"card": holder("CARD", CARD), "iban": holder("ACCOUNT", IBAN)}


def landed(h: Harness, items: Items) -> set[str]:
    ids = {event.value["envelope"]["event_id"] for event, _ in items}
    return {root(h, r.customer_id) for r in h.decisions(Resolved) if r.triggering_event_id in ids}


ORDERS = list(itertools.permutations(range(3)))


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(map(str, order)) for order in ORDERS])
def test_the_sample_a_portal_identify_with_pauls_nir_leaves_alices_card_and_iban_with_her(
        order: tuple[int, ...]) -> None:
    """F9 as reported, in every arrival order of Alice's line, Paul's line and the identify (dated after the
    export): before, the card went to Paul (a business record ranked after every web event on it); a card-dispute
    contact that names the card alone landed on Paul."""
    traits = {"national_id": PAUL_NIR, "iban": IBAN, "cardNumber": CARD}
    blocks = [export_line("alice", 2), export_line("paul", 5), portal_identify(DAYS["claim-after-export"], traits)]
    h, held = owners(blocks, order)
    assert held == {"card": "alice", "iban": "alice"}, order
    dispute = [(interaction([("CARD", CARD)], channel="BRANCH", kind="COUNTER_TRANSACTION", name="card-dispute",
                            minutes=24 * 60), CONTACTS)]
    for event, topic in dispute:
        h.feed(event, topic)
    alice = root(h, h.local.customer_of(key("NATIONAL_ID", LINES["alice"]["national_id"])) or "")
    assert landed(h, dispute) == {alice}, order


CLAIMS: dict[str, Any] = {
    "web-card": lambda day: portal_identify(day, {"national_id": PAUL_NIR, "cardNumber": CARD}, f"m-card-{day}"),
    "web-iban": lambda day: portal_identify(day, {"national_id": PAUL_NIR, "iban": IBAN}, f"m-iban-{day}"),
    "counter": counter_transaction,
    "call-center": ivr_call,
}


@pytest.mark.parametrize("claim", CLAIMS)
@pytest.mark.parametrize("day", DAYS.values(), ids=DAYS.keys())
def test_no_weaker_channels_claim_takes_what_the_export_gave_its_holder_in_any_order(claim: str, day: str) -> None:
    """The kind: the card alone, the IBAN alone (an ACCOUNT, which ranked by time: a claim dated before the export
    took it), a counter transaction (Paul's NIR, name and birth date with Alice's IBAN and card) and a call from
    Paul's mobile whose IVR took Alice's IBAN (refused by weight), each dated before and after the export's line,
    in every arrival order of the two lines and the claim."""
    blocks = [export_line("alice", 2), export_line("paul", 5), CLAIMS[claim](day)]
    for order in ORDERS:
        _, held = owners(blocks, order)
        assert held == {"card": "alice", "iban": "alice"}, (claim, order)


@pytest.mark.parametrize(("partitions", "seed", "duplicates"), [(1, None, 0.0), (5, 21, 0.3), (12, 9, 0.5)])
def test_every_claim_at_once_across_partitions_with_redeliveries(
        partitions: int, seed: int | None, duplicates: float) -> None:
    """The two lines and the four claims of both days in one stream: the reverse order and a fixed draw of the 8!
    arrival orders, interleaved across graph partitions with redeliveries (``LocalGraph``)."""
    claims = [CLAIMS[claim](day) for claim in CLAIMS for day in DAYS.values()]
    blocks = [export_line("alice", 2), export_line("paul", 5), *claims]
    orders = [tuple(reversed(range(len(blocks)))),
              *(tuple(random.Random(draw).sample(range(len(blocks)), len(blocks))) for draw in range(4))]
    for order in orders:
        _, held = owners(blocks, order, partitions=partitions, seed=seed, duplicates=duplicates)
        assert held == {"card": "alice", "iban": "alice"}, order
