"""Segment messages (identify, track, page, screen, group, alias) -> canonical Omnibus events.

Pure: a message and the source it came from (the write key's name) in, a ``MappedRecord`` out, or
``MessageRejected`` with a reason. Every event of one person is keyed ``USER_ID:<userId>`` (or
``ANONYMOUS_ID:<anonymousId>`` before login), so one person's events keep their order; handoffs are
keyed by handoff id. Event ids derive from (source, messageId) and the message's content digest (``DIGEST_LEFT_OUT``
aside), so a re-send maps to the same ids and another event under a reused messageId to ids of its own, whichever
adapter replica maps it (F1). So do the ids built from the messageId (``adapters.base.mapper.content_id``): a
contact's ``interaction_id`` ``<messageId>:<digest>``, the handoff id of a service request without
``request_id``/``case_id`` and the presentation id of an offer without ``presentation_id``,
``web:<source>:<messageId>:<digest>``. Which traits are read as identifiers, and what is said of those left off:
``traits.py``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from adapters.base.envelope import make_envelope
from adapters.base.errors import FieldChecks, combined
from adapters.base.handoff_request import HANDED_OFF, HANDOFF_CREATED, REQUESTED_TEAM, handoff_id
from adapters.base.identifiers import Identifier, edge_normaliser, key_of, observed
from adapters.base.mapper import Claim, MappedRecord, content_digest, content_id
from adapters.web import errors, fields
from adapters.web.config import WebSettings
from adapters.web.traits import TraitReader
from bus.config import TopicSettings
from bus.handoff_limits import MAX_CASE_ID_CHARS, MAX_KIND_CHARS, MAX_SUMMARY_CHARS, MAX_TEAM_CHARS
from bus.identifiers import Found, IdentifierSettings, Rejected
from bus.identifiers import Identifier as NormalisedId
from bus.identifiers.traits import (
    ALIAS_KINDS,
    ALIAS_PREVIOUS_ID,
    GROUP_ID,
    PREFERRED_LANGUAGE,
    source_names,
    standard_traits,
)
from bus.producer import Outgoing
from bus.redact import free_text
from bus.references import References, phones_of
from bus.serde import Event
from bus.topics import (
    CONTACT_EVENTS,
    HANDOFF_EVENTS,
    IDENTIFIERS_OBSERVED,
    MARKETING_RESPONSES,
)

# Fields of a Segment message that a retry of the same message changes or that say how it travelled, left out of its
# content digest: ``sentAt`` is stamped at each send (Segment's clock-skew correction), ``_metadata`` by
# analytics.js's delivery plugin, ``receivedAt`` by a relay; ``writeKey`` is the sender's credential.
# ``type`` is digested as the call type it or the path names (``/v1/track`` or a batch's ``"type": "track"``).
DIGEST_LEFT_OUT = frozenset({"sentAt", "receivedAt", "_metadata", "writeKey", "type"})
# The analytics.js short paths (/v1/t ...) and the long names both name a call type.
CALL_TYPES = {
    "identify": "identify", "track": "track", "page": "page", "screen": "screen", "group": "group", "alias": "alias",
    "i": "identify", "t": "track", "p": "page", "s": "screen", "g": "group", "a": "alias",
}
PAGE_FIELDS = ("url", "path", "referrer", "title", "search", "category")
HANDOFF_FIELDS = ("request_id", "case_id", "case_type", "category", "summary", "description", "subject", "service_tier",
                  "team")
MAX_AVRO_INT = 2**31 - 1
# A service request's case id in the dedupe store, apart from ``<source>:<messageId>`` (a write key's name has no
# "="); one namespace for every source, as the handoff tracker has one (``Claim``).
CASE_CLAIM = "case-id="
OBSERVED = "omnibus.contact.IdentifiersObserved"
PERSON_FIELDS = (("USER_ID", "userId"), ("ANONYMOUS_ID", "anonymousId"))
PERSON_NAMES = dict(PERSON_FIELDS)  # identifier type -> the Segment field that holds it
KNOWN_IDS = 65_536  # normalised person ids kept per mapper (about 200 bytes each)


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each field through object.__setattr__
class _Message:
    body: dict[str, Any]
    source: str
    message_id: str
    occurred_at: datetime
    received_at: datetime
    person: list[Identifier]  # USER_ID and/or ANONYMOUS_ID
    customer: Found  # the person plus identifiers in context.traits, with what was rejected
    customer_records: list[Identifier]  # ``customer.records()``, built once for every event of the message
    correlation_id: str | None  # shared by every event mapped from the message: the first one's event id
    digest: bytes | None  # the message's ``content_digest``: its event ids derive from it
    device_time: datetime | None = None  # the sender's own time, kept when occurred_at corrects it
    left_out: dict[str, str] | None = None  # traits that did not normalise: key -> reason (for the answer)
    claims: tuple[Claim, ...] = ()  # a service request's own case id (``_handoff``)
    reissued_from: str | None = None  # the messageId a redrive replaced (``adapters.web.reissue``)

    @property
    def id_base(self) -> str:
        """The messageId the ids built from it (handoff, interaction, presentation) derive from, with ``digest``: a
        redriven message's original one, so that they carry one suffix, never two."""
        return self.reissued_from or self.message_id

    def original(self) -> dict[str, str]:
        """``original_timestamp`` for properties, when the device's time was corrected."""
        return {"original_timestamp": self.device_time.isoformat()} if self.device_time else {}


