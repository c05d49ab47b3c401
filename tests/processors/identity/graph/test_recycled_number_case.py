"""A recycled number's previous holder keeps his open case on his screen pop; the new subscriber never sees it.

Claire's line gives her the mobile; during her call from it a back-office case is opened (its ``HandoffCreated`` and
the tracker's status events name only the mobile); billing closes her contract and the next export gives the number
to Nina. The recycle moves the number to Nina (``graph/recycle.py``), Claire keeps the call (her history), and the
case must stay with it: before, its ``open_handoffs`` entry followed the number it came through (``ProfileBook.split``)
and Nina's screen pop showed Claire's complaint, with its summary, for good (the tracker's next event, naming Claire
by another address, never reached Nina's pop to take it off). Two reasons keep it now, each tested alone:
the tracker named the case's customer (``customer_id``: the entry is marked ``TOLD``, it stays at a claim) and the
case was opened before the new subscriber's record gave the number (``OpenHandoffsSection.before``).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from processors.identity.graph.outputs import Resolved
from tests.processors.handoffs.factories import acknowledged, created
from tests.processors.handoffs.test_profile_section import status_events
from tests.processors.identity.graph.test_handoff_moves import HANDOFFS, handoffs
from tests.processors.identity.graph.test_number_recycling import (
    DAY,
    MOBILE,
    PEOPLE,
    call,
    closed,
    holder,
    line,
    placed,
)
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, ident, matcher_settings

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it

CASE = "h-roaming-charge"
claires_call = call("CALL-C", 2)  # Claire's call from the mobile, during which the case is opened


def opened(hour: int, minute: int = 30):
    """The case opened during Claire's call ``CALL-C`` (its ``HandoffCreated``) and the tracker's status events of its
    creation and acknowledgement, each naming the mobile alone."""
    at = DAY.replace(hour=hour, minute=minute)
    creation = created(CASE, at, identifiers=[ident("PHONE", MOBILE)], case_type="roaming-dispute")
    creation.value["origin_interaction_id"] = "CALL-C"
    return creation, status_events(creation, acknowledged(CASE, at + timedelta(minutes=5)))


def claires_case(naming: bool, case_hour: int) -> tuple[Harness, str]:
    h = Harness(matcher_settings())
    for event, topic in [*line("claire", 1), *claires_call]:
        h.feed(event, topic)
    claire = holder(h, "claire")
    creation, statuses = opened(case_hour)
    h.feed(creation, HANDOFFS)
    for status in statuses:
        if naming:  # the tracker read identity's placement of the case: it names Claire's customer
            status.value["customer_id"] = claire
        h.feed(status, HANDOFFS)
    assert handoffs(h, claire) == [CASE]
    return h, claire


@pytest.mark.parametrize("order", list(itertools.permutations(("closed", "nina"))))
@pytest.mark.parametrize(("naming", "case_hour"), [(True, 2), (True, 7), (False, 2)],
                         ids=["named-opened-before", "named-opened-after", "unnamed-opened-before"])
def test_the_new_subscriber_never_gets_the_previous_holders_case(naming: bool, case_hour: int,
                                                                 order: tuple[str, ...]) -> None:
    h, claire = claires_case(naming, case_hour)
    parts = {"closed": closed(PEOPLE["claire"]["account_number"], 3), "nina": line("nina", 5)}
    for part in order:
        for event, topic in parts[part]:
            h.feed(event, topic)
    nina = holder(h, "nina")
    assert root(h, h.customer("PHONE", MOBILE) or "") == nina  # the number moved (recycle.py)
    assert nina != root(h, claire)
    assert handoffs(h, nina) == []
    assert handoffs(h, root(h, claire)) == [CASE]
    assert placed(h, claires_call) == {root(h, claire)}
    h.local.check_consistent()


def test_a_case_opened_on_the_number_after_it_moved_and_naming_nobody_follows_the_number() -> None:
    """The rule's other side: a case the number's new subscriber opens is his, though it came through the number."""
    h, claire = claires_case(True, 2)
    for event, topic in [*closed(PEOPLE["claire"]["account_number"], 3), *line("nina", 5)]:
        h.feed(event, topic)
    nina = holder(h, "nina")
    creation = created("h-nina", DAY.replace(hour=8), identifiers=[ident("PHONE", MOBILE)])
    for status in status_events(creation):
        h.feed(status, HANDOFFS)
    assert handoffs(h, nina) == ["h-nina"]
    assert handoffs(h, root(h, claire)) == [CASE]


def _resolved_on(h: Harness, event_id: str) -> str:
    """The customer (root) the latest ``Resolved`` of event ``event_id`` names."""
    return root(h, [r for r in h.decisions(Resolved) if r.triggering_event_id == event_id][-1].customer_id)


@pytest.mark.parametrize("naming", [True, False], ids=["named", "unnamed"])
def test_the_previous_holders_records_arriving_after_the_new_subscribers_take_her_case_back(naming: bool) -> None:
    """The new subscriber's line first, then the previous holder's closure, her call with its case (dated before the
    number moved), her own line last: the call and its case go back to her (``held_before.py``), off his pop."""
    h = Harness(matcher_settings())
    for event, topic in [*line("nina", 5), *closed(PEOPLE["claire"]["account_number"], 3), *claires_call]:
        h.feed(event, topic)
    creation, statuses = opened(2)
    h.feed(creation, HANDOFFS)
    for status in statuses:
        if naming:  # the tracker names the customer identity placed the case on at the time
            status.value["customer_id"] = _resolved_on(h, creation.value["envelope"]["event_id"])
        h.feed(status, HANDOFFS)
    for event, topic in line("claire", 1):
        h.feed(event, topic)
    nina, claire = holder(h, "nina"), holder(h, "claire")
    assert root(h, h.customer("PHONE", MOBILE) or "") == nina
    assert placed(h, claires_call) == {claire}
    assert handoffs(h, nina) == []
    assert handoffs(h, claire) == [CASE]
    h.local.check_consistent()
