"""Tester28 F5: a caller who gives only a meter point number reaches the holder of that place's contract.

Billing's exports give Claire Morel (``EA-00200001``) the flat's meter point (PRM ``14500000000003``) on her account
line and her product line (the tester's ``ProductSubscribed`` layout, ``meter_point_id: {column: PRM}``). A caller with
the number withheld gives the meter point at the IVR (``Attributes.meter_point_id``) and the agent opens a move-out
handoff: the call, its IVR record and the handoff land on Claire, and so does the tracker's later status event (it
was dead-lettered, identity's ``NoIdentifier``). A supply point outlives its tenant: once Claire's account closed,
Daniel's contract for the flat takes it (the recycled-number rule of a landline, ``recycle.py``), and the two tenants
stay two customers; Claire's meter-only call before stays hers, one after is Daniel's. A new tenant who calls with
his mobile and the flat's meter point before his contract is exported only claims the place: his mobile is his once
his line comes, never glued to the old tenant's customer.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta

import pytest

from adapters.call_center.mapper_ctr import map_ctr
from processors.identity.graph.state import IdentifierState
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.processors.handoffs.factories import acknowledged
from tests.processors.handoffs.test_profile_section import status_events
from tests.processors.identity.graph.test_number_recycling import run
from tests.processors.identity.graph.test_recycled_tenant import (
    HANDOFFS,
    IVR_STAYS,
    PEOPLE,
    STEPS,
    TIMINGS,
    Item,
    Timing,
    _id,
    _legacy,
    _topic,
    closure,
    holder,
    placed,
)
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it

PRM = "14500000000003"
MOBILES = {"claire": ("06 11 22 33 01", "+33611223301"), "daniel": ("06 11 22 33 02", "+33611223302")}


def line(person: str, at: datetime) -> list[Item]:
    """``person``'s accounts-export line (``AccountOpened``, her own mobile) and products-export line
    (``ProductSubscribed`` with the flat's meter point, the tester's layout)."""
    account, number, given, family, born = PEOPLE[person]
    fields = {"account_number": account, "customer_id": number, "given_name": given, "family_name": family,
              "birth_date": born, "phone": MOBILES[person][0], "email": f"{given.lower()}.{family.lower()}@example.fr",
              "account_type": "residential", "service_tier": "standard", "meter_point_id": PRM}
    product = {"account_number": account, "subscription_id": f"SUB-{account}", "product_code": "ELEC-BASE",
               "meter_point_id": "145 000 000 000 03"}
    return [*_legacy("AccountOpened", fields, f"batch:accounts:{account}", at),
            *_legacy("ProductSubscribed", product, f"batch:products:{account}", at + timedelta(minutes=1))]


def meter_call(at: datetime, contact: str = "ctr-meter", caller: str | None = None) -> list[Item]:
    """A CTR that gives the meter point at the IVR (``Attributes.meter_point_id``) and opens a move-out handoff: the
    number withheld, or ``caller``'s."""
    endpoint = {"Address": caller or "anonymous", "Type": "TELEPHONE_NUMBER"}
    attributes = {"meter_point_id": PRM, "omnibus_handoff_kind": "move-out",
                  "omnibus_handoff_summary": "Tenant leaving, final meter reading"}
    record = ctr(ContactId=contact, CustomerEndpoint=endpoint, Attributes=attributes)
    native = json.loads(json.dumps(record).replace("2024-03-05T09:", at.strftime("%Y-%m-%dT%H:")))
    return [(o.event, _topic(o.event, o.topic)) for o in map_ctr(native, context()).events]


def steps(timing: Timing) -> dict[str, list[Item]]:
    return {"claire-line": line("claire", timing.claire), "contact": meter_call(timing.contact),
            "closure": closure(timing), "daniel-line": line("daniel", timing.daniel)}


def meter_owner(h: Harness) -> str:
    node = h.local.store.nodes[h.key("SUPPLY_POINT", PRM)]
    assert isinstance(node, IdentifierState) and node.owner is not None
    return root(h, node.owner)


