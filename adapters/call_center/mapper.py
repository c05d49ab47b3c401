"""One call, whatever system reported it, and the events it becomes.

Every format is parsed into a ``Call``; the measures are derived here once, the same for every site:

- ``queue_wait_ms``: from entering the queue to leaving it (answered, or hung up); null if never queued.
- ``answered_within_sla``: answered within the site's (or queue's) threshold after entering the queue;
  null for calls that never queued, which do not count toward the service level.
- ``abandoned``: queued but never connected to an agent.
- ``transferred``: a next contact exists, or the source says the call was transferred.

Events (``contact.events.v1`` keyed by the caller's phone, else by the contact id, so one caller's
contacts stay in order; the caller's identifiers also go to ``identity.observed.v1``):

- ``CallCompleted``, ``InteractionRecorded`` and ``IdentifiersObserved`` per *version* of a call: their event ids
  derive from the version id, so one event id never names two contents (issue #8, F13: an updated CTR re-used the
  contact's ids with new traits, outcome and customer). A version that replaces one the adapter published says so:
  its ``envelope.causation_id`` is the same event of that version (``Call.supersedes``), and every version shares
  the contact id (``interaction_id`` / ``contact_id``) and ``envelope.correlation_id``. Identity keeps every version
  of one contact on the customer of the latest (``processors/identity/graph/versions.py``);
- ``HandoffCreated`` per *contact and request*: its handoff id derives from the contact id alone (one case, whatever
  the version), its event id from the contact id and what it states: a later version with the same request repeats
  the event (a copy), one whose summary, team or facts changed is a later version of the case the tracker revises
  (``bus.handoff_revisions``: the contact names itself as the source record, its ``LastUpdateTimestamp`` the
  version);
- the agent's offer answer (``OfferPresented`` / ``OfferResponded``) per *contact and answer*: its id derives from the
  contact id and what was recorded (``OfferDisposition.digest``), its ``presentation_id`` from the contact alone. A
  later version with the same answer repeats the event (a copy, dropped by event id); one whose answer changed (the
  agent recorded ``accepted`` in after-contact work over the call's ``presented``) is a new event of the same pitch,
  which the KPIs and the offer processor apply as a revision of it (``bus.offer_presentations.pitch_of``): one
  presentation, the newer answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from adapters.base import clock
from adapters.base.card_status import card_status_event
from adapters.base.envelope import event_id, make_envelope
from adapters.base.errors import RejectedInput
from adapters.base.handoff_request import HANDED_OFF, HandoffRequest, handoff_id
from adapters.base.identifiers import Identifier, edge_normaliser, key_of, observed
from adapters.base.mapper import CARD_PART, HANDOFF, OFFER, DroppedPart, MappedRecord, content_digest
from adapters.base.offer_disposition import OfferDisposition
from adapters.call_center.attributes import CardReport
from adapters.call_center.config import CallCenterSettings, SiteSettings
from adapters.call_center.errors import malformed, missing
from adapters.call_center.outcome import ABANDONED, TRANSFERRED, UNKNOWN, wrap_up_outcome
from bus.config import TopicSettings
from bus.dead_letter_lines import LineShape
from bus.handoff_revisions import SOURCE_RECORD_FACT, SOURCE_VERSION_FACT
from bus.identifiers import Found, IdentifierNormaliser, IdentifierSettings, Rejected
from bus.identifiers.traits import PREFERRED_LANGUAGE
from bus.producer import Outgoing
from bus.references import References
from bus.serde import Event
from bus.topics import BUSINESS_EVENTS, CONTACT_EVENTS, HANDOFF_EVENTS, IDENTIFIERS_OBSERVED, MARKETING_RESPONSES
from schemas.enums import CALL_INITIATION_METHODS

CHANNEL = "CALL_CENTER"
# An agent's offer answer on a call that carries no caller identifier (a withheld number, no identifier attribute):
# published, it would name no customer; it is refused and listed in the answer's ``dropped_offers`` (as the counter
# refuses one, ``adapters.branch.mapper``), never dropped without a word.
NO_CALLER_OFFER = RejectedInput("an offer answer needs the caller's identifiers: the call carries none (a withheld "
                                "number and no identifier attribute), so the answer was not recorded", code="bad_field")


@dataclass(frozen=True)
class Topics:
    contact_events: str
    identifiers_observed: str
    offer_responses: str = ""
    handoff_events: str = ""
    business_events: str = ""  # a card status the call recorded (``CardStatusChanged``)

    @classmethod
    def of(cls, settings: TopicSettings) -> Topics:
        return cls(
            CONTACT_EVENTS.name(settings), IDENTIFIERS_OBSERVED.name(settings), MARKETING_RESPONSES.name(settings),
            HANDOFF_EVENTS.name(settings), BUSINESS_EVENTS.name(settings),
        )


@dataclass(frozen=True)
class MapContext:
    """What mapping a record needs besides the record: its site and where its events go."""

    site_name: str
    site: SiteSettings
    topics: Topics
    settings: CallCenterSettings
    identifiers: IdentifierSettings | None = None  # None: OMNIBUS_IDENTIFIERS__* from the environment

    @cached_property
    def normaliser(self) -> IdentifierNormaliser:
        """The shared normaliser with this site's phone region."""
        return edge_normaliser(self.identifiers, region=self.site.phone_region, component="call_center")

    @cached_property
    def references(self) -> References:
        """The declared business references (``reference_fields``), with this site's phone region."""
        return References.of(self.settings.reference_fields, self.normaliser)


