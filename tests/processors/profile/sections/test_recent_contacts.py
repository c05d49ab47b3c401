from processors.profile.sections import recent_contacts
from processors.profile.sections.recent_contacts import RecentContactsSection
from tests.processors.identity.support import interaction

SECTION = RecentContactsSection()


def test_the_last_contacts_of_every_channel_newest_first() -> None:
    state = None
    for minute in range(recent_contacts.LIMIT_PER_CHANNEL + 3):
        state = SECTION.apply(state, interaction([("PHONE", "+86139")], channel="WEB", minutes=minute))
    state = SECTION.apply(state, interaction([("PHONE", "+86139")], channel="CALL_CENTER", minutes=0))
    assert len(state["WEB"]) == recent_contacts.LIMIT_PER_CHANNEL and len(state["CALL_CENTER"]) == 1
    view = SECTION.render(state)
    assert view[0]["occurred_at"] > view[-1]["occurred_at"] and view[-1]["channel"] == "CALL_CENTER"


def test_the_same_contact_twice_is_one_entry() -> None:
    event = interaction([("PHONE", "+86139")], interaction_id="c-1")
    state = SECTION.apply(None, event)
    assert SECTION.apply(state, event) == state
    assert SECTION.merge(state, state) == state
