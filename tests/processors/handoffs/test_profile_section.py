"""The screen-pop section: open handoffs per customer, from the tracker's status events."""

from datetime import timedelta

from processors.handoffs.profile_section import OpenHandoffsSection
from processors.handoffs.transitions import apply
from processors.profile.section import ProfileSection
from tests.processors.handoffs.factories import T0, accepted, context, created, resolved

H = timedelta(hours=1)
SECTION = OpenHandoffsSection()


def status_events(*events):
    ctx, state, found = context(), None, []
    for event in events:
        transition = apply(state, event, ctx)
        state = transition.state
        found += [o.event for o in transition.outputs if o.event.schema.endswith("HandoffStatusChanged")]
    return found


def fold(events, state=None):
    for event in events:
        assert SECTION.accepts(event)
        state = SECTION.apply(state, event)
    return state


def test_it_is_a_profile_section_reading_the_handoff_topic() -> None:
    assert isinstance(SECTION, ProfileSection) and SECTION.name == "open_handoffs"
    assert SECTION.schemas == frozenset({"omnibus.handoff.HandoffStatusChanged"})


def test_open_handoffs_appear_and_resolved_ones_leave() -> None:
    events = status_events(created("h1"), accepted("h1", T0 + H))
    assert SECTION.identifiers(events[0]) == [{"type": "PHONE", "value": "+33612345678"}]
    state = fold(events)
    (entry,) = SECTION.render(state)
    assert entry["handoff_id"] == "h1" and entry["status"] == "IN_PROGRESS" and entry["owner_id"] == "agent-1"
    assert entry["deadline_at"] == (T0 + 20 * H).isoformat() and entry["team"] == "back-office"
    done = status_events(created("h1"), accepted("h1", T0 + H), resolved("h1", T0 + 2 * H))
    assert SECTION.render(fold(done)) == []


def test_replays_and_out_of_order_events_change_nothing() -> None:
    events = status_events(created("h1"), accepted("h1", T0 + H), resolved("h1", T0 + 2 * H))
    state = fold(events)
    assert fold(events, state) == state  # the whole stream again
    assert fold([events[0]], state) == state  # an old "open" event cannot resurrect a resolved handoff
    assert fold(reversed(events)) == state


def test_most_urgent_first_and_merge_of_two_customers() -> None:
    a = fold(status_events(created("h1", tier="standard")))
    b = fold(status_events(created("h2", T0 - 10 * H)))
    merged = SECTION.merge(a, b)
    assert [e["handoff_id"] for e in SECTION.render(merged)] == ["h2", "h1"]
    finished = fold(status_events(created("h1"), resolved("h1", T0 + H)))
    assert [e["handoff_id"] for e in SECTION.render(SECTION.merge(merged, finished))] == ["h2"]
    assert SECTION.merge(None, a) == a


def test_an_open_case_created_before_a_recycles_instant_is_the_previous_holders() -> None:
    """``before``: a recycle's claim (``ProfileBook.split``'s ``since``) leaves a case opened before it with its holder;
    one opened at or after it, and a finished case's tombstone (no time), follow as at a split."""
    state = fold([*status_events(created("h1", T0)), *status_events(created("h2", T0 - H), resolved("h2", T0))])
    at = int(T0.timestamp() * 1_000_000)
    assert SECTION.before(state, "h1", at + 1)
    assert not SECTION.before(state, "h1", at)
    assert not SECTION.before(state, "h2", at + 1)  # finished: a tombstone
    assert not SECTION.before(state, "h-unknown", at + 1) and not SECTION.before(None, "h1", at + 1)
