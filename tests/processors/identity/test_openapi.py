"""The screen pop's contract (tester12 M3): ``/openapi.json`` declares every field the views return.

The answers here are built by the real view code (``ScreenPop.lookup`` and ``profile``) from a profile fed real
events of every section, nodes served from memory instead of the workers (the HTTP path itself is validated
against the same schema in ``test_web.py``)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from bus.serde import Event
from processors.identity.normalize import Identifier
from processors.identity.openapi import OPENAPI, openapi, schema_of
from processors.identity.rules import LinkPolicy
from processors.identity.web import ScreenPop
from processors.profile.book import ProfileBook
from processors.profile.limits import ProfileLimits
from processors.profile.registry import SECTIONS
from processors.profile.shapes import closed
from tests.processors.identity.support import envelope, ident, interaction, observed, product_subscribed, settings
from tests.processors.profile.test_limits import handoff, offer

CUSTOMER, OTHER, MERGED = "cus_a", "cus_b", "cus_old"
PHONE, EMAIL = "PHONE:+33612345678", "EMAIL:ann@example.org"


def every_section_fed() -> dict[str, Any]:
    """A profile whose every section holds entries with every optional field set (and some null)."""
    from adapters.call_center import mapper_ctr
    from tests.adapters.call_center.support import context, sample

    named = observed([ident("EMAIL", "ann@example.org")], minutes=3)
    named.value["traits"] = {"given_name": "Ann", "family_name": "Lee"}
    events = [
        named, product_subscribed("ACC-1", minutes=1), handoff(1), offer(2, priority=3),
        interaction([("PHONE", "+33612345678")], minutes=4),
        Event("omnibus.business.AccountOpened", {
            "envelope": envelope("BUSINESS_SYSTEM", minutes=1), "account_number": "ACC-1", "account_type": "CURRENT",
            "service_tier": "GOLD", "customer_identifiers": []}),
        Event("omnibus.business.OrderStatusChanged", {
            "envelope": envelope("BUSINESS_SYSTEM", minutes=2), "order_id": "O-1", "status": "SHIPPED",
            "product_code": "FIBER-1G", "customer_identifiers": []}),
        Event("omnibus.business.BillIssued", {
            "envelope": envelope("BUSINESS_SYSTEM", minutes=2), "account_number": "ACC-1", "bill_id": "B-1",
            "amount": {"amount_minor": 1999, "currency": "EUR"}, "due_date": dt.date(2025, 2, 1),
            "customer_identifiers": []}),
        Event("omnibus.business.PaymentOverdue", {
            "envelope": envelope("BUSINESS_SYSTEM", minutes=9), "account_number": "ACC-1", "bill_id": "B-1",
            "amount_due": {"amount_minor": 1999, "currency": "EUR"}, "due_date": dt.date(2025, 2, 1),
            "days_overdue": 12, "customer_identifiers": []}),
        *(outgoing.event for outgoing in mapper_ctr.map_ctr(sample("ctr_inbound_answered.json"), context()).events),
        # a closed account and a cancelled product, shown with closed_at (F2)
        Event("omnibus.business.AccountClosed", {
            "envelope": envelope("BUSINESS_SYSTEM", minutes=5), "account_number": "ACC-2", "customer_identifiers": [],
            "reason": None, "traits_event_id": None}),
        product_subscribed("ACC-1", product="TV-BASIC", minutes=1),
        Event("omnibus.business.ProductCancelled", {
            "envelope": envelope("BUSINESS_SYSTEM", minutes=6), "account_number": "ACC-1", "customer_identifiers": [],
            "subscription_id": "sub-TV-BASIC", "product_code": "TV-BASIC", "reason": None, "effective_at": None}),
        # a stolen card replaced by a new one (tester29 F3)
        Event("omnibus.business.CardStatusChanged", {
            "envelope": envelope("BUSINESS_SYSTEM", minutes=7), "card": ident("CARD", "card1:old"),
            "status": "REPLACED", "reason": "stolen", "replaced_by": ident("CARD", "card1:new"),
            "account_number": "ACC-1", "customer_identifiers": [], "source_status": "reissued"}),
    ]
    book, profile = ProfileBook.from_registry(ProfileLimits()), None
    for event in events:
        profile = book.apply(profile, event)
    rendered = book.render(profile)
    assert all(rendered[section.name] for section in SECTIONS), rendered  # every section has something to show
    return profile or {}


class MemoryScreenPop(ScreenPop):
    """The view code over nodes held here, as ``local`` answers them (no workers, no routing)."""

    def __init__(self, nodes: dict[str, dict[str, Any]]) -> None:
        self.nodes = nodes
        self.processor = SimpleNamespace(book=ProfileBook.from_registry(ProfileLimits()),
                                         graph=SimpleNamespace(policy=LinkPolicy(settings())))

    async def fetch(self, key: str) -> dict[str, Any]:
        return self.nodes.get(key, {"node": {}, "profile": None})


def household() -> MemoryScreenPop:
    """Customer A keeps a phone customer B's events carried too (a household), and absorbed ``cus_old``; an operator
    split B off A."""
    return MemoryScreenPop({
        CUSTOMER: {"node": {"created": True, "members": {PHONE: 1, EMAIL: 1}, "aliases": [MERGED],
                            "do_not_merge": [OTHER]}, "profile": every_section_fed()},
        MERGED: {"node": {"created": True, "parent": CUSTOMER}, "profile": None},
        OTHER: {"node": {"created": True, "members": {}}, "profile": None},
        PHONE: {"node": {"owner": CUSTOMER, "kept_apart": [OTHER]}, "people": 2},
        EMAIL: {"node": {"owner": CUSTOMER}, "people": 1},
    })


def validate(answer: Any, component: str = "Customer", document: dict[str, Any] = OPENAPI) -> None:
    jsonschema.Draft202012Validator(schema_of(component, document)).validate(answer)


async def test_a_lookup_answer_with_every_field_set_is_described_by_the_published_schema() -> None:
    answer = await household().lookup(Identifier.from_key(PHONE))
    assert answer is not None and answer["shared_identifier"] is not None
    validate(answer)


async def test_an_answer_by_a_merged_id_and_a_customer_with_nothing_yet_are_described_too() -> None:
    screen_pop = household()
    by_merged_id = await screen_pop.profile(MERGED)
    assert by_merged_id is not None and by_merged_id["resolved_note"]
    validate(by_merged_id)
    empty = await screen_pop.profile(OTHER)
    validate(empty)


async def test_a_field_the_schema_does_not_declare_fails_validation() -> None:
    """The schema is closed: the check above would catch a field added to the view and not to the contract."""
    answer = await household().lookup(Identifier.from_key(PHONE))
    assert answer is not None
    answer["recent_contacts"][0]["undeclared"] = 1
    with pytest.raises(jsonschema.ValidationError, match="undeclared"):
        validate(answer)


def test_every_section_declares_its_shape_and_the_document_is_valid_openapi() -> None:
    assert all(section.render_schema for section in SECTIONS), [s.name for s in SECTIONS if not s.render_schema]
    jsonschema.Draft202012Validator.check_schema(schema_of("Customer"))
    paths = OPENAPI["paths"]
    assert {"/customers/lookup", "/customers/{customer_id}"} <= set(paths)
    assert OPENAPI["openapi"].startswith("3.1")


def test_a_section_of_a_composition_is_in_the_document_its_worker_serves() -> None:
    class Extra:
        name = "loyalty"
        render_schema = closed({"points": {"type": "integer"}})

    document = openapi([*SECTIONS, Extra])  # type: ignore[list-item]
    assert "loyalty" in document["components"]["schemas"]["Customer"]["properties"]


def test_error_answers_are_described() -> None:
    validate({"error": "no customer has this identifier"}, "Error")
    validate({"error": "bad", "rule": "phone.invalid"}, "Error")
    validate({"error": "partition assignment not known yet", "code": "unavailable"}, "Error")


def test_the_cli_prints_the_document_the_workers_serve() -> None:
    import json

    from typer.testing import CliRunner

    from processors.identity.cli import app

    result = CliRunner().invoke(app, ["openapi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(OPENAPI))


def test_schemathesis_reads_every_operation_of_the_document() -> None:
    """The adapters' fuzzers read their documents with schemathesis; this one must load the same way."""
    import schemathesis

    labels = [result.ok().label for result in schemathesis.openapi.from_dict(OPENAPI).get_all_operations()]
    assert {"GET /customers/lookup", "GET /customers/{customer_id}"} <= set(labels)
