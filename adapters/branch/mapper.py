"""Counter-terminal and queue-ticket events -> canonical Omnibus events.

One native event (as a terminal uploads it, see ``tests/adapters/branch/samples``) is mapped with the
terminal and branch it came from:

- ``ticket_issued | ticket_called | ticket_served | no_show`` -> ``QueueTicketChanged``;
- ``transaction`` -> ``CounterTransaction`` and the ``InteractionRecorded`` contact it counts as, whose
  ``transaction_id`` and ``interaction_id`` are ``counter:<terminal>:<transaction id>`` (``CounterMapper.contact_id``):
  a terminal numbers its own transactions, so two terminals' equal ids are two visits (``adapters.base.issuers``);
- any event carrying customer identifiers or a ``customer`` object (a person's name, date of birth,
  address, under the standard trait keys of ``bus.identifiers.traits`` or their usual spellings) -> also
  ``IdentifiersObserved``, with the identifiers that could not be normalised as ``rejected_identifiers``;
- a ``transaction.handoff`` section (``{"kind", "summary", "team"}``: the clerk hands the case to the back
  office) -> ``HandoffCreated`` on ``handoff.events.v1``, handoff id ``counter:<terminal>:<transaction id>``
  (``adapters.base.handoff_request``), which its ``intake_facts.source_record`` names too: a corrected upload of
  the transaction (a new ``event_id``, or other content) has ids of its own but is the same case, a later version
  the tracker applies (``bus.handoff_revisions``), ordered by the event's ``occurred_at`` (``transaction_version``);
- a ``transaction.follow_up`` section (``{"handoff_id", "summary"}``: the customer came back about a case already
  open, a portal complaint's request id) -> ``HandoffFollowedUp`` on ``handoff.events.v1`` keyed by that handoff id
  (``adapters.base.handoff_follow_up``); the visit's contact names the case (``properties.handoff_id``) and its
  outcome is ``HANDED_OFF``;
- an ``offer`` section (``{"offer_id", "offer_version", "response"}``: the clerk pitched an offer and
  recorded the answer) -> ``OfferPresented`` / ``OfferResponded`` on ``marketing.responses.v1``. On a transaction
  its presentation is the transaction's, ``counter:<terminal>:<transaction id>``, and its event id derives from that
  and the answer (``OfferDisposition.digest``): a corrected upload with the same answer repeats the event (a copy),
  one with another answer is a later version of the same pitch, which the KPIs and the offer processor apply as one
  presentation with the newer answer (``bus.offer_presentations.pitch_of``, ordered by ``occurred_at``, then
  receipt). On a ticket event the presentation is the event's (``counter:<terminal>:<event id>:<digest>``).

Contact events are keyed by branch id: one terminal's events stay in upload order, and a ticket's
issue (ticket machine) and call (counter terminal) land on the same partition. Event ids derive from
(terminal id, client event id) and the event's content digest, so a re-upload maps to the same ids and another event
under a reused event id to ids of its own, whichever adapter replica maps it (F1).

The event's sections are read by ``adapters.branch.sections``, its customer by ``adapters.branch.customer``, its
optional parts (handoff, follow-up, offer answer), each to a value or a refusal that costs only itself, by
``adapters.branch.parts``; this module builds the visit's events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.base import clock, wire
from adapters.base.closed_fields import unknown_fields
from adapters.base.envelope import event_id, make_envelope
from adapters.base.errors import FieldChecks
from adapters.base.handoff_follow_up import FollowUp
from adapters.base.handoff_request import HANDED_OFF, HandoffRequest, handoff_id
from adapters.base.identifiers import Identifier, edge_normaliser, key_of, observed
from adapters.base.issuers import issued_id
from adapters.base.mapper import MappedRecord, content_digest, content_id
from adapters.branch import customer, errors, parts
from adapters.branch.config import BranchSettings
from adapters.branch.fields import one_spelling, optional_text, required_instant, required_text
from adapters.branch.openapi import EVENT
from adapters.branch.sections import TRANSACTION_OUTCOME, ticket_fields, transaction_fields, transaction_references
from bus.config import TopicSettings
from bus.handoff_revisions import SOURCE_RECORD_FACT, SOURCE_VERSION_FACT
from bus.identifiers import IdentifierSettings
from bus.identifiers.traits import PREFERRED_LANGUAGE
from bus.producer import Outgoing
from bus.references import References, phones_of
from bus.serde import Event
from bus.topics import CONTACT_EVENTS, HANDOFF_EVENTS, IDENTIFIERS_OBSERVED, MARKETING_RESPONSES


def transaction_version(occurred_at: datetime) -> str:
    """The version a counter transaction's ``HandoffCreated`` states (``intake_facts[SOURCE_VERSION_FACT]``, ISO 8601
    UTC): its event's ``occurred_at``, the only time the counter sends (no time a record was written or corrected:
    the counter agent's journal time stays on the terminal). An upload older than the one the case holds, re-driven
    after it, then leaves the case as it is; two uploads stating one time are applied in the order they arrive
    (``processors.handoffs.revisions.is_older_version``), as before, so a correction that keeps the transaction's
    ``occurred_at`` is never refused as older."""
    return occurred_at.astimezone(UTC).isoformat()


# A transaction's ids scoped by its terminal (``adapters.base.issuers``): its contact, its case, its pitch.
TRANSACTION_KIND = "counter"
TICKET_STATUS = {"ticket_issued": "ISSUED", "ticket_called": "CALLED", "ticket_served": "SERVED", "no_show": "NO_SHOW"}
KINDS = [*TICKET_STATUS, "transaction"]


class CounterMapper:
    def __init__(
        self, settings: BranchSettings, topics: TopicSettings, identifiers: IdentifierSettings | None = None
    ) -> None:
        self._settings = settings
        self._normaliser = edge_normaliser(identifiers, region=settings.phone_region, component="branch")
        self._references = References.of(settings.reference_fields, self._normaliser)
        self._contact_topic = CONTACT_EVENTS.name(topics)
        self._identity_topic = IDENTIFIERS_OBSERVED.name(topics)
        self._offer_topic = MARKETING_RESPONSES.name(topics)
        self._handoff_topic = HANDOFF_EVENTS.name(topics)

    def contact_id(self, terminal_id: str, transaction_id: str, occurred_at: datetime) -> str:
        """The ``interaction_id`` of a transaction's contact: ``counter:<terminal>:<transaction id>``, as its case and
        pitch (``adapters.base.issuers``: a terminal numbers its own transactions, two terminals' ``T-100`` are two
        visits); the bare transaction id for a transaction that occurred before ``scoped_ids_from``, as it was
        published then (a re-send stays a duplicate)."""
        return issued_id(TRANSACTION_KIND, terminal_id, transaction_id, occurred_at, self._settings.scoped_ids_from)

    @property
    def identifiers(self) -> IdentifierSettings:
        """The identifier settings this mapper normalises with (the environment's when none were given)."""
        return self._normaliser.settings

    def __call__(
        self, event: Any, *, terminal_id: str, branch_id: str, received_at: datetime | None = None,
        published: Any = None,
    ) -> MappedRecord:
        """The events of one counter event (a JSON object); raises ``RejectedInput``. Their ids derive from the
        event's content digest; ``published``: a re-drive of a part refused while the rest of the record was
        published (``adapters.branch.redrive``) passes the event as it came then, whose digest keeps the ids it
        gave (the part's then name the same visit)."""
        if not isinstance(event, dict):
            raise errors.bad_upload("each event must be a JSON object")
        wire.check_tree(event, "the event")
        # before anything reads it: what the terminal sent
        # over its ids as text: 5550001 and "5550001" are one content (fields.one_spelling)
        digest = content_digest(one_spelling(event if published is None else published))
        checks = FieldChecks()  # every field at fault named at once; a section's own, at once too
        for reason in unknown_fields(event, EVENT, top="the event"):  # a misplaced offer was lost
            checks.add(errors.unknown_field(reason))
        client_id = checks(required_text, event, "event_id")
        kind = event.get("kind")
        if kind not in KINDS:
            checks.add(errors.unknown_kind(kind, KINDS))
            kind = ""
        occurred_at = checks(required_instant, event, "occurred_at")
        person = checks(customer.identifiers, self._normaliser, event.get("identifiers"), event.get("customer"))
        left_out: dict[str, str] = {}
        traits = checks(customer.traits, event.get("customer"), left_out)
        # the ticket's or transaction's own fields are named with the event's
        read: dict[str, Any] = {}
        if kind == "transaction":
            read = {**(checks(transaction_fields, event) or {}),
                    "references": checks(transaction_references, event, self._references)}
        elif kind:
            read = checks(ticket_fields, event, kind)
        checks.refuse_any()
        source_time = occurred_at  # as the terminal sent it: what a re-send states again (``contact_id``)
        # A terminal clock running ahead is moved back to the receive time (adapters.base.clock); an
        # old time is legitimate (a terminal offline for a day uploads late).
        if received_at is not None:
            occurred_at = clock.future_skew(  # type: ignore[assignment]
                occurred_at, received_at, tolerance_s=self._settings.future_tolerance_s,
                source_system=self._settings.source_system).apply(occurred_at)
        found = person.records()

        correlation: list[str] = []  # the first event's id, shared by every event of the record (as the web hall's)

        def envelope(what: str) -> dict[str, Any]:
            # one correlation: the offers processor finds an answer's customer where identity placed its visit
            made = make_envelope(
                source_system=self._settings.source_system, channel="BRANCH", source_event_id=client_id,
                occurred_at=occurred_at, discriminator=f"{terminal_id}/{what}", site=branch_id,
                received_at=received_at, correlation_id=correlation[0] if correlation else None, content=digest,
            )
            correlation[:] = [made["correlation_id"]]
            return made

        seen = None
        if found or person.rejected:  # traits alone name no one identity could attach them to
            seen = observed(self._identity_topic, envelope("identifiers"), person, traits, fallback_key=branch_id)
        # The transaction names the record with the customer's traits (identity attributes it with them: a housemate
        # served with the family phone); the traits stay off contact events, which every subscriber reads.
        traits_event_id = seen.event.value["envelope"]["event_id"] if seen is not None and traits else None
        if kind == "transaction":
            contact = self.contact_id(terminal_id, read["transaction_id"], source_time)
            outgoing = self._transaction(read, envelope, terminal_id, branch_id, found, traits_event_id,
                                         (traits or {}).get(PREFERRED_LANGUAGE), occurred_at, contact)
        else:
            outgoing = [self._ticket(read, kind, envelope, occurred_at, branch_id, found)]
        offer, offer_refused = parts.offer(event, found)
        # a transaction's pitch is the transaction's, whatever upload of it records the answer (the module docstring)
        transaction_record = handoff_id(TRANSACTION_KIND, terminal_id, read["transaction_id"]) \
            if kind == "transaction" else None
        presentation_id = transaction_record or content_id(f"counter:{terminal_id}:{client_id}", digest)
        if offer is not None:
            stamped = envelope("offer")
            if transaction_record is not None:
                stamped["event_id"] = event_id(self._settings.source_system, transaction_record,
                                               f"{terminal_id}/offer", offer.digest())
            outgoing.append(Outgoing(self._offer_topic, key_of(found[0]), offer.event(
                envelope=stamped, channel="BRANCH", identifiers=found,
                agent_id=optional_text(event, "agent_id"), presentation_id=presentation_id)))
        if seen is not None:
            outgoing.append(seen)
        return MappedRecord(dedupe_id=f"{terminal_id}:{client_id}", events=tuple(outgoing), dropped_traits=left_out,
                            content_digest=digest,
                            dropped_parts=parts.dropped_parts(read, offer_refused, terminal_id, presentation_id))

    def _ticket(
        self, read: dict[str, Any], kind: str, envelope: Any, occurred_at: datetime, branch_id: str,
        found: list[Identifier],
    ) -> Outgoing:
        number, issued_at, counter_id = read["number"], read["issued_at"], read["counter_id"]
        given_id, service_type = read["given_id"], read["service_type"]
        called_at = occurred_at if kind == "ticket_called" else read["called_at"]
        # Machines without ticket ids of their own: branch + day + printed number is unique.
        ticket_id = given_id or f"{branch_id}:{issued_at.date().isoformat()}:{number}"
        value = {
            "envelope": envelope("ticket"),
            "ticket_id": ticket_id,
            "ticket_number": number,
            "branch_id": branch_id,
            "counter_id": counter_id,
            "service_type": service_type,
            "status": TICKET_STATUS[kind],
            "issued_at": issued_at,
            "wait_ms": int((called_at - issued_at).total_seconds() * 1000) if called_at else None,
            "customer_identifiers": found,
        }
        return Outgoing(self._contact_topic, branch_id, Event("omnibus.contact.QueueTicketChanged", value))

    def _transaction(
        self, read: dict[str, Any], envelope: Any, terminal_id: str, branch_id: str, found: list[Identifier],
        traits_event_id: str | None, language: str | None, occurred_at: datetime, contact_id: str,
    ) -> list[Outgoing]:
        transaction_id, status, kind = read["transaction_id"], read["status"], read["type"]
        counter_id, ticket_id, agent_id = read["counter_id"], read["ticket_id"], read["agent_id"]
        request: HandoffRequest | None = read["handoff"]
        follow_up: FollowUp | None = read["follow_up"]
        value = {
            "envelope": envelope("transaction"),
            "transaction_id": contact_id,  # the visit's screen-pop id, as its contact's (``contact_id``)
            "branch_id": branch_id,
            "counter_id": counter_id,
            "terminal_id": terminal_id,
            "transaction_type": kind,
            "status": status,
            "amount": read["amount"],
            "ticket_id": ticket_id,
            "agent_id": agent_id,
            "customer_identifiers": found,
            "traits_event_id": traits_event_id,
        }
        facts = {"terminal_id": terminal_id, "branch_id": branch_id, "counter_id": counter_id, "ticket_id": ticket_id}
        # a visit that handed the case to the back office did not resolve it, whatever the transaction's status
        # (first-contact resolution counted it resolved; the web hall's service requests are HANDED_OFF);
        # nor did a visit about a case the back office holds, whose contact names the case
        outcome = HANDED_OFF if request is not None or follow_up is not None else TRANSACTION_OUTCOME[status]
        # the declared references the clerk keyed, which the summary may quote
        declared = self._references.facts(dict(read["references"] or {}), phones_of(found))
        properties = {**declared, **facts, "handoff_id": follow_up.handoff_id if follow_up else None}
        contact = {
            "envelope": envelope("interaction"),
            "interaction_id": contact_id,
            "customer_identifiers": found,
            "kind": "COUNTER_TRANSACTION",
            "name": kind,
            "outcome": outcome,
            "agent_id": agent_id,
            "duration_ms": None,
            "properties": {k: v for k, v in properties.items() if v is not None},
            "traits_event_id": traits_event_id,
        }
        actor = {"kind": "EMPLOYEE", "id": agent_id} if agent_id else {"kind": "SYSTEM", "id": terminal_id}
        outgoing = [
            Outgoing(self._contact_topic, branch_id, Event("omnibus.contact.CounterTransaction", value)),
            Outgoing(self._contact_topic, branch_id, Event("omnibus.contact.InteractionRecorded", contact)),
        ]
        if request is not None:
            handoff = handoff_id(TRANSACTION_KIND, terminal_id, transaction_id)
            outgoing.append(Outgoing(self._handoff_topic, handoff, request.event(
                envelope=envelope("handoff"), handoff_id=handoff, channel="BRANCH", identifiers=found, site=branch_id,
                interaction_id=contact_id, actor=actor,
                # the customer's language, for the tracker's notifications (processors.handoffs.notification_templates);
                # the transaction is the case's source record: a corrected upload (another event id, the same
                # transaction) is a later version of the case, not a second creation (bus.handoff_revisions), of
                # the version its occurred_at states: the record carries no time it was corrected at
                facts={**declared, **facts, "transaction_type": kind, "agent_id": agent_id,
                       PREFERRED_LANGUAGE: language, SOURCE_RECORD_FACT: handoff,
                       SOURCE_VERSION_FACT: transaction_version(occurred_at)},
                traits_event_id=traits_event_id,
                references=self._references)))
        if follow_up is not None:
            outgoing.append(Outgoing(self._handoff_topic, follow_up.handoff_id, follow_up.event(
                envelope=envelope("follow-up"), interaction_id=contact_id, actor=actor,
                references=self._references)))
        return outgoing
