import itertools

import pytest

from processors.profile.limits import MAX_TEXT_CHARS, ProfileLimits
from processors.profile.sections.recent_contacts import RecentContactsSection
from tests.adapters.call_center.test_mapper_ctr import published_versions
from tests.processors.identity.support import interaction
from tests.support.contact_versions import ctr_version

SECTION = RecentContactsSection()


def test_the_last_contacts_of_every_channel_newest_first() -> None:
    state = None
    for minute in range(ProfileLimits().recent_contacts_per_channel + 3):
        state = SECTION.apply(state, interaction([("PHONE", "+86139")], channel="WEB", minutes=minute))
    state = SECTION.apply(state, interaction([("PHONE", "+86139")], channel="CALL_CENTER", minutes=0))
    assert len(state["WEB"]) == ProfileLimits().recent_contacts_per_channel and len(state["CALL_CENTER"]) == 1
    view = SECTION.render(state)
    assert view[0]["occurred_at"] > view[-1]["occurred_at"] and view[-1]["channel"] == "CALL_CENTER"


def test_the_same_contact_twice_is_one_entry() -> None:
    event = interaction([("PHONE", "+86139")], interaction_id="c-1")
    state = SECTION.apply(None, event)
    assert SECTION.apply(state, event) == state
    assert SECTION.merge(state, state) == state


def test_the_section_stays_small_whatever_the_events_carry() -> None:
    """#13: a profile is one Kafka record (1 MiB at most); 32 KB track names must not add up past it."""
    import json

    from schemas.enums import CHANNELS

    state = None
    for channel in CHANNELS:
        for minute in range(ProfileLimits().recent_contacts_per_channel + 2):
            event = interaction([("PHONE", "+86139")], channel=channel, minutes=minute, name="n" * 32_000,
                                interaction_id="i" * 300 + str(minute))
            state = SECTION.apply(state, event)
    assert state is not None
    assert all(entry["name"] == "n" * MAX_TEXT_CHARS for entries in state.values() for entry in entries)
    assert len(json.dumps(state)) < 64 * 1024
    assert all(len({entry["id"] for entry in entries}) == ProfileLimits().recent_contacts_per_channel for entries in state.values())


def test_a_calls_entry_shows_the_agents_wrap_up_code_beside_its_queue_and_outcome() -> None:
    """tester7 #14: the next agent saw only ``CALL billing``; the wrap-up code the agent chose was on the events,
    not on the screen pop."""
    from adapters.call_center import mapper_ctr
    from tests.adapters.call_center.support import context, sample

    ctr = {**sample("ctr_inbound_answered.json")}
    ctr["Attributes"] = {**ctr["Attributes"], "disposition": "resolved"}
    events = [o.event for o in mapper_ctr.map_ctr(ctr, context()).events if SECTION.accepts(o.event)]
    assert len(events) == 2  # the CallCompleted and the InteractionRecorded of one call: one entry, in either order
    for order in (events, events[::-1], events[:1], events[1:]):
        state = None
        for event in order:
            state = SECTION.apply(state, event)
        (entry,) = SECTION.render(state or {})
        assert (entry["kind"], entry["name"], entry["disposition"], entry.get("queue") or "billing") == (
            "CALL", "billing", "resolved", "billing"), [e.schema for e in order]


def test_a_split_hands_over_the_entries_of_the_contacts_that_leave_and_keeps_the_others() -> None:
    """#8 point 7: both events of one contact (its channel's and InteractionRecorded) share one entry, which goes
    whole; an entry of another channel with the same id stays; a contact no longer kept goes nowhere."""
    leaving = interaction([("ACCOUNT", "A-1")], channel="BRANCH", interaction_id="TX-1", minutes=1)
    staying = interaction([("PHONE", "+86139")], channel="BRANCH", interaction_id="TX-2", minutes=2)
    same_id_elsewhere = interaction([("PHONE", "+86139")], channel="WEB", interaction_id="TX-1", minutes=3)
    state = None
    for event in (leaving, staying, same_id_elsewhere):
        state = SECTION.apply(state, event)
    kept, moved = SECTION.split(state, [leaving, interaction([], channel="BRANCH", interaction_id="TX-GONE")])
    assert moved == {"BRANCH": [state["BRANCH"][1]]} and moved["BRANCH"][0]["id"] == "TX-1"
    assert kept == {"BRANCH": [state["BRANCH"][0]], "WEB": state["WEB"]}
    assert SECTION.split(state, []) == (state, None) and SECTION.split(None, [leaving]) == (None, None)
    assert SECTION.merge(kept, moved) == state  # a merge of the two would give back what was there


def _shown(state: dict | None) -> tuple[str, str, str]:
    (entry,) = SECTION.render(state or {})
    return entry["outcome"], entry["disposition"], entry["name"]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=lambda order: "-".join(
    f"v{n + 1}" for n in order))
def test_a_contacts_entry_shows_its_latest_version_whatever_order_they_are_applied_in(order: tuple[int, ...]) -> None:
    """Issue #8 F13: the graph applied the first version of an updated CTR after the update, and the screen pop's
    RESOLVED went back to UNKNOWN. The entry shows the latest version by the versions' own order."""
    versions = [[event for event in events if SECTION.accepts(event)] for events in published_versions(3)]
    state = None
    for index in order:
        for event in versions[index]:
            state = SECTION.apply(state, event)
        assert SECTION.apply(state, versions[0][0]) == state  # an older version, or a copy, changes nothing
    assert _shown(state) == ("UNRESOLVED", "unresolved", "billing")


@pytest.mark.parametrize("older_survives", [True, False])
def test_a_merge_keeps_the_entry_of_the_latest_version_whichever_customer_survives(older_survives: bool) -> None:
    first, _, third = ([event for event in events if SECTION.accepts(event)] for events in published_versions(3))
    older, newer = None, None
    for event in first:
        older = SECTION.apply(older, event)
    for event in third:
        newer = SECTION.apply(newer, event)
    merged = SECTION.merge(older, newer) if older_survives else SECTION.merge(newer, older)
    assert _shown(merged) == ("UNRESOLVED", "unresolved", "billing")
    assert SECTION.merge(older, older) == older  # one version on both: the survivor's


@pytest.mark.parametrize("caused", [True, False], ids=["same-replica", "other-replica"])
@pytest.mark.parametrize("older_last", [False, True], ids=["in-order", "older-last"])
def test_an_older_version_received_last_at_another_replica_changes_nothing(caused: bool, older_last: bool) -> None:
    """Tester51 F2: v2 (``handed-off``) at one replica, v1 (``bill-explained``) at the other 3 s later: the entry
    shows v2's disposition, as the case shows v2's summary (both ordered by ``LastUpdateTimestamp``)."""
    v1 = ctr_version("c-0002", 1, disposition="bill-explained", outcome="RESOLVED",
                     received_after_s=63 if older_last else 0)
    v2 = ctr_version("c-0002", 2, disposition="handed-off", outcome="HANDED_OFF",
                     caused_by="c-0002/v1" if caused else None)
    state = None
    for event in (v2, v1) if older_last else (v1, v2):
        state = SECTION.apply(state, event)
    (entry,) = SECTION.render(state or {})
    assert (entry["disposition"], entry["outcome"]) == ("handed-off", "HANDED_OFF")
    other = SECTION.apply(None, v1)
    assert SECTION.merge(other, state) == state and SECTION.render(SECTION.merge(state, other))[0] == entry
