"""Ids scoped by their issuer: a source's id is unique only within what issued it.

A counter terminal numbers its transactions (1, 2, 3... or ``T-100``), a PBX its calls, a legacy system its rows:
two terminals, two servers or two systems issue the same id for two different things. An id that leaves an adapter
as an id of the whole company (an ``InteractionRecorded.interaction_id``, a ``HandoffCreated.origin_interaction_id``,
a ``presentation_id``, a ``handoff_id``) names its issuer in it, in one shape for every adapter:

    ``<kind>:<issuer>:<id>``   e.g. ``counter:CT-0142-03:T-100``, ``call:amazon-connect:<ContactId>``

``kind`` says what the id is (``counter``: a counter transaction; ``follow-up``: a follow-up's case), ``issuer`` the
narrowest thing the id is unique within (a terminal, a site's PBX, a source system). Consumers compare such ids as
whole strings: identity's versions of one contact (``processors/identity/graph/versions.py``: one contact id, one
contact), the KPIs' one count per contact (``processors/kpis/ledger.py``), the tracker's one case per source record,
the offers' one pitch. Two issuers' equal numbers are two things everywhere; one issuer's id, re-sent or corrected,
stays one.

Ids published bare before an adapter scoped them keep meaning what they meant: an event whose source time is before
the adapter's ``scoped_ids_from`` (the upgrade's instant) is mapped as it was then (``issued_id``), so a re-send of an
event published before the upgrade maps to the same ids and stays a duplicate for every consumer.
"""

from __future__ import annotations

from datetime import datetime


def scoped_id(kind: str, issuer: str, local_id: str) -> str:
    """``<kind>:<issuer>:<local id>``: ``local_id`` as unique as the company's ids, for ids its ``issuer`` (a
    terminal id, a site, a source system) is the only one to number. All three are text as the source gave them."""
    return f"{kind}:{issuer}:{local_id}"


def issued_id(kind: str, issuer: str, local_id: str, occurred_at: datetime, scoped_from: datetime | None) -> str:
    """``scoped_id``, or ``local_id`` bare for an event that occurred (``occurred_at``, aware) before ``scoped_from``
    (aware; None: every event is scoped): the id such an event was published with before its adapter scoped ids,
    which a re-send of it must repeat (module docstring)."""
    if scoped_from is not None and occurred_at < scoped_from:
        return local_id
    return scoped_id(kind, issuer, local_id)
