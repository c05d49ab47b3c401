"""#13: what a paused worker of offers, handoffs or kpis publishes late is harmless to the readers of its outputs.

Those processors have no ``AssignmentFence`` on their outputs (identity has one). A worker paused past the
session timeout can resume and publish outputs of a batch that the new owner of its partitions processes
again. Both derive their outputs from the same input records in the same order, and the outputs' ids are
derived from the decision (offers: UUID v5 of customer, offer, version, channel, action and cause), so the
late copy carries the id of a record already published; what differs is its publish time. Each reader's rule
makes such a copy change nothing, even when it arrives after later decisions and carries a newer time:

* call-center instructions → the screen pop (identity's profile): identity drops an event id it applied
  before (``fast_applied`` on the customer root, ``recent`` on identifier nodes, ``dedupe_window``);
* handoff status events → the screen pop's open handoffs: the highest handoff ``version`` wins;
* KPI partials → the KPI rollup: the highest ``seq`` per source partition wins;
* KPI aggregates → readers and ``omnibus report``: the highest ``revision`` per window wins.

These tests feed each reader the late copy after the newer decision.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bus.config import TopicSettings
from bus.serde import Event
from bus.topics import MARKETING_INSTRUCTIONS_CALL_CENTER
from processors.identity.fastpath import AssignmentView
from processors.kpis.rollup import Rollup
from processors.offers.outputs import Emitter, Instruction
from tests.processors.identity.support import Harness, interaction
from tests.processors.offers.factories import T0, offer

PHONE = ("PHONE", "+8613900000001")


def _instruction(action: str, *, decided: Any, published: Any, cause: str) -> Event:
    """An offer instruction as the offers processor emits it; ``published`` is the emitter's clock (occurred_at)."""
    emitter = Emitter(TopicSettings(), "omnibus-offers", lambda: published)
    item = Instruction(action, "CALL_CENTER", "cus_offers_view", (f"PHONE:{PHONE[1]}",), offer("fibre"),
                       cause_id=f"{cause}-{decided.isoformat()}")
    return emitter.instruction(item).event


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_late_copy_of_a_show_instruction_after_the_withdraw_leaves_the_offer_withdrawn(fast_path: bool) -> None:
    h = Harness(view=AssignmentView() if fast_path else None)
    h.feed(interaction([PHONE]))
    customer = h.customer(*PHONE)
    topic = MARKETING_INSTRUCTIONS_CALL_CENTER.name(TopicSettings())

    def shown() -> list[str]:
        return [o["offer_id"] for o in h.book.render(h.local.store.profiles[customer])["eligible_offers"]]

    show = h.feed(_instruction("SHOW", decided=T0, published=T0, cause="contact"), topic)  # the new owner's
    assert shown() == ["fibre"]
    h.feed(_instruction("WITHDRAW", decided=T0 + timedelta(minutes=1), published=T0 + timedelta(minutes=1),
                        cause="declined"), topic)
    assert shown() == []
    # The paused worker resumes and publishes its copy of the first decision, stamped after the withdraw.
    late = _instruction("SHOW", decided=T0, published=T0 + timedelta(minutes=2), cause="contact")
    assert late.value["envelope"]["event_id"] == show.value["envelope"]["event_id"]
    assert late.value["envelope"]["occurred_at"] > show.value["envelope"]["occurred_at"]
    h.feed(late, topic)
    assert shown() == []  # dropped as an event id already applied


def test_the_same_late_copy_would_show_the_offer_again_without_the_event_id_dedupe() -> None:
    """The control: the profile section alone orders instructions by their time, so it is the dedupe on event
    ids that keeps the late copy out."""
    from processors.offers.profile_section import EligibleOffersSection

    section = EligibleOffersSection()
    state = section.apply(None, _instruction("SHOW", decided=T0, published=T0, cause="contact"))
    state = section.apply(state, _instruction("WITHDRAW", decided=T0 + timedelta(minutes=1),
                                              published=T0 + timedelta(minutes=1), cause="declined"))
    late = _instruction("SHOW", decided=T0, published=T0 + timedelta(minutes=2), cause="contact")
    assert [o["offer_id"] for o in section.render(section.apply(state, late))] == ["fibre"]


def test_a_late_handoff_status_of_a_lower_version_changes_no_screen_pop() -> None:
    from processors.handoffs.profile_section import OpenHandoffsSection
    from tests.processors.handoffs.factories import accepted, created, resolved
    from tests.processors.handoffs.test_profile_section import fold, status_events

    hour = timedelta(hours=1)
    events = status_events(created("h1"), accepted("h1", T0 + hour), resolved("h1", T0 + 2 * hour))
    newer = fold(events)
    assert OpenHandoffsSection().render(newer) == []
    assert fold([events[1]], newer) == newer  # the paused worker's late "in progress" of version 2


def test_a_late_kpi_partial_and_a_late_aggregate_are_ignored_by_their_readers() -> None:
    from types import SimpleNamespace

    from processors.kpis.cli import report_rows

    window = "HOUR|0|WEB|"
    rollup = Rollup({}, "omnibus-kpis", lambda: T0)
    for seq, handled in ((1, 3), (2, 5)):  # the new owner's partials of partition 0
        rolled = rollup.receive(window, {"p": 0, "seq": seq, "counts": {"contacts_handled": handled}})
        assert rolled is not None
        rollup.save(window, rolled)
    assert rollup.receive(window, {"p": 0, "seq": 1, "counts": {"contacts_handled": 3}}) is None  # late partial
    assert rollup.current()[window] == {"contacts_handled": 5}

    def aggregate(revision: int) -> Any:
        return SimpleNamespace(key=window.encode(), event=SimpleNamespace(value={
            "window_start": T0, "granularity": "HOUR", "channel": "WEB", "site": None, "revision": revision}))

    rows = report_rows([aggregate(1), aggregate(2), aggregate(1)], T0, T0 + timedelta(days=1), None)
    assert [row["revision"] for row in rows] == [2]  # the late copy of revision 1 does not replace revision 2