@dataclass(frozen=True)
class NativeItem:
    """One record cut from a request body: its bytes (for a dead letter) and its parsed form or error."""

    raw: bytes
    record: Any = None
    error: RejectedInput | None = None
    line: LineShape | None = None  # a CSV line's columns, for its dead letter's clear copy (``bus.dead_letter_lines``)


@dataclass(frozen=True)
class Call:
    source_system: str  # amazon-connect, asterisk, twilio-taskrouter
    contact_id: str
    version_id: str  # the source's id of this report of the call (dedupe id)
    site: str
    initiation_method: str
    initiated_at: datetime
    disconnected_at: datetime
    queue: str | None = None
    enqueued_at: datetime | None = None
    dequeued_at: datetime | None = None
    connected_at: datetime | None = None
    agent_id: str | None = None
    disposition: str | None = None
    previous_contact_id: str | None = None
    next_contact_id: str | None = None
    transferred_by_source: bool = False
    kind: str = "CALL"  # InteractionKind; only CALL contacts also become CallCompleted
    updated_at: datetime | None = None  # when the source last revised this report (CTR LastUpdateTimestamp)
    caller: tuple[Identifier, ...] = ()
    rejected: tuple[Rejected, ...] = ()  # caller identifiers that could not be normalised
    traits: dict[str, str] = field(default_factory=dict)  # standard trait keys (bus/identifiers/traits.py)
    left_out_traits: dict[str, str] = field(default_factory=dict)  # trait key -> why it was left out (the answer)
    properties: dict[str, str] = field(default_factory=dict)
    # declared business references among the contact's attributes (``References.declared_in``: a meter point),
    # carried into the contact's properties and the handoff's intake facts
    references: dict[str, str] = field(default_factory=dict)
    offer: OfferDisposition | None = None  # the agent's recorded answer to an offer, if any
    handoff: HandoffRequest | None = None  # the agent's or the IVR's request to open a back-office handoff
    handoff_refused: RejectedInput | None = None  # why the request cannot open one: the call goes without it
    offer_refused: RejectedInput | None = None  # why the recorded offer answer is not one: the call goes without it
    card_status: CardReport | None = None  # a verified card's new status the call recorded
    card_status_refused: RejectedInput | None = None  # why it is not one: the call goes without it
    ended: str | None = None  # the outcome the source's own end state implies (adapters.call_center.outcome)
    supersedes: str | None = None  # ``version_id`` of the version this one replaces, once it was published

    @classmethod
    def customer(cls, found: Found) -> dict[str, Any]:
        """``caller`` and ``rejected`` from what the normaliser found, as keyword arguments."""
        return {"caller": tuple(found.records()), "rejected": tuple(found.rejected)}

    @property
    def abandoned(self) -> bool:
        return self.enqueued_at is not None and self.connected_at is None

    @property
    def transferred(self) -> bool:
        return self.next_contact_id is not None or self.transferred_by_source

    @property
    def queue_wait_ms(self) -> int | None:
        if self.enqueued_at is None:
            return None
        left_queue = self.dequeued_at or self.connected_at or self.disconnected_at
        return max(0, _ms(left_queue - self.enqueued_at))

    @property
    def talk_ms(self) -> int:
        return max(0, _ms(self.disconnected_at - self.connected_at)) if self.connected_at else 0

    def answered_within_sla(self, threshold_ms: int) -> bool | None:
        if self.enqueued_at is None:
            return None
        if self.connected_at is None:
            return False
        return _ms(self.connected_at - self.enqueued_at) <= threshold_ms

    def outcome(self, wrap_ups: Mapping[str, str]) -> str:
        """How the call ended: abandoned, transferred, handed off (it opened a handoff), the agent's wrap-up code
        through ``wrap_ups`` (``disposition_outcomes``), the source's end state, else UNKNOWN
        (``adapters.call_center.outcome``)."""
        if self.abandoned:
            return ABANDONED
        if self.transferred:
            return TRANSFERRED
        if self.handoff is not None:
            return HANDED_OFF
        return wrap_up_outcome(self.disposition, wrap_ups) or self.ended or UNKNOWN

    @property
    def key(self) -> str:
        phones = [i for i in self.caller if i["type"] == "PHONE"]
        return key_of(phones[0]) if phones else self.contact_id