def tracker_status(h: Harness, contact: list[Item], at: datetime) -> list[Item]:
    """The tracker's ``HandoffStatusChanged`` of the acknowledgement of ``contact``'s handoff at ``at``, fed."""
    (opened,) = [event for event, _ in contact if event.schema.endswith("HandoffCreated")]
    status = status_events(opened, acknowledged(opened.value["handoff_id"], at))
    for event in status:
        h.feed(event, HANDOFFS)
    h.local.run()
    return [(event, HANDOFFS) for event in status]


def test_the_sample_a_meter_only_caller_and_his_handoff_reach_the_holder() -> None:
    """F5 as reported: a withheld number, the meter point at the IVR, a handoff: every event on the meter point's
    holder, the tracker's status event too (it was dead-lettered: no identifier)."""
    timing = TIMINGS["ordered"]
    parts = {"claire-line": line("claire", timing.claire), "contact": meter_call(timing.contact)}
    h = run([item for block in parts.values() for item in block])
    assert meter_owner(h) == holder(h, "claire")
    schemas = {event.schema.rsplit(".", 1)[1] for event, _ in parts["contact"]}
    assert {"CallCompleted", "HandoffCreated", "IdentifiersObserved"} <= schemas
    assert placed(h, parts["contact"]) == dict.fromkeys(schemas, "claire")
    status = tracker_status(h, parts["contact"], timing.contact + timedelta(hours=2))
    assert set(placed(h, status).values()) == {"claire"}


def check(h: Harness, contact: list[Item], context_: object) -> None:
    """Two customers; the meter point Daniel's; Claire's meter-only call and its handoff on Claire."""
    claire, daniel = holder(h, "claire"), holder(h, "daniel")
    assert claire and daniel and claire != daniel, context_
    assert meter_owner(h) == daniel, context_
    for person in ("claire", "daniel"):
        assert root(h, h.customer("PHONE", MOBILES[person][1]) or "") == holder(h, person), context_
    where = placed(h, contact)
    assert set(where) == {event.schema.rsplit(".", 1)[1] for event, _ in contact}, context_
    assert set(where.values()) == {"claire"}, (context_, where)


def test_the_old_tenants_meter_only_call_stays_hers_when_the_new_tenant_takes_the_meter_point() -> None:
    """Claire's line, her meter-only call with a move-out handoff, her closure, Daniel's line for the same flat."""
    parts = steps(TIMINGS["tester"])
    check(run([item for name in STEPS for item in parts[name]]), parts["contact"], "sample")


def _orders() -> list[object]:
    # The landline's known limit (test_recycled_tenant.IVR_STAYS): Claire's line came after the meter point went to
    # Daniel and her call was applied before her line; held_before.py moves the call and its handoff back to her, but
    # the call's IVR record (recorded on no customer) stays where it was resolved. The other LATE_LINE orders pass.
    return [pytest.param(order, id=_id(order), marks=pytest.mark.xfail(strict=True, reason=(
        "the meter-only call was resolved on Daniel before Claire's line: its IVR record stays on him")))
        if order in IVR_STAYS else pytest.param(order, id=_id(order)) for order in itertools.permutations(STEPS)]


@pytest.mark.parametrize("timing", list(TIMINGS))
@pytest.mark.parametrize("order", _orders())
def test_every_arrival_order_recycles_the_meter_point_as_a_landline(order: tuple[str, ...], timing: str) -> None:
    parts = steps(TIMINGS[timing])
    check(run([item for name in order for item in parts[name]]), parts["contact"], (order, timing))


def test_a_meter_only_call_after_the_new_tenants_line_reaches_him() -> None:
    timing = TIMINGS["ordered"]
    parts = steps(timing)
    later = meter_call(timing.daniel + timedelta(days=1), contact="ctr-daniel")
    h = run([*(item for name in STEPS for item in parts[name]), *later])
    assert set(placed(h, later).values()) == {"daniel"}
    status = tracker_status(h, later, timing.daniel + timedelta(days=1, hours=2))
    assert set(placed(h, status).values()) == {"daniel"}