def message_digest(message: dict[str, Any], kind: str | None) -> bytes | None:
    """A message's ``content_digest`` as a ``kind`` call (``None``: its own ``type`` is not digested), its ids in one
    spelling (``fields.one_spelling``: ``424242`` and ``"424242"`` are one content), ``DIGEST_LEFT_OUT`` left out:
    what its event ids derive from and a re-send is told from another event by."""
    return content_digest(fields.one_spelling(message), leave_out=DIGEST_LEFT_OUT, kind=kind)


class SegmentMapper:
    def __init__(
        self, settings: WebSettings, topics: TopicSettings, identifiers: IdentifierSettings | None = None
    ) -> None:
        self._settings = settings
        self._normaliser = edge_normaliser(identifiers, region=settings.phone_region, component="web")
        self._references = References.of(settings.reference_fields, self._normaliser)
        self._contact_topic = CONTACT_EVENTS.name(topics)
        self._identity_topic = IDENTIFIERS_OBSERVED.name(topics)
        self._handoff_topic = HANDOFF_EVENTS.name(topics)
        self._offer_topic = MARKETING_RESPONSES.name(topics)
        self._traits = TraitReader(settings, self._normaliser)
        self._calls = {kind: getattr(self, f"_{kind}") for kind in set(CALL_TYPES.values())}
        self._known: dict[tuple[str, str], NormalisedId] = {}  # see ``_person``

    @property
    def identifiers(self) -> IdentifierSettings:
        """The identifier settings this mapper normalises with (the environment's when none were given)."""
        return self._normaliser.settings

    def _person(self, message: dict[str, Any]) -> Found:
        """The message's USER_ID and ANONYMOUS_ID, normalised (``IdentifierNormaliser.collect``).

        A person sends many messages: what the normaliser accepted is kept per (kind, text), at most
        ``KNOWN_IDS`` values, forgotten all at once when full (a lookup instead of normalising again, #9
        build 6). Refusals are not kept: each is normalised again, so the rejection metric counts every one.
        """
        found = Found()
        for kind, raw in [(kind, fields.text_id(message, name)) for kind, name in PERSON_FIELDS]:  # both read first
            if raw is None:
                continue
            identifier = self._known.get((kind, raw))
            if identifier is None:
                result = self._normaliser.normalise(kind, raw)
                if isinstance(result, NormalisedId):
                    if len(self._known) >= KNOWN_IDS:
                        self._known.clear()
                    self._known[(kind, raw)] = identifier = result
                else:
                    found.add(result)
                    continue
            # the two fields are of two kinds, so their identifiers never repeat: no membership test
            found.identifiers.append(identifier)
        return found

    def __call__(
        self, message: Any, *, source: str = "default", call: str | None = None, received_at: datetime | None = None,
        reissued_from: str | None = None, reissued_digest: bytes | None = None,
    ) -> MappedRecord:
        """Map one message; ``call`` is the type the URL names (/v1/track), which wins over ``type``;
        ``reissued_from``: the messageId a redrive replaced by a derived one (``adapters.web.reissue``), and
        ``reissued_digest`` the refused message's content digest, whose suffix that messageId ends with: the ids built
        from it (handoff, interaction, presentation) and the event ids end with the same."""
        if not isinstance(message, dict):
            raise errors.bad_shape("a Segment message must be a JSON object")
        named = call or message.get("type") or ""
        kind = CALL_TYPES.get(named, "") if isinstance(named, str) else ""
        checks = FieldChecks()  # every field at fault named at once
        if not kind:
            checks.add(errors.unknown_type(message.get("type")))
        received = received_at or datetime.now(UTC)
        person = checks(self._person, message)
        if person is not None and not person.identifiers:
            # a userId present but refused (a placeholder such as 12345) is named with its rule, not as missing
            checks.add(combined([errors.bad_field(PERSON_NAMES[r.type], f"was refused: {r.reason}")
                                 for r in person.rejected]) if person.rejected else errors.missing_identity())
        context_traits = checks(fields.obj, checks(fields.obj, message, "context") or {}, "traits")
        stamp = checks(fields.timestamp, message, received, tolerance_s=self._settings.future_tolerance_s,
                       source_system=self._settings.source_system)
        message_id = checks(fields.message_id, message, kind)
        checks.refuse_any()
        occurred_at, device_time = stamp
        in_traits = self._traits.identifiers(context_traits)
        # the person's identifiers are already distinct: without identifiers in traits they are the customer's
        customer = Found().extend(person).extend(in_traits) if in_traits.identifiers or in_traits.rejected else person
        person_records = person.records()
        digest = reissued_digest or message_digest(message, kind)
        parsed = _Message(message, source, message_id, occurred_at, received, person_records, customer,
                          person_records if customer is person else customer.records(), None, digest, device_time,
                          reissued_from=reissued_from)
        events = self._calls[kind](parsed)
        if context_traits and kind != "identify":  # identify drops them with its own traits
            parsed.left_out = self._traits.unread_context(context_traits, parsed.left_out)
        if customer.rejected and not any(e.event.schema == OBSERVED for e in events):
            # The call itself carries no IdentifiersObserved: one records what context.traits held that was refused.
            events.append(self._observed(parsed, Found(rejected=customer.rejected), {}))
        return MappedRecord(dedupe_id=f"{source}:{parsed.message_id}", events=tuple(events),
                            dropped_traits=parsed.left_out, content_digest=digest, claims=parsed.claims)

    # -- one method per call type --------------------------------------------------------------------

    def _identify(self, m: _Message) -> list[Outgoing]:
        # RudderStack's SDKs put identify traits in context.traits rather than at the root. Only the standard traits
        # travel: any other key (``imei``, ``plan``...) is dropped and counted by ``observed``.
        traits = {**fields.obj(fields.obj(m.body, "context"), "traits"), **fields.obj(m.body, "traits")}
        found = Found().extend(m.customer).extend(self._traits.identifiers(fields.obj(m.body, "traits")))
        m.left_out = {}
        person = standard_traits(traits, component="web", left_out=m.left_out)
        other = fields.text_map(traits, skip=self._traits.read_names | source_names(traits))
        self._traits.name_unread(other, m.left_out)
        return [self._observed(m, found, {**other, **person}, left_out=m.left_out)]

    def _group(self, m: _Message) -> list[Outgoing]:
        group_id = fields.text_id(m.body, "groupId")
        if not group_id:
            raise errors.missing_field("group", "groupId")
        kind = self._settings.group_identifier_type
        found = Found().extend(m.customer).extend(self._normaliser.collect([(kind, group_id)] if kind else []))
        # the group's own traits (a company's name, plan...) describe no person: only its id travels
        return [self._observed(m, found, {GROUP_ID: group_id})]

    def _alias(self, m: _Message) -> list[Outgoing]:
        user_id = fields.text_id(m.body, "userId")
        previous = fields.text_id(m.body, "previousId")
        if not user_id or not previous:  # both named when both are missing
            raise combined([errors.missing_field("alias", name)
                            for name, value in (("userId", user_id), ("previousId", previous)) if not value])
        # previousId is the earlier id whatever its kind (anonymous or an earlier user id): identity looks it
        # up as either and never makes a customer of it (processors/identity/intake.py, ALIAS_PREVIOUS_ID). Checked
        # here as either: one both refuse (a placeholder such as 12345) links nothing, and is refused with its rule
        # as a lone anonymousId is, not published as a trait.
        refused = [result for kind in ALIAS_KINDS
                   if isinstance(result := self._normaliser.normalise(kind, previous), Rejected)]
        if len(refused) == len(ALIAS_KINDS):
            raise errors.bad_field("previousId", f"was refused: {refused[0].reason}")
        anonymous_id = fields.text_id(m.body, "anonymousId")
        person = self._normaliser.collect([("USER_ID", user_id), ("ANONYMOUS_ID", anonymous_id)])
        return [self._observed(m, person, {ALIAS_PREVIOUS_ID: previous})]

    def _page(self, m: _Message, kind: str = "WEB_PAGE") -> list[Outgoing]:
        properties = fields.obj(m.body, "properties")
        name = fields.first_text(m.body, "name") or fields.first_text(properties, "name", "title", "path")
        extra = {"category": m.body["category"]} if fields.first_text(m.body, "category") else {}
        return [self._interaction(m, kind, name, "NOT_APPLICABLE", {**properties, **extra})]

    def _screen(self, m: _Message) -> list[Outgoing]:
        return self._page(m, "APP_SCREEN")

    def _track(self, m: _Message) -> list[Outgoing]:
        event = fields.required_text(m.body, "track", "event")
        properties = fields.obj(m.body, "properties")
        opens_handoff = event in self._settings.service_request_events
        outcome = HANDED_OFF if opens_handoff else "NOT_APPLICABLE"
        events = [self._interaction(m, "WEB_EVENT", event, outcome, properties)]
        if opens_handoff:
            events.append(self._handoff(m, event, properties))
        offer = self._settings.offer_events.get(event)
        if offer:
            events.append(self._offer(m, event, offer, properties))
        return events

    # -- event builders --------------------------------------------------------------------------

    def _envelope(self, m: _Message, what: str) -> dict[str, Any]:
        """The envelope of one event of ``m``, its id from the messageId and the message's content digest. Every
        event mapped from one message shares one correlation id: the first one's event id (``Envelope.avsc``: "the
        event_id of the first event when no other id exists"), so no id is derived for the correlation alone (#9
        build 6)."""
        envelope = make_envelope(
            source_system=self._settings.source_system, channel="WEB", source_event_id=m.message_id,
            occurred_at=m.occurred_at, discriminator=f"{m.source}/{what}", site=self._settings.site,
            received_at=m.received_at, correlation_id=m.correlation_id, content=m.digest,
        )
        if m.correlation_id is None:
            m.correlation_id = envelope["correlation_id"]  # make_envelope's own: this event's id
        return envelope

    def _customer(self, m: _Message) -> list[Identifier]:
        return m.customer_records

    def _key(self, m: _Message) -> str:
        return key_of(m.person[0])

    def _observed(
        self, m: _Message, found: Found, traits: dict[str, str], left_out: dict[str, str] | None = None
    ) -> Outgoing:
        envelope = self._envelope(m, "identifiers")
        event = observed(self._identity_topic, envelope, found, traits, fallback_key=self._key(m), component="web",
                         left_out=left_out)
        assert event is not None  # every caller passes the person or a rejection
        return event

    def _interaction(
        self, m: _Message, kind: str, name: str | None, outcome: str, properties: dict[str, Any]
    ) -> Outgoing:
        page = fields.obj(fields.obj(m.body, "context"), "page")
        # the page's fields, then the properties (a property named like one replaces its value in place)
        facts = fields.text_map(page, only=PAGE_FIELDS) if page else {}
        fields.text_map(properties, into=facts)
        # every value is free text the sender chose (a search box, a url's query, a dispute's note): scrubbed like
        # the name, whatever the property's name (a card number under "pan" or "note"), but a declared
        # business reference (a meter point number)
        self._references.facts(self._traits.drop_identifiers(facts), phones_of(self._customer(m)))
        facts["source"] = m.source
        if m.device_time is not None:
            facts.update(m.original())
        value = {
            "envelope": self._envelope(m, "interaction"),
            "interaction_id": content_id(m.id_base, m.digest),
            "customer_identifiers": self._customer(m),
            "kind": kind,
            "name": free_text(name) if name else name,
            "outcome": outcome,
            "agent_id": None,
            "duration_ms": None,
            "properties": facts,
            "traits_event_id": None,  # a web contact's traits come with identify calls, never in a sibling record
        }
        return Outgoing(self._contact_topic, self._key(m), Event("omnibus.contact.InteractionRecorded", value))

    def _handoff(self, m: _Message, event: str, properties: dict[str, Any]) -> Outgoing:
        # the portal's own case id as given; else the messageId's, with the content's digest: a re-send keeps it,
        # another request under a reused messageId (on another replica) is a case of its own (docs/handoffs.md)
        # the texts every channel's request is held to (bus.handoff_limits): one that is not text or too long is
        # refused with the message (400 bad_field), as a malformed offer answer is, never cut or replaced
        given = fields.limited_text(properties, "request_id", "case_id", limit=MAX_CASE_ID_CHARS)
        handoff = given or content_id(handoff_id("web", m.source, m.id_base), m.digest)
        summary = fields.limited_text(properties, "summary", "description", "subject", limit=MAX_SUMMARY_CHARS) or event
        kind = fields.limited_text(properties, "case_type", "category", limit=MAX_KIND_CHARS)
        # the team the portal asked for is kept as the other channels keep it; the kind (case_type, else the
        # configured default: the event itself asks for the handoff) routes (docs/handoffs.md)
        requested = fields.limited_text(properties, "team", limit=MAX_TEAM_CHARS)
        team = {REQUESTED_TEAM: requested} if requested else {}
        # the SDK's context.locale (Segment's spec), the customer's language for the tracker's notifications
        # (processors.handoffs.notification_templates) unless the request's properties name one
        locale = fields.first_text(fields.obj(m.body, "context"), "locale")
        language = {PREFERRED_LANGUAGE: locale} if locale else {}
        # the declared references among the properties, which the summary may quote
        facts = self._references.facts(self._traits.drop_identifiers(fields.text_map(properties, skip=HANDOFF_FIELDS)),
                                       phones_of(self._customer(m)))
        value = {
            "envelope": self._envelope(m, "handoff"),
            "handoff_id": handoff,
            "customer_identifiers": self._customer(m),
            "case_type": kind or self._settings.default_case_type,
            "summary": self._references.text(summary, facts),
            "intake_facts": {**language, **facts, **m.original(), **team},
            "origin_channel": "WEB",
            "origin_site": self._settings.site,
            "origin_interaction_id": content_id(m.id_base, m.digest),
            "service_tier": fields.first_text(properties, "service_tier"),
            "actor": {"kind": "CUSTOMER", "id": self._key(m)},
            "traits_event_id": None,  # a web contact's traits come with identify calls, never in a sibling record
        }
        if given is not None:
            m.claims = (self._case_claim(given, properties, value),)
        return Outgoing(self._handoff_topic, handoff, Event(HANDOFF_CREATED, value))

    @staticmethod
    def _case_claim(case_id: str, properties: dict[str, Any], value: dict[str, Any]) -> Claim:
        """The portal's case id, claimed with the digest of the request it names: what the back office reads (kind,
        summary, facts, tier, team) and whose it is. The same request sent again under a new messageId is one case;
        another request under the id is refused, ``request_id_conflict``."""
        # the SDK's locale is not the request: a re-send from a browser in another language is the same case
        facts = {k: v for k, v in value["intake_facts"].items() if k not in ("original_timestamp", PREFERRED_LANGUAGE)}
        request = {"case_type": value["case_type"], "summary": value["summary"], "facts": facts,
                   "service_tier": value["service_tier"], "customer": value["actor"]["id"]}
        # msgspec's sorted JSON, not ``content_digest``'s json.dumps: a fifth of the cost (the request is text only)
        digest = hashlib.sha256(msgspec.json.encode(request, order="sorted")).digest()
        field = "request_id" if fields.first_text(properties, "request_id") else "case_id"
        return Claim(f"{CASE_CLAIM}{case_id}", digest, functools.partial(errors.request_id_conflict, field, case_id))

    def _offer(self, m: _Message, event: str, response: str, properties: dict[str, Any]) -> Outgoing:
        offer_id = fields.required_text(properties, f"'{event}' track", "offer_id", "offerId", prefix="properties.")
        version = fields.first_text(properties, "offer_version", "offerVersion")
        if version is None or not version.isdigit() or int(version) > MAX_AVRO_INT:
            raise errors.bad_field("properties.offer_version", f"of '{event}' must be a whole number")
        common = {
            "offer_id": offer_id,
            "offer_version": int(version),
            "channel": "WEB",
            "customer_identifiers": self._customer(m),
            "agent_id": None,
        }
        presentation = fields.first_text(properties, "presentation_id", "presentationId")
        if response == "PRESENTED":
            value = {
                "envelope": self._envelope(m, "offer"),
                "presentation_id": presentation or content_id(f"web:{m.source}:{m.id_base}", m.digest),
                **common,
            }
            return Outgoing(self._offer_topic, self._key(m), Event("omnibus.marketing.OfferPresented", value))
        value = {
            "envelope": self._envelope(m, "offer"), "presentation_id": presentation, "response": response, **common
        }
        return Outgoing(self._offer_topic, self._key(m), Event("omnibus.marketing.OfferResponded", value))
