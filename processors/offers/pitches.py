"""A representative's pitch across the versions of its record, on one customer's offer state (pure).

A pitch (``bus.offer_presentations.pitch_of``: a call's or a counter transaction's presentation of an offer) may come
again in a later version with another answer. ``CustomerState.pitches`` keeps, per pitch, its newest version applied:
``[occurred_us, received_us, offer_id, source_version_us]`` (``bus.offer_presentations.pitch_order``: of two versions
the later source version, then occurred, then received is the newer), so that a later version is known
as one, not a new presentation, whatever the ledger the caps count (``LEDGER_KEPT`` rows) still holds. Entries are
kept by age: ``remember`` drops those received more than the retention (``OffersSettings.retention_s``, 30 days by
default) before the version it records, the window in which the contact placement that places a version is kept
(``answers.place``, ``retention.py``); the KPIs keep theirs for their horizon (8 days), past which they count no event.

The newer version's answer replaces the pitch's in the offer state as in the KPIs (docs/kpis.md, "One record per
pitch"): ``sources.take_back`` removes the pitch's answer (the answer another source gave stands again, if one did)
before the newer version is applied as any answer (``sources.py``: which answer stands).
"""

from __future__ import annotations

from typing import Any

from processors.offers.state import CustomerState


def known(state: CustomerState, pitch: str) -> list[Any] | None:
    """The newest version applied of ``pitch``, ``[occurred_us, received_us, offer_id, source_version_us]`` (3 items
    for one kept before the source version was), or None: a new pitch. A state
    kept before ``pitches`` was finds it in its ledger row (``[at_us, channel, offer_id, pitch, via, received_us]``)."""
    entry = state.pitches.get(pitch)
    if entry is not None:
        return entry
    row = next((row for row in state.ledger if row[3] == pitch and len(row) > 5), None)
    return None if row is None else [int(row[0]), int(row[5]), row[2]]


def remember(state: CustomerState, pitch: str, order: tuple[int, int, int], offer_id: str, retention_us: int) -> None:
    """``pitch``'s newest version applied is the one of ``order`` (``pitch_order``: source version, occurred,
    received, epoch us); entries received more than ``retention_us`` before it are forgotten."""
    source_version_us, occurred_us, received_us = order
    since = received_us - retention_us
    kept = {key: entry for key, entry in state.pitches.items() if int(entry[1]) >= since}
    kept[pitch] = [occurred_us, received_us, offer_id, source_version_us]
    state.pitches = kept
