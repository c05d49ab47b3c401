"""Tester29 F4: a master record's replaced phone, given by the next export to a new customer, is the new customer's.

A core-banking export (``AccountOpened`` lines keyed by account and customer number): night 1 gives Jorge (``C-100005``)
the mobile M1; night 2 his own line carries M2 instead (``1 changed``: the same key, a newer revision); night 3 a new
customer, Elena (``C-100006``), has M1; then a call from M1 with nothing from the IVR. The system of record's newer
line is the newer fact: once Jorge's own line no longer gives M1 and Elena's line gives it, M1 is Elena's and the call
is hers (``recycle.py``: a line that stops giving an identifier ends its gift as a closure of its account does,
``record_lines.py``). The kind: a mobile, an e-mail and a landline; the customer-master path (a customer number) and
the billing-line path (an account and its holder's name); every arrival order of the four steps on 1 and 3 partitions;
a call between nights 2 and 3 (Jorge's still: the number is his until a record gives it to another); a caller's
claim alone never takes it from the record's holder; an operator's release; a dated revision of the line above an
undated one (``undated``, as the screen pop ranks them).
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest

from adapters.call_center.mapper_ctr import map_ctr
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.legacy.revisions import Revision, content_digest, next_revision
from bus.serde import Event
from processors.identity.graph.messages.commands import ReleaseIdentifier
from processors.identity.graph.outputs import Send
from processors.identity.graph.state import IdentifierState
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.processors.identity.graph.test_number_recycling import placed, run
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it

OBSERVED, BUSINESS, CONTACTS = "identity.observed.v1", "business.events.v1", "contact.events.v1"
Items = list[tuple[Event, str]]
NIGHTS = {1: datetime(2026, 11, 3, 2, tzinfo=UTC), 2: datetime(2026, 11, 4, 2, tzinfo=UTC),
          3: datetime(2026, 11, 5, 2, tzinfo=UTC)}
CALL_AT = datetime(2026, 11, 5, 10, tzinfo=UTC)
PEOPLE = {
    "jorge": {"account_number": "CC-100005", "customer_id": "C-100005", "given_name": "Jorge",
              "family_name": "Ruiz Gil", "birth_date": "1971-04-09", "email": "jorge.ruiz@example.es"},
    "elena": {"account_number": "CC-100006", "customer_id": "C-100006", "given_name": "Elena",
              "family_name": "Marin Sanz", "birth_date": "1993-10-22", "email": "elena.marin@example.es"},
}
# The recycled identifier of each kind: (field, first value, Jorge's replacement, the value identity keys it by)
KINDS = {
    "mobile": ("phone", "612 345 010", "612 345 011", ("PHONE", "+34612345010")),
    "email": ("email", "jmr@correo.example.es", "jorge.r@correo.example.es", ("EMAIL", "jmr@correo.example.es")),
    "landline": ("phone", "913 450 010", "913 450 011", ("PHONE", "+34913450010")),
}


class Export:
    """The customer-master export, as ``import-batch`` publishes it: a line's key is its account and customer number
    (``master``) or its account alone (the billing-line path: no customer number, the holder's name); a changed line
    is a newer revision of its key (``adapters.legacy.revisions``)."""

    def __init__(self, kind: str, master: bool = True) -> None:
        self.field, self.first, self.second, self.key = KINDS[kind]
        self.master = master
        self.revisions: dict[str, Revision] = {}

    def line(self, person: str, value: str, night: int, *, undated: bool = False,
             at: datetime | None = None) -> Items:
        fields = {**PEOPLE[person], "account_type": "current", "service_tier": "estandar"}
        if self.field == "email":  # each keeps a mobile of their own beside the recycled address
            fields["phone"] = {"jorge": "612 000 005", "elena": "612 000 006"}[person]
        fields[self.field] = value
        if not self.master:
            del fields["customer_id"]
        key = f"batch:core:key-{person}"
        revision = next_revision(key, content_digest(fields), self.revisions.get(key)).revision
        self.revisions[key] = revision
        mapped = map_business(BusinessRecord("AccountOpened", fields, revision.line_id, at or NIGHTS[night],
                                             undated=undated),
                              LegacyContext("core-banking", BUSINESS, identity_topic=OBSERVED, phone_region="ES"))
        return [(out.event, out.topic) for out in mapped.events]

    def blocks(self) -> dict[str, Items]:
        """Jorge's line (night 1), his changed line (night 2), Elena's line (night 3), the call from the number."""
        return {"jorge-1": self.line("jorge", self.first, 1), "jorge-2": self.line("jorge", self.second, 2),
                "elena-3": self.line("elena", self.first, 3), "call": call(self.key, "ctr-elena-0001", CALL_AT)}


def call(key: tuple[str, str], contact_id: str, at: datetime, traits: dict[str, str] | None = None) -> Items:
    """A Connect CTR from the number (nothing from the IVR, or ``traits``) at ``at``; for an e-mail (no call comes
    from one) a CTR from a number nobody's line gave, which only keeps the four steps' orders: the e-mail's kind is
    shown by its owner."""
    address = key[1] if key[0] == "PHONE" else "+34612000099"
    record = ctr(ContactId=contact_id, CustomerEndpoint={"Address": address, "Type": "TELEPHONE_NUMBER"},
                 Attributes=traits or {})
    native = json.loads(json.dumps(record).replace("2024-03-05T09:", at.strftime("%Y-%m-%dT%H:")))
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for out in map_ctr(native, context()).events]


def holder(h: Harness, person: str) -> str:
    return root(h, h.customer("ACCOUNT", PEOPLE[person]["account_number"]) or "")


def owner(h: Harness, key: tuple[str, str]) -> str:
    node = h.local.store.nodes.get(h.key(*key))
    assert isinstance(node, IdentifierState)
    return root(h, node.owner or "")


def on(h: Harness, items: Items) -> set[str]:
    """Where the contact events of ``items`` are now, by person."""
    people = {holder(h, person): person for person in PEOPLE}
    return {people.get(customer, customer) for customer in placed(h, items)}


def check(h: Harness, export: Export, blocks: dict[str, Items], context_: object) -> None:
    """The number Elena's, the call hers; Jorge keeps his account, his new number, his customer number."""
    jorge, elena = holder(h, "jorge"), holder(h, "elena")
    assert jorge and elena and jorge != elena, context_
    assert owner(h, export.key) == elena, context_
    kind, _ = export.key
    assert root(h, h.customer(kind, _spelled(export, export.second)) or "") == jorge, context_
    if export.master:
        assert root(h, h.customer("CUSTOMER_NUMBER", PEOPLE["jorge"]["customer_id"]) or "") == jorge, context_
    if export.key[0] == "PHONE":
        assert on(h, blocks["call"]) == {"elena"}, context_


def _spelled(export: Export, value: str) -> str:
    if export.key[0] == "EMAIL":
        return value
    return "+34" + value.replace(" ", "")


def test_the_sample_jorges_replaced_mobile_is_elenas_and_so_is_the_call() -> None:
    """F4 as reported: night 1, night 2 (``1 changed``), night 3, the call: Elena's screen pop, not Jorge's."""
    export = Export("mobile")
    blocks = export.blocks()
    check(run([item for block in blocks.values() for item in block]), export, blocks, "sample")


STEPS = ("jorge-1", "jorge-2", "elena-3", "call")
ORDERS = list(itertools.permutations(STEPS))
CASES = [("mobile", True), ("email", True), ("landline", True), ("mobile", False), ("email", False)]


@pytest.mark.parametrize("partitions", [1, 3])
@pytest.mark.parametrize(("kind", "master"), CASES, ids=[f"{k}-{'master' if m else 'billing'}" for k, m in CASES])
def test_every_arrival_order_gives_the_replaced_identifier_to_the_newer_line(
        kind: str, master: bool, partitions: int) -> None:
    """The 24 arrival orders of the four steps (their instants stay), settled on 1 partition, and on 3 with the
    steps interleaved and at-least-once copies (the running processor's way)."""
    export = Export(kind, master)
    blocks = export.blocks()
    for number, order in enumerate(ORDERS):
        items = [item for name in order for item in blocks[name]]
        h = run(items) if partitions == 1 else run(items, partitions=3, seed=number)
        check(h, export, blocks, (kind, master, order))


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_call_between_the_change_and_the_new_line_stays_jorges(order: tuple[int, ...]) -> None:
    """A call from M1 after night 2 and before night 3: no record gave M1 to anyone else yet, so it is still Jorge's
    (his number until the system of record gives it to another, as a closed account's is), and stays on his history
    when night 3 then gives M1 to Elena; a call after night 3 is Elena's."""
    export = Export("mobile")
    between = call(export.key, "ctr-between", datetime(2026, 11, 4, 10, tzinfo=UTC))
    parts = [export.line("jorge", export.first, 1), export.line("jorge", export.second, 2), between]
    h = run([item for index in order for item in parts[index]])
    assert owner(h, export.key) == holder(h, "jorge"), order
    assert on(h, between) == {"jorge"}, order
    elena, after = export.line("elena", export.first, 3), call(export.key, "ctr-after", CALL_AT)
    h = run([*(item for index in order for item in parts[index]), *elena, *after])
    assert owner(h, export.key) == holder(h, "elena"), order
    assert on(h, between) == {"jorge"}, order
    assert on(h, after) == {"elena"}, order


def test_a_line_unchanged_keeps_the_number_with_the_earliest_line() -> None:
    """Elena's line gives M1 while Jorge's line still gives it (no revision dropped it): one number on two customers'
    lines, the earliest keeps it as before (``master.py`` lapses, the earliest event decides)."""
    export = Export("mobile")
    h = run([*export.line("jorge", export.first, 1), *export.line("elena", export.first, 3)])
    assert owner(h, export.key) == holder(h, "jorge")


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_jorges_own_named_call_does_not_take_the_number_back(order: tuple[int, ...]) -> None:
    """Once the records gave M1 to Elena, a call from it whose caller told the IVR Jorge's name and birth date claims
    nothing: the records decide whose the number is, not a caller's claim."""
    export = Export("mobile")
    traits = {"firstName": "Jorge", "lastName": "Ruiz Gil", "dateOfBirth": "1971-04-09"}
    parts = [export.line("jorge", export.first, 1), export.line("jorge", export.second, 2),
             export.line("elena", export.first, 3), call(export.key, "ctr-jorge-named", CALL_AT, traits)]
    h = run([item for index in order for item in parts[index]])
    assert owner(h, export.key) == holder(h, "elena"), order


def release(h: Harness, customer: str, key: tuple[str, str], at: datetime) -> None:
    h.local.submit([Send(customer, ReleaseIdentifier(h.key(*key), "ops-1", "number replaced", "cmd-release-f4",
                                                     int(at.timestamp() * 1e6)))])
    h.local.run()
    h.local.check_consistent()


def test_the_testers_release_after_the_three_nights_leaves_the_number_with_elena() -> None:
    """The tester's remedy (``identity release PHONE M1 --customer <Jorge>``) after the three nights and the call: M1
    is already Elena's, so it stays hers (Jorge no longer holds it) and the call stays on her history."""
    export = Export("mobile")
    blocks = export.blocks()
    h = run([item for block in blocks.values() for item in block])
    release(h, holder(h, "jorge"), export.key, datetime(2026, 11, 5, 12, tzinfo=UTC))
    assert owner(h, export.key) == holder(h, "elena")
    assert on(h, blocks["call"]) == {"elena"}


def test_a_number_released_before_the_next_line_names_it_goes_to_that_lines_customer() -> None:
    """Released from Jorge after night 1 (the old advice), then Elena's line names it on night 3: Elena's."""
    export = Export("mobile")
    h = run(export.line("jorge", export.first, 1))
    release(h, holder(h, "jorge"), export.key, datetime(2026, 11, 4, 12, tzinfo=UTC))
    for event, topic in export.line("elena", export.first, 3):
        h.feed(event, topic)
    h.local.run()
    assert owner(h, export.key) == holder(h, "elena")


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_dated_revision_of_the_line_outranks_an_undated_one(order: tuple[int, ...]) -> None:
    """Jorge's line exported without a date (stamped 05/11 02:00, the file's time) with M1, then the same key from a
    layout that dates its lines (a last-changed column: 04/11) with M2: the dated revision is the newer fact whatever
    the instants (``undated``, as the screen pop ranks them), so Jorge's line no longer gives M1 and Elena's line
    (05/11 03:00) takes it, in every order."""
    export = Export("mobile")
    parts = [export.line("jorge", export.first, 3, undated=True),
             export.line("jorge", export.second, 2),
             export.line("elena", export.first, 3, at=datetime(2026, 11, 5, 3, tzinfo=UTC))]
    h = run([item for index in order for item in parts[index]])
    assert owner(h, export.key) == holder(h, "elena"), order
    assert root(h, h.customer("PHONE", "+34612345011") or "") == holder(h, "jorge"), order


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_the_change_and_the_new_line_in_one_export_give_the_number_to_the_new_line(order: tuple[int, ...]) -> None:
    """Night 2's export carries both Jorge's changed line and Elena's new line, stamped with the one file time (an
    export without ``occurred_at``): at that instant Jorge's line no longer gives M1 and Elena's does, so it is hers."""
    export = Export("mobile")
    parts = [export.line("jorge", export.first, 1, undated=True), export.line("jorge", export.second, 2, undated=True),
             export.line("elena", export.first, 2, undated=True)]
    h = run([item for index in order for item in parts[index]])
    assert owner(h, export.key) == holder(h, "elena"), order


def closure(person: str, at: datetime, *, undated: bool) -> Items:
    """``AccountClosed`` of ``person``'s account (a closures export: dated, or stamped with the file's time)."""
    mapped = map_business(BusinessRecord("AccountClosed", {"account_number": PEOPLE[person]["account_number"],
                                                           "reason": "cierre"},
                                         f"batch:closed:key-{person}", at, undated=undated),
                          LegacyContext("core-banking", BUSINESS, identity_topic=OBSERVED, phone_region="ES"))
    return [(out.event, out.topic) for out in mapped.events]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_an_undated_closure_does_not_close_an_account_whose_record_was_dated(order: tuple[int, ...]) -> None:
    """Jorge's account line dated 03/11 (a layout with ``occurred_at``), an undated closures export stamped 04/11 (the
    file's time), Elena's line with M1 on 05/11: the dated record outranks the undated closure (the screen pop keeps
    the account OPEN, docs/legacy-batch.md), so nothing is recycled and M1 stays Jorge's, in every order."""
    export = Export("mobile")
    parts = [export.line("jorge", export.first, 1), closure("jorge", NIGHTS[2], undated=True),
             export.line("elena", export.first, 3)]
    h = run([item for index in order for item in parts[index]])
    assert owner(h, export.key) == holder(h, "jorge"), order


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_dated_closure_of_an_account_an_undated_export_opened_recycles(order: tuple[int, ...]) -> None:
    """The other way round: Jorge's line from an undated export, his account's dated closure, Elena's line: closed,
    M1 Elena's, in every order."""
    export = Export("mobile")
    parts = [export.line("jorge", export.first, 1, undated=True), closure("jorge", NIGHTS[2], undated=False),
             export.line("elena", export.first, 3, undated=True)]
    h = run([item for index in order for item in parts[index]])
    assert owner(h, export.key) == holder(h, "elena"), order