def _ms(delta: object) -> int:
    return int(delta.total_seconds() * 1000)  # type: ignore[attr-defined]


def call_events(call: Call, ctx: MapContext) -> MappedRecord:
    """The events of one call report; its dedupe id is ``<source_system>:<version_id>``."""
    call = settle_clock(call, ctx.settings.future_tolerance_s)
    topics = ctx.topics
    events: list[Outgoing] = []
    seen = _identifiers_observed(call, topics.identifiers_observed) if call.caller or call.rejected else None
    # The contact names the record that carries the caller's traits (identity attributes it with them: a housemate's
    # call from the family phone); the traits stay off contact events, which every subscriber reads.
    traits_event_id = seen.event.value["envelope"]["event_id"] if seen is not None and call.traits else None
    if call.kind == "CALL":
        events.append(Outgoing(topics.contact_events, call.key, _call_completed(call, ctx.site, traits_event_id)))
    events.append(Outgoing(topics.contact_events, call.key,
                           _interaction(call, call.outcome(ctx.settings.disposition_outcomes), traits_event_id)))
    if seen is not None:
        events.append(seen)
    presentation_id = f"call:{call.source_system}:{call.contact_id}"
    offer_refused = call.offer_refused
    if call.offer is not None and not call.caller:
        offer_refused = NO_CALLER_OFFER  # the offers processor finds an answer's customer by its identifiers
    elif call.offer is not None and topics.offer_responses:
        # its id names the pitch and the answer (a version with the same answer is a copy); its source event id the
        # version, whose ``LastUpdateTimestamp`` orders it (``bus.contact_versions``) on any replica
        stamped = {**_envelope(call, call.contact_id, "offer", content=call.offer.digest()),
                   "source_event_id": call.version_id}
        offer = call.offer.event(envelope=stamped, channel=CHANNEL,
                                 identifiers=list(call.caller), agent_id=call.agent_id, presentation_id=presentation_id)
        events.append(Outgoing(topics.offer_responses, key_of(call.caller[0]), offer))
    if call.handoff is not None and topics.handoff_events:
        events.append(_handoff(call, call.handoff, topics.handoff_events, traits_event_id, ctx.references))
    if call.card_status is not None and topics.business_events:
        events.append(_card_status(call, call.card_status, topics.business_events))
    # keyed by the contact, as the parts themselves: every version of the call's record names the same part
    dropped = tuple(DroppedPart(part, refusal, key) for part, refusal, key in (
        (HANDOFF, call.handoff_refused, handoff_id("call", call.source_system, call.contact_id)),
        (OFFER, offer_refused, presentation_id),
        (CARD_PART, call.card_status_refused, f"card:{call.source_system}:{call.contact_id}"))
        if refusal is not None)
    return MappedRecord(dedupe_id=f"{call.source_system}:{call.version_id}", events=tuple(events),
                        dropped_traits=call.left_out_traits, dropped_parts=dropped)


