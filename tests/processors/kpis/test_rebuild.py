"""``omnibus replay kpis``'s rebuild counts as the worker does, also contacts an operator's split moved."""

from __future__ import annotations

from bus.topics import MOVED_FROM_HEADER
from processors.kpis.config import KpisSettings
from processors.kpis.rebuild import rebuild
from processors.kpis.windows import to_micros
from processors.replay import Replayed
from tests.processors.kpis.factories import T0, D, H, interaction
from tests.processors.kpis.test_ledger import moved

CONTACTS = "omnibus.customer.contacts.v1"


def test_a_moved_contact_read_back_from_the_topic_counts_once_under_its_new_customer() -> None:
    """The moved copy names the customer it left in its header, as the worker reads it (``agent.py``)."""
    son = interaction(T0, event_id="son", outcome="RESOLVED")
    father = interaction(T0 + H, event_id="father", outcome="RESOLVED")
    records = [Replayed(CONTACTS, 0, 0, b"cus_son", son), Replayed(CONTACTS, 0, 1, b"cus_son", father),
               Replayed(CONTACTS, 1, 0, b"cus_father", moved(father), headers=((MOVED_FROM_HEADER, b"cus_son"),))]
    windows = rebuild(records, {CONTACTS: "customer-contacts"}, KpisSettings(), to_micros(T0 + D)).windows
    start = to_micros(T0) - to_micros(T0) % (24 * 3600 * 10**6)
    assert windows[f"DAY|{start}|CALL_CENTER|paris"] == {"identified_contacts": 2, "fcr_eligible": 2,
                                                         "fcr_resolved": 2}
