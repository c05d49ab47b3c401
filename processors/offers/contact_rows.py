"""A customer's recent contacts in the offer state: one row per contact, the newest version's (pure).

``CustomerState.contacts`` holds ``[at_us, channel, matter, event_id, via, contact, version]``: when the contact
occurred (µs), its channel, its matter (``intake.matter_of``), the id it counts under (its event id, or for a copy a
split re-published the original's), the identifier keys it came through, the contact it reports
(``bus.contact_versions.contact_key``: its channel, source system and id) and the order of the version the row
shows (``bus.contact_versions.version_order``, ``[source version, occurred, received]`` µs). A later version of a
contact (an updated CTR, a corrected counter transaction: its own event id, with or without a ``causation_id``)
replaces the row of the earlier one, its matter with it; an older version read later changes nothing. So a call
whose record was updated in after-contact work is one contact for ``contacts_7d`` and for ``REPEAT_CONTACT``, as
in the KPIs. A row kept before the contact and version were (five fields) is its own contact, of version
``[0, at_us, 0]``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Row = list[Any]


def contact_of(row: Row) -> str:
    """The contact a row reports: its ``contact`` field, else (a row kept before it was) its event id."""
    return str(row[5]) if len(row) > 5 and row[5] else str(row[3])


def version_of(row: Row) -> tuple[int, int, int]:
    """The order of the version a row shows (``bus.contact_versions.version_order``); ``(0, at_us, 0)`` for a row
    kept before versions were."""
    if len(row) > 6 and row[6]:
        source, occurred, received = row[6]
        return int(source), int(occurred), int(received)
    return 0, int(row[0]), 0


def newest(rows: Iterable[Row], kept: int) -> list[Row]:
    """One row per contact, its newest version's (``version_of``; equal versions: the first), the latest ``kept``
    by time: how two customers' contacts merge."""
    by_contact: dict[str, Row] = {}
    for row in rows:
        contact = contact_of(row)
        known = by_contact.get(contact)
        if known is None or version_of(row) > version_of(known):
            by_contact[contact] = row
    return sorted(by_contact.values(), key=lambda row: row[0])[-kept:]


def with_row(rows: list[Row], row: Row, kept: int) -> list[Row] | None:
    """``rows`` with ``row`` in: a new contact added, or an older version of its contact replaced; None when a row of
    the same contact shows this version or a newer one (a copy, a split's copy already here, an older version read
    late): nothing changes."""
    if any(existing[3] == row[3] for existing in rows):
        return None  # counted under this id already
    contact = contact_of(row)
    known = next((existing for existing in rows if contact_of(existing) == contact), None)
    if known is not None and version_of(row) <= version_of(known):
        return None
    others = [existing for existing in rows if existing is not known]
    return sorted([*others, row], key=lambda r: r[0])[-kept:]
