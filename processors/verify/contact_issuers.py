"""One contact id, one issuer: two sources' equal ids taken for one contact.

A contact's id (``recent_contacts.contact_id``: an ``InteractionRecorded.interaction_id``, a ``CallCompleted``'s
``contact_id``, a ``CounterTransaction``'s ``transaction_id``) names one contact; identity keeps its versions on one
customer (``processors/identity/graph/versions.py``) and the KPIs count it once. An adapter that publishes an id its
issuer numbers alone (a terminal's transaction ``T-100``) bare makes two issuers' contacts one: identity merges their
customers, the KPIs drop one, and every other check holds, as the contacts are where identity put them. Here every
contact on ``customer.contacts.v1`` names its issuer (its channel, source system, site and terminal); one id from two
issuers fails, listed by channel and contact id (an id, never an identifier value). Versions of one contact come
from one issuer (a CTR's versions from its Connect instance, a counter correction from its terminal), and so do the
copies identity re-publishes when it moves a contact.
"""

from __future__ import annotations

from collections.abc import Iterable

from bus.serde import Event
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id
from processors.replay import Replayed
from processors.verify.report import Check, Report

ONE_ISSUER = "identity: each contact id comes from one issuer (site, terminal)"

Issuer = tuple[str, str, str, str]  # channel, source system, site, terminal ("" where the event names none)


def issuer(event: Event) -> Issuer:
    """Who numbered the contact's id: the envelope's channel, source system and site, and the counter terminal
    (``CounterTransaction.terminal_id``, ``InteractionRecorded.properties.terminal_id``)."""
    envelope, value = event.value["envelope"], event.value
    terminal = value.get("terminal_id") or (value.get("properties") or {}).get("terminal_id") or ""
    return envelope.get("channel") or "", envelope.get("source_system") or "", envelope.get("site") or "", terminal


def check_contact_issuers(contacts: Iterable[Replayed], report: Report) -> None:
    """Fail each contact id on ``customer.contacts`` (``contacts``, as verify read them) that comes from more than
    one issuer (``issuer``), once per id."""
    issuers: dict[tuple[str, str], set[Issuer]] = {}
    for record in contacts:
        event = record.event
        if event is None or event.schema not in RecentContactsSection.schemas:
            continue
        found = issuer(event)
        issuers.setdefault((found[0], contact_id(event)), set()).add(found)
    check = report.add(Check(ONE_ISSUER, len(issuers)))
    for (channel, contact), seen in sorted(issuers.items()):
        if len(seen) > 1:
            named = "; ".join(sorted("/".join(part or "-" for part in one[1:]) for one in seen))
            check.fail(f"{channel} contact {contact} came from {len(seen)} issuers ({named}): they number the same "
                       "id for two contacts, taken for versions of one (customers merged, contacts not counted)")
