"""From a canonical event to the start of its saga: pick, normalise and vet the identifiers.

Identifiers sit in ``identifiers`` (IdentifiersObserved), ``customer_identifiers`` (contact, business,
handoff and marketing events) and ``caller_identifiers`` (CallCompleted); profile sections may add
more (e.g. the account number of a business event). Invalid and blocked values are not linked: the
event goes on without them and each rejection becomes a ``Refused`` decision with its reason and a
masked value (never the raw one).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

import msgspec

from bus.errors import OmnibusError
from bus.identifiers.traits import ALIAS_KINDS, ALIAS_PREVIOUS_ID
from bus.serde import Deserializer, Event, SerdeContext
from bus.topics import HANDOFF_EVENTS, IDENTIFIERS_OBSERVED
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.handoff_moves import NAMING
from processors.identity.graph.limits import event_rank
from processors.identity.graph.messages.base import EventRef, Saga
from processors.identity.graph.messages.steps import Apply, Fast, Visit
from processors.identity.graph.outputs import Lineage, Output, Refused, Send, Unresolved
from processors.identity.graph.record_lines import revises
from processors.identity.graph.recycle import closes
from processors.identity.graph.saga import new_saga
from processors.identity.matching.traits import summarize
from processors.identity.metrics import EVENTS_WITHOUT_IDENTIFIER
from processors.identity.normalize import Identifier, IdentifierNormalizer, Rejected
from processors.identity.rules import RECORD_CHANNEL
from processors.identity.wire import MAX_BUNDLE_BYTES, encode_message
from processors.profile.book import ProfileBook
from schemas.enums import HOLDER_ROLE, MEMBER

IDENTIFIER_FIELDS = ("identifiers", "customer_identifiers", "caller_identifiers")
# ALIAS_PREVIOUS_ID: the trait the web adapter sets on a Segment ``alias``: the earlier id, whatever its kind
# (anonymous or an earlier user id). It is looked up as either (``ALIAS_KINDS``), and never reserved nor creates a
# customer.


# A saga message (the event's identifiers, trait summary and, for contacts, the original record)
# travels through the graph topic hop by hop and grows a little on the way; bounding it at half a bundle
# keeps every graph record under Kafka's 1 MiB limit by construction (#13 case 5: a 900 KB event made a
# graph message over the limit and stopped the worker).
MAX_SAGA_BYTES = MAX_BUNDLE_BYTES // 2


class EventTooLarge(OmnibusError, ValueError):
    """An event too large to travel through the identity graph; it is dead-lettered with this reason."""


class NoIdentifier(OmnibusError, ValueError):
    """An event a profile section reads that names no customer at all (no identifier): it is dead-lettered with
    this reason, never dropped unseen (an offer instruction without one was the demo's lost screen pop)."""


# A contact with no identifier (a call with the number withheld and no account entered) is on no screen pop, as
# it may be: counted and ``Unresolved``. Any other event a section reads must name its customer.
ANONYMOUS_CONTACTS = "omnibus.contact."
# So is the handoff opened during such a contact: its lifecycle events (the tracker's ``HandoffStatusChanged`` repeats
# the creation's identifiers, none) are normal traffic, not poison (each was dead-lettered). The tracker
# tracks the case all the same (owner, deadlines, escalation, the month-end report), with no customer. Identity does
# not hold them until the contact is attributed: a contact without an identifier is never linked later (nothing
# names it again), so they would wait for ever; a later event of the case that names a customer is placed as usual.
ANONYMOUS_HANDOFFS = frozenset(HANDOFF_EVENTS.carries)
# A call center's record of the caller's identifiers and IVR traits (the sibling of the call's contact events).
# The records whose traits a contact of the same call or counter visit, or a business event of the same legacy
# record (a billing line per holder of a joint account), may name (``traits_event_id``).
CALLER_RECORDS = frozenset((IDENTIFIERS_OBSERVED.carries[0], channel)
                           for channel in ("CALL_CENTER", "BRANCH", "BUSINESS_SYSTEM"))


def event_ref(topic: str, event: Event, raw: bytes) -> EventRef:
    """The original record, carried by the saga to where the profile lives."""
    return EventRef(topic, event.schema, raw)


class RefLoader:
    """Decodes a saga's event reference (``load(ref)``); the last ``remember`` events are kept.

    A contact is read three times in one worker: intake decodes it (``keep``, it has the event at hand),
    the customer root applies it to the profile, the announcer re-keys it onto ``customer.contacts``.
    Intake may run ahead of the graph by a batch or more, hence the default (a few MB of events).
    """

    def __init__(self, deserializer: Deserializer, remember: int) -> None:
        self._deserializer, self._remember = deserializer, remember
        # An OrderedDict, not a dict: evicting a dict's first key scans the slots its earlier evictions left empty,
        # ~2 µs per event at 4,096 (#9); ``popitem(last=False)`` is ~0.2 µs.
        self._recent: OrderedDict[tuple[str, bytes], Event] = OrderedDict()

    def keep(self, ref: EventRef, event: Event) -> None:
        key = (ref.topic, ref.record)  # bytes cache their hash: the later look-ups of the same ref are cheap
        if key not in self._recent:
            if len(self._recent) >= self._remember:
                self._recent.popitem(last=False)  # the oldest first
            self._recent[key] = event

    def __call__(self, ref: EventRef) -> Event:
        event = self._recent.get((ref.topic, ref.record))
        if event is None:
            event = self._deserializer(ref.record, SerdeContext(topic=ref.topic))
            self.keep(ref, event)
        return event


def ref_loader(deserializer: Deserializer, *, remember: int = 4096) -> RefLoader:
    """The processor's ``RefLoader`` (see there)."""
    return RefLoader(deserializer, remember)


def raw_identifiers(event: Event, book: ProfileBook) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for field in IDENTIFIER_FIELDS:
        found.extend(event.value.get(field) or [])
    found.extend(book.identifiers(event))
    return found


def with_caller_traits(event: Event, saga: Saga) -> Saga:
    """A contact that names the record with its customer's traits (a call's IVR data, a counter visit's) waits for
    them (``traits_from``); that record, an ``IdentifiersObserved`` of the call center or a branch with traits,
    leaves them (``graph/contact_join.py``)."""
    traits_event_id = event.value.get("traits_event_id")
    if traits_event_id:
        return msgspec.structs.replace(saga, traits_from=traits_event_id)
    if (event.schema, event.value["envelope"]["channel"]) in CALLER_RECORDS and (saga.traits or _any_trait(event)):
        return msgspec.structs.replace(saga, leaves_traits=True)
    return saga


def with_holder_role(event: Event, saga: Saga) -> Saga:
    """A system of record's line of a member of its account (``holder_role`` MEMBER on the business event or on its
    ``IdentifiersObserved``: a family plan's child) ranks its account after every payer's
    (``graph/limits.key_rank``)."""
    if saga.channel == RECORD_CHANNEL and event.value.get(HOLDER_ROLE) == MEMBER:
        return msgspec.structs.replace(saga, member_line=True)
    return saga


def _any_trait(event: Event) -> bool:
    """Whether the record carries a trait at all, compared or not: an adapter names it in its contact's
    ``traits_event_id`` whenever the caller gave any (a call flow's ``language`` alone), and the contact waits for it
    at its identifier even when none of them is compared (such calls were on no customer)."""
    return any((event.value.get("traits") or {}).values())


def _micros(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


class Intake:
    def __init__(
        self, normalizer: IdentifierNormalizer, book: ProfileBook, *, clock: Callable[[], float] = time.time,
        view: AssignmentView | None = None,
    ) -> None:
        """``view``: where repeat contacts find their customer (``fastpath``); None sends every event the slow way."""
        self._normalizer = normalizer
        self._book = book
        self._clock = clock
        self._view = view

    def identifiers(self, raw: list[dict[str, str]]) -> tuple[list[Identifier], list[Rejected]]:
        accepted: dict[str, Identifier] = {}
        rejected: list[Rejected] = []
        # A contact names each identifier twice (its field, and the recent-contacts section's view of it): a raw
        # (type, value) accepted once here is not normalised again, whose answer would be the same remembered
        # ``Identifier`` (``IdentifierNormalizer.normalize``). A refusal is normalised again: it is counted each time.
        seen: set[tuple[str, str]] = set()
        for item in raw:
            kind, value = item.get("type"), item.get("value")
            pair = (kind, value) if type(kind) is str and type(value) is str else None
            if pair in seen:
                continue
            result = self._normalizer.normalize(item)
            if isinstance(result, Rejected):
                rejected.append(result)
            else:
                accepted.setdefault(result.key, result)
                if pair is not None:
                    seen.add(pair)
        return list(accepted.values()), rejected

    def start(self, event: Event, ref: EventRef | None) -> list[Output]:
        """The first saga message of ``event`` plus a refusal for every value that cannot be linked.

        Raises ``EventTooLarge`` when the saga message would be over ``MAX_SAGA_BYTES``.
        """
        envelope = event.value["envelope"]
        event_id, channel = envelope["event_id"], envelope["channel"]
        identifiers, rejected = self.identifiers(raw_identifiers(event, self._book))
        outputs: list[Output] = [
            Refused(f"{r.type}:{r.masked}", r.reason, Lineage(event_id, channel, r.rule)) for r in rejected
        ]
        traits = event.value.get("traits") or {}
        lookup_only: list[str] = []
        if traits.get(ALIAS_PREVIOUS_ID):
            found, _ = self.identifiers([{"type": kind, "value": traits[ALIAS_PREVIOUS_ID]} for kind in ALIAS_KINDS])
            keys = {i.key for i in identifiers}
            lookup_only = [i.key for i in found if i.key not in keys]
        if not identifiers and (named := _named_customer(event)) is not None and ref is not None:
            # the tracker's event of a case whose customer holds none of its contact points any longer (a recycled
            # number): on the customer it names, as handoff_moves.follow places one that names identifiers too
            occurred = _micros(envelope["occurred_at"])
            apply = Apply(event_id, self._clock(), None, ref, rank=event_rank(occurred, event_id), channel=channel)
            return [*outputs, Send(named, apply, encoded=encode_message(named, apply))]
        if not identifiers and self._book.reads(event.schema):
            return self._unplaced(event, outputs)
        if identifiers:
            saga = new_saga(event_id, channel, _micros(envelope["occurred_at"]), [i.key for i in identifiers],
                            ref, self._clock(), traits=summarize(traits), lookup_only=lookup_only,
                            correlation_id=envelope.get("correlation_id"))
            saga = with_caller_traits(event, saga)
            saga = with_holder_role(event, saga)
            joins = saga.traits_from is not None or saga.leaves_traits  # at the identifier nodes: never the fast path
            joins = joins or closes(saga)  # its account's node keeps the closure (graph/recycle.py)
            joins = joins or revises(saga, envelope)  # and its lines' revisions (graph/record_lines.py)
            claim = self._view.claim(saga.ids) if self._view is not None and not (lookup_only or joins) else None
            node, message = (saga.ids[0], Visit(saga)) if claim is None else (claim[0], Fast(claim[1], saga))
            # (a repeat contact goes straight to its customer's root, which checks the claim: graph/fast_node.py)
            if (size := len(encoded := encode_message(node, message))) > MAX_SAGA_BYTES:
                raise EventTooLarge(f"{event.schema} makes a graph message of {size} bytes, over the "
                                    f"{MAX_SAGA_BYTES} bytes one may have")
            outputs.append(Send(node, message, encoded=encoded))  # bundled as it is (wire.bundle)
        return outputs

    def _unplaced(self, event: Event, refusals: list[Output]) -> list[Output]:
        """An event a profile section reads with no identifier to place it: counted
        (``omnibus_identity_events_without_identifier_total``), then ``Unresolved`` if it is an anonymous contact,
        a handoff's (``ANONYMOUS_HANDOFFS``) or its identifiers were refused (each ``Refused`` says why), else
        ``NoIdentifier`` (dead-lettered)."""
        anonymous = event.schema.startswith(ANONYMOUS_CONTACTS) or event.schema in ANONYMOUS_HANDOFFS or bool(refusals)
        EVENTS_WITHOUT_IDENTIFIER.labels(event.schema, "unresolved" if anonymous else "dead_lettered").inc()
        if not anonymous:
            raise NoIdentifier(f"{event.schema} names no customer (no identifier): a profile section reads it, "
                               "so it would be on no screen pop")
        return [*refusals, Unresolved(event.value["envelope"]["event_id"], self._clock())]


def _named_customer(event: Event) -> str | None:
    """The customer a tracker's status change or routing names (``customer_id``), or None."""
    return (event.value.get("customer_id") or None) if event.schema in NAMING else None
