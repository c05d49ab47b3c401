"""An operator releases an identifier from a customer that uses it but does not hold it (tester24 F13,
``graph/release.py``: ``on_disown``).

Sophie, calling from her billing mobile, typed Claire's customer number on the keypad; a deployment that reads the
number (``verified_record_attributes``) keeps the mobile with Sophie but counts Claire among its users: the node keeps
the call's evidence (Claire's customer number: a second person) and Claire kept apart through it, and Claire's record
lists the mobile among the identifiers another customer keeps. Both screen pops then say the mobile "is used by 2
people ... ask who is calling". ``omnibus identity release PHONE ... --customer <Claire>`` used to refuse (Claire does
not hold it); it now takes Claire off the mobile's users, and the screen pops say nothing more about it.
"""

from __future__ import annotations

import copy

import pytest

from processors.identity.graph.context import Ctx
from processors.identity.graph.evidence import people_count
from processors.identity.graph.messages.commands import Disown, ReleaseIdentifier
from processors.identity.graph.outputs import Refused, Send, SharedRevoked
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.rules import MANUAL_RELEASE
from processors.identity.web import shared_hint
from tests.processors.identity.graph.test_joint_holders import feed
from tests.processors.identity.graph.test_keypad_customer_number import (
    MOBILES,
    READ_BY_THE_FLOW,
    arrival,
    billing_line,
    sophie_types_claires_number,
    two_customers,
)
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

RELEASED_AT = 1_796_212_800_000_000  # 2026-12-02T13:20Z, epoch µs


def claire_counted_on_sophies_mobile(order: int) -> tuple[Harness, str, str]:
    """F13's state: (harness, Sophie, Claire), the mobile Sophie's and both screen pops calling it shared."""
    h = Harness(settings())
    typed = sophie_types_claires_number(verified_record_attributes=READ_BY_THE_FLOW)
    feed(h, arrival(order, billing_line("sophie", 5), billing_line("claire", 6), typed))
    sophie, claire = two_customers(h)
    assert sophie is not None and claire is not None and sophie != claire
    assert h.customer("PHONE", MOBILES["sophie"]) == sophie
    assert hint(h, sophie) is not None and hint(h, claire) is not None  # the tester's "used by 2 people"
    return h, sophie, claire


def mobile(h: Harness) -> IdentifierState:
    node = h.local.store.nodes[h.key("PHONE", MOBILES["sophie"])]
    assert isinstance(node, IdentifierState)
    return node


def hint(h: Harness, this_customer: str) -> dict[str, object] | None:
    """The screen pop's ``shared_identifier`` for Sophie's mobile on ``this_customer``'s pop (``web.ScreenPop.hint``:
    the keeper, then the customers kept apart; the people its evidence shows)."""
    node = mobile(h)
    people = people_count(Ctx(h.local.graph.config, h.local.store, h.key("PHONE", MOBILES["sophie"]), node,
                              IdentifierState()))
    customers = [node.owner, *[other for other in node.kept_apart if other != node.owner]] if node.owner else []
    return shared_hint("PHONE", "+33*****4455", shared=node.shared, people=people, customer_ids=customers,
                       kept_by=node.owner, this_customer=this_customer)


def release(h: Harness, customer: str, token: str = "cmd-release-claire") -> None:
    """``omnibus identity release PHONE +33622334455 --customer <customer> --by ops-tester``."""
    h.local.submit([Send(customer, ReleaseIdentifier(h.key("PHONE", MOBILES["sophie"]), "ops-tester",
                                                     "keypad typo", token, RELEASED_AT))])
    h.local.run()


@pytest.mark.parametrize("order", range(6))
def test_f13_releasing_the_mobile_from_claire_takes_her_off_its_users(order: int) -> None:
    """The tester's case in every arrival order: Claire is off the mobile's users, her record no longer lists it, the
    mobile stays Sophie's, and neither screen pop calls it shared."""
    h, sophie, claire = claire_counted_on_sophies_mobile(order)
    release(h, claire)
    node, claire_node = mobile(h), h.local.store.nodes[claire]
    assert isinstance(claire_node, CustomerState)
    assert claire not in node.kept_apart
    assert all("CUSTOMER_NUMBER:C-770006" not in person.ids for person in node.people)
    assert h.key("PHONE", MOBILES["sophie"]) not in claire_node.elsewhere
    assert h.customer("PHONE", MOBILES["sophie"]) == sophie
    assert hint(h, sophie) is None and hint(h, claire) is None
    assert two_customers(h) == (sophie, claire)
    h.local.check_consistent()


def test_the_release_is_announced_with_the_operator_and_releases_nothing() -> None:
    """``LinkRefused`` rule ``manual-release`` names Claire and the operator, without ``evicted``: the mobile still
    belongs to Sophie (a recomputation replays only evicting releases, ``replay/releases.py``)."""
    h, _, claire = claire_counted_on_sophies_mobile(0)
    release(h, claire)
    (refused,) = [d for d in h.decisions(Refused) if d.lineage.triggering_event_id == "cmd-release-claire"]
    assert refused.lineage.rule == MANUAL_RELEASE and refused.customer_id == claire
    assert refused.operator == "ops-tester" and not refused.evicted
    assert "no longer counted among its users" in refused.reason


def test_a_copy_or_a_second_command_changes_nothing() -> None:
    h, _, claire = claire_counted_on_sophies_mobile(0)
    release(h, claire)
    nodes = copy.deepcopy(h.local.store.nodes)
    release(h, claire)  # redelivered: its step token is remembered
    release(h, claire, token="cmd-release-again")
    assert h.local.store.nodes.keys() == nodes.keys()
    before = nodes[h.key("PHONE", MOBILES["sophie"])]
    assert isinstance(before, IdentifierState)
    after = mobile(h)  # (its dedupe window remembers the second command's token)
    assert (after.owner, after.version, after.people, after.kept_apart, after.shared) == \
        (before.owner, before.version, before.people, before.kept_apart, before.shared)
    (again,) = [d for d in h.decisions(Refused) if d.lineage.triggering_event_id == "cmd-release-again"]
    assert not again.evicted and again.reason.startswith("not released")


def test_a_flag_the_forgotten_evidence_no_longer_supports_is_revoked() -> None:
    """A mobile made shared by its evidence (here by hand: a deployment with ``shared_after`` 1) links again once the
    operator takes the second person off it: ``SharedRevoked``, like any flag its evidence no longer supports."""
    h, sophie, claire = claire_counted_on_sophies_mobile(0)
    mobile(h).shared = True
    release(h, claire)
    assert not mobile(h).shared
    assert [d.identifier for d in h.decisions(SharedRevoked)] == [h.key("PHONE", MOBILES["sophie"])]
    assert hint(h, sophie) is None


def test_a_redelivered_disown_announces_nothing_under_the_id_of_the_change() -> None:
    """The graph topic may deliver the node's message twice: the copy finds nothing left to change, and announces
    nothing (a "not released" under the change's announcement id would contradict it)."""
    h, _, claire = claire_counted_on_sophies_mobile(0)
    release(h, claire)
    seen = len(h.local.decisions)
    copy_ = Disown(claire, ["CUSTOMER_NUMBER:C-770006"], "ops-tester", "keypad typo", "cmd-release-claire")
    h.local.submit([Send(h.key("PHONE", MOBILES["sophie"]), copy_)])
    h.local.run()
    assert h.local.decisions[seen:] == []
