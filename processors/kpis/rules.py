"""The KPI rules: how an event changes its entity, and what an entity contributes to which window.

Pure functions of typed state (``state``), the settings and ``closed_through_us`` (the end of the last
window the processor's clock has passed; open-handoff snapshots are taken at window ends up to it).
Each rule cites its definition in ``docs/kpis.md``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from bus.contact_versions import contact_key, version_order
from bus.offer_presentations import OFFER_PRESENTED, OFFER_RESPONDED, answer_of, offer_channel, presented_on
from bus.serde import Event
from processors.handoffs.metrics import age_bucket
from processors.kpis.config import KpisSettings
from processors.kpis.measures import Measure, open_measure
from processors.kpis.state import (
    CallFacts,
    Contributions,
    CustomerContact,
    CustomerHistory,
    Cycle,
    Entity,
    HandoffFacts,
    OneShot,
    contribution_key,
    remember,
)
from processors.kpis.windows import GRANULARITIES, UTC_DAYS, to_micros, windows_ending_between, windows_of

CONTACT, HANDOFF = "omnibus.contact.", "omnibus.handoff."
INTERACTION = CONTACT + "InteractionRecorded"
CALL_COMPLETED = CONTACT + "CallCompleted"
HANDOFF_CREATED, HANDOFF_RESOLVED = HANDOFF + "HandoffCreated", HANDOFF + "HandoffResolved"
HANDOFF_CLOSED, HANDOFF_REOPENED, HANDOFF_BREACHED = (
    HANDOFF + "HandoffClosed", HANDOFF + "HandoffReopened", HANDOFF + "HandoffBreached")
CUSTOMER_MERGED = "omnibus.identity.CustomerMerged"
HANDOFF_FACTS = frozenset({HANDOFF_CREATED, HANDOFF_RESOLVED, HANDOFF_CLOSED, HANDOFF_REOPENED, HANDOFF_BREACHED})

NO_OUTCOME = "NOT_APPLICABLE"  # a page view or a tracked event: an interaction, not a contact
NOT_HANDLED = frozenset({"ABANDONED"})  # never reached anyone: outside first-contact resolution
FAILED = frozenset({"UNRESOLVED", "HANDED_OFF", "TRANSFERRED", "ABANDONED"})  # not resolved, whatever follows


def _count(found: Counter[str], instant_us: int, channel: str, site: str | None, measure: Measure | str,
           zone: str) -> None:
    for window in windows_of(instant_us, channel, site, zone):
        found[contribution_key(window.text(), str(measure))] += 1


def occurred_us(event: Event) -> int:
    return to_micros(event.value["envelope"]["occurred_at"])


# --- one-shot events: interactions and offers ---------------------------------------------------


def one_shot(event: Event, zone: str = UTC_DAYS) -> OneShot | None:
    """The entity of an interaction or offer event, with its contributions; None for other events. ``zone``: the
    IANA zone whose midnight cuts days (``KpisSettings.day_zone``)."""
    envelope, value = event.value["envelope"], event.value
    at, channel, site = occurred_us(event), str(envelope["channel"]), envelope.get("site")
    found: Counter[str] = Counter()
    if event.schema == INTERACTION:
        _count(found, at, channel, site, Measure.INTERACTIONS, zone)
        if value["outcome"] != NO_OUTCOME:
            _count(found, at, channel, site, Measure.CONTACTS, zone)
    elif event.schema in (OFFER_PRESENTED, OFFER_RESPONDED):
        # an OfferPresented, or an answer at the counter or in the call center: the pitch behind it
        if (presented := presented_on(event)) is not None:
            _count(found, at, presented, site, Measure.OFFERS_PRESENTED, zone)
        measure = {"ACCEPTED": Measure.OFFERS_ACCEPTED, "DECLINED": Measure.OFFERS_DECLINED}.get(str(answer_of(event)))
        if measure is not None:
            _count(found, at, offer_channel(event), site, measure, zone)
        if not found:
            return OneShot(at_us=at)
    else:
        return None
    return OneShot(contributions=dict(found), at_us=at)


def version_update(current: OneShot | None, event: Event, zone: str = UTC_DAYS) -> OneShot | None:
    """A version of a contact (``bus.contact_versions.contact_key``) or of a representative's pitch
    (``bus.offer_presentations.pitch_of``): it replaces what ``current``, the version counted so far, contributed, if
    it is newer (``bus.contact_versions.version_order``: an older version read later, or a copy, is None: nothing
    changes). One contact per contact and one presentation per pitch, as the newer version says (docs/kpis.md, "One
    record per pitch", "A later version of one contact")."""
    source, occurred, received = version_order(event)
    if current is not None and (source, occurred, received) <= current.version:
        return None
    counted = one_shot(event, zone)
    return None if counted is None else counted.with_(received_us=received, source_version_us=source)



# --- calls: service level and abandonment --------------------------------------------------------


def call_update(current: CallFacts | None, event: Event) -> CallFacts | None:
    """The call after this report (the latest report of a call replaces the earlier ones); None if applied."""
    value, event_id = event.value, event.value["envelope"]["event_id"]
    if current is not None and event_id in current.applied:
        return None
    enqueued, connected = value.get("enqueued_at"), value.get("connected_at")
    wait = to_micros(connected) - to_micros(enqueued) if enqueued is not None and connected is not None else None
    return CallFacts(
        site=value["site"], at_us=to_micros(enqueued if enqueued is not None else value["initiated_at"]),
        queued=enqueued is not None, answered=connected is not None,
        wait_to_answer_ms=None if wait is None else max(0, wait // 1000), abandoned=bool(value["abandoned"]),
        stamped_threshold_ms=value.get("sla_threshold_ms"),
        applied=remember(current.applied if current else (), event_id),
    )


def call_contributions(call: CallFacts, settings: KpisSettings) -> Contributions:
    found: Counter[str] = Counter()
    if not call.queued:  # calls that never queued do not count toward the service level (COPC, ICMI)
        return {}

    def add(measure: Measure) -> None:
        _count(found, call.at_us, "CALL_CENTER", call.site, measure, settings.day_zone)

    add(Measure.CALLS_QUEUED)
    if call.answered:
        add(Measure.CALLS_ANSWERED)
        threshold = settings.threshold_ms(call.site, call.stamped_threshold_ms)
        if threshold is not None and call.wait_to_answer_ms is not None and call.wait_to_answer_ms <= threshold:
            add(Measure.CALLS_ANSWERED_WITHIN_THRESHOLD)
    elif call.abandoned:
        add(Measure.CALLS_ABANDONED)
    return dict(found)


# --- customers: repeat contact and first-contact resolution -------------------------------------


def contact_of(event: Event) -> CustomerContact | None:
    """The contact an event on ``customer.contacts.v1`` is, or None (no outcome, or not an interaction)."""
    if event.schema != INTERACTION or event.value["outcome"] == NO_OUTCOME:
        return None
    envelope = event.value["envelope"]
    return CustomerContact(envelope["event_id"], occurred_us(event), str(envelope["channel"]),
                           envelope.get("site") or "", event.value["outcome"], contact_key(event) or "",
                           version_order(event))


def with_contacts(current: CustomerHistory | None, added: Iterable[CustomerContact]) -> CustomerHistory | None:
    """The history with ``added`` merged in, in time order: one entry per contact (``CustomerContact.identity``), its
    newest version's (a later version of a contact replaces the earlier one's entry, its outcome with it; an older
    version, or an event id known already, changes nothing); None when nothing changed."""
    contacts = list(current.contacts if current else ())
    changed = False
    for contact in added:
        if any(known.event_id == contact.event_id for known in contacts):
            continue
        same = next((known for known in contacts if known.identity == contact.identity), None)
        if same is not None and contact.version <= same.version:
            continue
        contacts = [known for known in contacts if known is not same] + [contact]
        changed = True
    if not changed:
        return None
    base = current or CustomerHistory()
    return base.with_(contacts=tuple(sorted(contacts, key=lambda c: c.order)))


def customer_update(current: CustomerHistory | None, event: Event) -> CustomerHistory | None:
    """The history with this contact added; None for a contact already known or an event that is no contact."""
    contact = contact_of(event)
    return with_contacts(current, [contact]) if contact else None


def customer_contributions(history: CustomerHistory, settings: KpisSettings) -> Contributions:
    found: Counter[str] = Counter()
    window = settings.repeat_window_us
    contacts = history.contacts  # in time order
    for index, contact in enumerate(contacts):
        before = contacts[index - 1] if index > 0 else None
        after = contacts[index + 1] if index + 1 < len(contacts) else None
        measures = [Measure.IDENTIFIED_CONTACTS]
        if before is not None and contact.at_us - before.at_us <= window:
            measures.append(Measure.REPEAT_CONTACTS_7D)
        if contact.outcome not in NOT_HANDLED:
            measures.append(Measure.FCR_ELIGIBLE)
            if contact.outcome not in FAILED and (after is None or after.at_us - contact.at_us > window):
                measures.append(Measure.FCR_RESOLVED)
        for measure in measures:
            _count(found, contact.at_us, contact.channel, contact.site, measure, settings.day_zone)
    return dict(found)


# --- handoffs: deadline compliance and open handoffs by age -------------------------------------


def handoff_update(current: HandoffFacts | None, event: Event) -> HandoffFacts | None:
    """The handoff after this lifecycle event; None for a duplicate or an event KPIs do not use."""
    event_id = event.value["envelope"]["event_id"]
    if event.schema not in HANDOFF_FACTS or (current is not None and event_id in current.applied):
        return None
    facts = current or HandoffFacts()
    at, value = occurred_us(event), event.value
    facts = facts.with_(applied=remember(facts.applied, event_id))
    cycles = list(facts.cycles)
    if event.schema == HANDOFF_CREATED:
        if facts.created_us is not None:
            return facts
        return facts.with_(channel=str(value["origin_channel"]), site=value.get("origin_site") or "",
                           created_us=at, cycles=(Cycle(at), *cycles) if not cycles else tuple(cycles))
    if event.schema == HANDOFF_BREACHED:
        return facts.with_(breaches_us=tuple(sorted((*facts.breaches_us, at))))
    if event.schema == HANDOFF_REOPENED:
        return facts.with_(cycles=(*cycles, Cycle(at)))
    if not cycles:  # resolved or closed before its creation arrived: keep the instant until it does
        cycles = [Cycle(at)]
    last = cycles[-1]
    if event.schema == HANDOFF_RESOLVED and last.resolved_us is None:
        cycles[-1] = Cycle(last.start_us, at, last.closed_us)
    elif event.schema == HANDOFF_CLOSED and last.closed_us is None:
        cycles[-1] = Cycle(last.start_us, last.resolved_us, at)
    return facts.with_(cycles=tuple(cycles))


def _open_at(facts: HandoffFacts, instant_us: int) -> bool:
    return any(c.start_us <= instant_us and (c.end_us is None or instant_us < c.end_us) for c in facts.cycles)


def handoff_contributions(facts: HandoffFacts, closed_through_us: int, floor_us: int,
                          zone: str = UTC_DAYS) -> Contributions:
    """Created, resolved (within the deadline or not) and the open snapshot at each window end ≤ closed_through."""
    if facts.created_us is None:
        return {}
    found: Counter[str] = Counter()

    def add(at: int, measure: Measure) -> None:
        _count(found, at, facts.channel, facts.site, measure, zone)

    add(facts.created_us, Measure.HANDOFFS_CREATED)
    for cycle in facts.cycles:
        if cycle.resolved_us is None or (cycle.closed_us is not None and cycle.closed_us < cycle.resolved_us):
            continue
        add(cycle.resolved_us, Measure.HANDOFFS_RESOLVED)
        if not any(cycle.start_us <= b <= cycle.resolved_us for b in facts.breaches_us):
            add(cycle.resolved_us, Measure.HANDOFFS_RESOLVED_WITHIN_DEADLINE)
    for granularity in GRANULARITIES:
        after = max(facts.created_us, floor_us)
        for window in windows_ending_between(after, closed_through_us, granularity, zone):
            end = window.end_us
            if _open_at(facts, end):
                band = age_bucket((end - facts.created_us) / 1e6)
                key = replace(window, channel=facts.channel, site=facts.site)
                found[contribution_key(key.text(), open_measure(band))] += 1
    return dict(found)


def is_finished(facts: HandoffFacts) -> bool:
    return bool(facts.cycles) and facts.cycles[-1].end_us is not None


def contributions_of(entity: Entity, settings: KpisSettings, closed_through_us: int, floor_us: int) -> Contributions:
    if isinstance(entity, CallFacts):
        return call_contributions(entity, settings)
    if isinstance(entity, CustomerHistory):
        return customer_contributions(entity, settings)
    if isinstance(entity, HandoffFacts):
        return handoff_contributions(entity, closed_through_us, floor_us, settings.day_zone)
    return entity.contributions


def latest_instant(entity: Entity) -> int:
    """The newest instant the entity's contributions depend on (for pruning past the horizon)."""
    if isinstance(entity, (OneShot, CallFacts)):
        return entity.at_us
    if isinstance(entity, CustomerHistory):
        return max([*(c.at_us for c in entity.contacts), *(item[1] for item in entity.released)], default=0)
    if isinstance(entity, HandoffFacts):
        if not is_finished(entity):
            return 2**62  # open: still counted at every window end
        return max([entity.created_us or 0, *(c.end_us or 0 for c in entity.cycles), *entity.breaches_us])
    return 0


def merge_counts(target: dict[str, int], items: Iterable[tuple[str, int]]) -> None:
    for measure, delta in items:
        value = target.get(measure, 0) + delta
        if value:
            target[measure] = value
        else:
            target.pop(measure, None)