def named_call(at: datetime, contact: str, caller: str | None = None) -> list[Item]:
    """Daniel's CTR giving the flat's meter point with his name and birth date at the IVR (``caller``: his mobile)."""
    _, _, given, family, born = PEOPLE["daniel"]
    endpoint = {"Address": caller or "anonymous", "Type": "TELEPHONE_NUMBER"}
    attributes = {"meter_point_id": PRM, "firstName": given, "lastName": family, "dateOfBirth": born}
    record = ctr(ContactId=contact, CustomerEndpoint=endpoint, Attributes=attributes)
    native = json.loads(json.dumps(record).replace("2024-03-05T09:", at.strftime("%Y-%m-%dT%H:")))
    return [(o.event, _topic(o.event, o.topic)) for o in map_ctr(native, context()).events]


@pytest.mark.parametrize("export", ["accounts", "products"])
@pytest.mark.parametrize("caller", [None, MOBILES["daniel"][1]], ids=["withheld", "mobile"])
@pytest.mark.parametrize("first", ["call", "line"])
def test_a_caller_who_gave_the_meter_point_before_the_holders_line_never_takes_it(first: str, caller: str | None,
                                                                                   export: str) -> None:
    """Daniel gives the flat's meter point with his name (a prospective tenant, a neighbour) before billing's line for
    Claire, its holder, is dated, in either arrival order: the record names the place's holder, a caller only claims
    it (``rules.CLAIMED_KINDS``) while the record ranks it by its own time (``rules.household_line``), so the meter
    point is Claire's, and a later meter-only caller reaches her: from the accounts export (a master record, with her
    customer number) and from a products export without one."""
    timing = TIMINGS["ordered"]
    call = named_call(timing.claire - timedelta(days=3), "ctr-early", caller)
    claire = (line if export == "accounts" else account_line)("claire", timing.claire)
    h = run([*call, *claire] if first == "call" else [*claire, *call])
    assert meter_owner(h) == holder(h, "claire"), first
    later = meter_call(timing.contact, contact="ctr-later")
    h2 = run([*(call if first == "call" else claire), *(claire if first == "call" else call), *later])
    assert set(placed(h2, later).values()) == {"claire"}, first


def account_line(person: str, at: datetime) -> list[Item]:
    """``person``'s products line alone (a utility export without customer numbers): the account, her mobile, the
    flat's meter point, her name."""
    account, _, given, family, born = PEOPLE[person]
    fields = {"account_number": account, "subscription_id": f"SUB-{account}", "product_code": "ELEC-BASE",
              "meter_point_id": PRM, "phone": MOBILES[person][0], "given_name": given, "family_name": family,
              "birth_date": born}
    return _legacy("ProductSubscribed", fields, f"batch:products:{account}", at)


@pytest.mark.parametrize("export", ["accounts", "products"])
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_move_in_call_with_the_meter_point_never_glues_the_new_tenant_to_the_old(order: tuple[int, ...],
                                                                                   export: str) -> None:
    """Daniel calls from his mobile with the flat's meter point (moving in: his contract is not exported yet), then
    Claire's closure and Daniel's line come. The meter point is Claire's when he calls, so the call reaches her (the
    place's holder then), but his mobile is only claimed through a number anyone can read off the meter: once his line
    comes it is his, and the two tenants are two customers, in every arrival order of the call, the closure and his
    line (Claire's line first), from the accounts export (a master record, with customer numbers) and from a products
    export without customer numbers (no master record gives Daniel his mobile back: the claim rule alone does)."""
    timing = TIMINGS["ordered"]
    export_line = line if export == "accounts" else account_line
    move_in = meter_call(timing.closed - timedelta(days=2), contact="ctr-move-in", caller=MOBILES["daniel"][1])
    parts = [move_in, closure(timing), export_line("daniel", timing.daniel)]
    h = run([*export_line("claire", timing.claire), *(item for index in order for item in parts[index])])
    claire, daniel = holder(h, "claire"), holder(h, "daniel")
    assert claire and daniel and claire != daniel, order
    assert root(h, h.customer("PHONE", MOBILES["daniel"][1]) or "") == daniel, order
    assert root(h, h.customer("PHONE", MOBILES["claire"][1]) or "") == claire, order
    assert meter_owner(h) == daniel, order