def _envelope(call: Call, source_event_id: str, discriminator: str, causation_id: str | None = None,
              content: bytes | None = None) -> dict:
    """``content``: the digest of what the event states, where its id must name it (``bus.envelope.event_id``)."""
    return make_envelope(
        source_system=call.source_system, channel=CHANNEL, source_event_id=source_event_id,
        occurred_at=call.disconnected_at, discriminator=discriminator, site=call.site,
        correlation_id=event_id(call.source_system, call.contact_id, "contact"),  # shared by the contact's events
        causation_id=causation_id, content=content,
    )


def _version_envelope(call: Call, discriminator: str) -> dict:
    """The envelope of one version's event: its id from the version, its cause the same event of the version it
    replaces (``Call.supersedes``)."""
    causation = event_id(call.source_system, call.supersedes, discriminator) if call.supersedes else None
    return _envelope(call, call.version_id, discriminator, causation)


def _handoff(
    call: Call, request: HandoffRequest, topic: str, traits_event_id: str | None, references: References
) -> Outgoing:
    """HandoffCreated: its handoff id derives from the contact id alone, so every version of the call's record names
    the same case, which it names as its source record (``bus.handoff_revisions``), with the version's
    ``LastUpdateTimestamp`` where the source has one; its event id derives from the contact id and what it states
    (``_stated``): a later version stating the same is the same event, one with another summary, team or facts (the
    agent's after-contact work) a later version of the case, which the tracker revises. It names the caller's traits as
    the contact does (``traits_event_id``)."""
    handoff = handoff_id("call", call.source_system, call.contact_id)
    actor = {"kind": "EMPLOYEE", "id": call.agent_id} if call.agent_id else {"kind": "SYSTEM", "id": call.source_system}
    created = request.event(
        envelope=_envelope(call, call.contact_id, "handoff"), handoff_id=handoff, channel=CHANNEL,
        identifiers=list(call.caller), site=call.site, interaction_id=call.contact_id, actor=actor,
        facts={**call.references, "contact_id": call.contact_id, "queue": call.queue, "agent_id": call.agent_id,
               "disposition": call.disposition,
               # the caller's language (a ``language`` attribute), for the tracker's notifications
               PREFERRED_LANGUAGE: call.traits.get(PREFERRED_LANGUAGE), SOURCE_RECORD_FACT: handoff,
               SOURCE_VERSION_FACT: call.updated_at.astimezone(UTC).isoformat() if call.updated_at else None},
        traits_event_id=traits_event_id, references=references)
    stamped = _envelope(call, call.contact_id, "handoff", content=_stated(created.value))
    return Outgoing(topic, handoff, Event(created.schema, {**created.value, "envelope": stamped}))


def _stated(created: dict[str, Any]) -> bytes | None:
    """The digest of what a ``HandoffCreated`` states of its case: not its envelope, its version
    (``SOURCE_VERSION_FACT``) or the version's traits record, which every version has its own of."""
    facts = {name: fact for name, fact in created["intake_facts"].items() if name != SOURCE_VERSION_FACT}
    return content_digest({**{name: value for name, value in created.items() if name not in (
        "envelope", "traits_event_id")}, "intake_facts": facts})


def _card_status(call: Call, report: CardReport, topic: str) -> Outgoing:
    """CardStatusChanged for the card the contact flow verified, keyed by its token; its event id derives from the
    contact id alone (every version of the call's record states it once)."""
    return Outgoing(topic, report.card["value"], card_status_event(
        envelope=_envelope(call, call.contact_id, "card-status"), card=report.card, status=report.status,
        source_status=report.source_status, reason=report.reason, identifiers=list(call.caller)))


def _call_completed(call: Call, site: SiteSettings, traits_event_id: str | None) -> Event:
    threshold_ms = site.sla_threshold_ms(call.queue)
    return Event("omnibus.contact.CallCompleted", {
        "envelope": _version_envelope(call, "call"),
        "contact_id": call.contact_id,
        "site": call.site,
        "queue": call.queue,
        "initiation_method": call.initiation_method if call.initiation_method in CALL_INITIATION_METHODS else "UNKNOWN",
        "initiated_at": call.initiated_at,
        "enqueued_at": call.enqueued_at,
        "connected_at": call.connected_at,
        "disconnected_at": call.disconnected_at,
        "queue_wait_ms": call.queue_wait_ms,
        "talk_ms": call.talk_ms,
        "answered_within_sla": call.answered_within_sla(threshold_ms),
        "sla_threshold_ms": threshold_ms,
        "abandoned": call.abandoned,
        "transferred": call.transferred,
        "previous_contact_id": call.previous_contact_id,
        "next_contact_id": call.next_contact_id,
        "disposition": call.disposition,
        "agent_id": call.agent_id,
        "caller_identifiers": list(call.caller),
        "traits_event_id": traits_event_id,
    })


def _interaction(call: Call, outcome: str, traits_event_id: str | None) -> Event:
    properties = {**call.references, "site": call.site, **call.properties}
    if call.queue:
        properties["queue"] = call.queue
    if call.disposition:
        properties["disposition"] = call.disposition
    return Event("omnibus.contact.InteractionRecorded", {
        "envelope": _version_envelope(call, "interaction"),
        "interaction_id": call.contact_id,
        "customer_identifiers": list(call.caller),
        "kind": call.kind,
        "name": call.queue,
        "outcome": outcome,
        "agent_id": call.agent_id,
        "duration_ms": max(0, _ms(call.disconnected_at - call.initiated_at)),
        "properties": properties,
        "traits_event_id": traits_event_id,
    })


def _identifiers_observed(call: Call, topic: str) -> Outgoing | None:
    return observed(topic, _version_envelope(call, "identifiers"), call.caller, call.traits,
                    rejected=call.rejected, fallback_key=call.key)


def iso_time(value: object, field_name: str, source: str, *, required: bool = True) -> datetime | None:
    """An ISO-8601 time with an offset or ``Z`` (as Connect and Twilio write them), made aware."""
    if value in (None, ""):
        if required:
            raise missing(field_name, source)
        return None
    if not isinstance(value, str):
        raise malformed(field_name, source, f"expected an ISO-8601 time, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise malformed(field_name, source, f"not an ISO-8601 time: {value[:40]!r}") from exc
    if parsed.tzinfo is None:
        raise malformed(field_name, source, "time has no UTC offset")
    return clock.in_range(parsed, field_name, source)


TIME_FIELDS = ("initiated_at", "disconnected_at", "enqueued_at", "dequeued_at", "connected_at")


def settle_clock(call: Call, tolerance_s: float, received_at: datetime | None = None) -> Call:
    """``call`` with every time moved back by how far its latest one lies in the future beyond
    ``tolerance_s`` (``clock.future_skew``: a source clock running ahead), durations kept; the source's
    own end time is then kept in ``properties["original_disconnected_at"]``."""
    times = [t for t in (getattr(call, name) for name in TIME_FIELDS) if t is not None]
    skew = clock.future_skew(max(times), received_at or datetime.now(UTC), tolerance_s=tolerance_s,
                             source_system=call.source_system)
    if not skew.corrected:
        return call
    moved: dict[str, Any] = {name: skew.apply(getattr(call, name)) for name in TIME_FIELDS}  # some times optional
    properties = {**call.properties, "original_disconnected_at": call.disconnected_at.isoformat()}
    return replace(call, properties=properties, **moved)
