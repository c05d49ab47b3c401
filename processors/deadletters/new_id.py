"""``redrive --new-id``: publish a message refused at HTTP ingress only for its id under an id derived from it.

A message an adapter refused at its HTTP ingress has no topic to go back on, and a Segment SDK never sends again a
message answered 400: one refused only because its id named other content (``id_conflict``,
``request_id_conflict``) would be lost once its dead letter expires. The adapter that refused it maps
it again (a ``Reissue`` per component: ``adapters.web.reissue`` for ``adapter.web``) under a new id derived from
its content, and its events are published with the headers ``omnibus-redriven-from``, ``omnibus-dead-letter-id``,
``omnibus-redriven-by`` and ``omnibus-redrive-reason`` (who asked and why, as every operator command records).
Once, as ``redrive``: the topics it publishes on are read from the dead letter's ``failed_at`` for a record
carrying its id; past that, the same message always maps to the same event ids, which processors drop as copies.

A processor's dead letter qualifies too when its component has a ``Reissue`` with ``from_topic``: the handoff
tracker's ``duplicate_creation`` of a web service request (``adapters.web.reissue_creation``: another request
under a used case id that reached another web replica, answered 200 there).

Refused, with the reason: any other dead letter read from a topic (plain ``redrive`` puts it back as it was), a
file's line, one of a component with no ``Reissue`` or refused for its content (a new id would not mend it), one
without its whole value, and one whose message the adapter refuses again (its settings changed since).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bus.config import OmnibusSettings
from bus.dead_letter import FILE_HEADER
from bus.errors import OmnibusError
from bus.logging import get_logger
from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from processors.deadletters import (
    DEAD_LETTER_ID_HEADER,
    REDRIVE_REASON_HEADER,
    REDRIVEN_BY_HEADER,
    REDRIVEN_FROM_HEADER,
    DeadLetter,
)
from processors.deadletters.redrive import Outcome, already_redriven, event_topics, ingress_refusal

log = get_logger(__name__)
REFUSED_AT_INGRESS = "RejectedInput."  # the error type's prefix of input an adapter refused (``AdapterPublisher``)


class NotReissued(OmnibusError):
    """A ``Reissue`` cannot map the dead letter again; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class Reissued:
    """What a dead letter becomes: the new ids (field -> id, e.g. ``messageId``) and the events to publish."""

    new_ids: Mapping[str, str]
    events: tuple[Outgoing, ...]


@dataclass(frozen=True, slots=True)
class Reissue:
    """How one component maps its refused input again: ``codes``, the refusal codes of input refused only for its id
    (the dead letter's error type is ``prefix`` then the code: ``RejectedInput.id_conflict``); ``reissue`` maps a
    dead letter with one of them, or raises ``NotReissued``. ``from_topic``: the component is a processor, whose
    dead letters were read from a topic (the handoff tracker's ``IllegalTransition:duplicate_creation``); else an
    adapter's HTTP ingress."""

    codes: frozenset[str]
    reissue: Callable[[DeadLetter], Reissued]
    prefix: str = REFUSED_AT_INGRESS
    from_topic: bool = False


@dataclass(frozen=True, slots=True)
class Operator:
    """Who asked for the re-issue and why (``--by``, ``--reason``), as typed after scrubbing."""

    by: str
    reason: str


def refusal(letter: DeadLetter, reissues: Mapping[str, Reissue]) -> str | None:
    """Why ``letter`` cannot be published under a new id, or None."""
    f = letter.fields
    component = str(f["source_component"])
    known = reissues.get(component)
    read = f.get("source_topic") is not None
    if read and (known is None or not known.from_topic):
        return "it was read from a topic: redrive it without --new-id (the record goes back as it was)"
    if FILE_HEADER in letter.location:
        return ingress_refusal(letter)
    error_type = str(f["error_type"])
    if known is None or known.from_topic != read:
        takers = sorted(name for name, r in reissues.items() if r.from_topic == read)
        return (f"--new-id re-issues messages of {', '.join(takers)} only; this one was refused by "
                f"{component}: the sender must send it again")
    code = error_type[len(known.prefix):] if error_type.startswith(known.prefix) else None
    if code not in known.codes:
        takes = ", ".join(f"{known.prefix}{c}" for c in sorted(known.codes))
        if read:
            return (f"refused as {error_type}: --new-id takes {takes} of {component}; redrive it without --new-id "
                    "(the record goes back as it was)")
        return (f"refused as {error_type}, for its content: a new id would not mend it (the sender must correct it "
                f"and send it again); --new-id takes {takes}")
    if f.get("value") is None or f.get("value_truncated"):
        return "the dead letter does not hold the whole original message"
    return None


def operator_headers(letter: DeadLetter, operator: Operator) -> tuple[tuple[str, bytes], ...]:
    """The headers of a record an operator published from ``letter``: where from, its id, who and why."""
    return ((REDRIVEN_FROM_HEADER, letter.position.encode()), (DEAD_LETTER_ID_HEADER, letter.id.encode()),
            (REDRIVEN_BY_HEADER, operator.by.encode()), (REDRIVE_REASON_HEADER, operator.reason.encode()))


def _as(new_ids: Mapping[str, str]) -> str:
    return "as " + ", ".join(f"{name} {value}" for name, value in new_ids.items())


async def redrive_new_id(settings: OmnibusSettings, letters: Sequence[DeadLetter], reissues: Mapping[str, Reissue],
                         operator: Operator, *, dry_run: bool = False, check_done: bool = True) -> list[Outcome]:
    """Publish each of ``letters`` under a new id (see the module docstring); one ``Outcome`` each, in order, ``at``
    naming where it landed (or would) and its new ids. ``check_done=False`` skips the look for earlier copies.
    Raises ``bus.errors.PublishError`` if Kafka does not acknowledge a record (the letters before it are sent)."""
    outcomes: dict[str, Outcome] = {}
    ready: dict[str, tuple[DeadLetter, Reissued]] = {}
    for letter in letters:
        if letter.id in outcomes or letter.id in ready:
            continue
        reason = refusal(letter, reissues)
        if reason is None:
            try:
                ready[letter.id] = (letter, reissues[str(letter.fields["source_component"])].reissue(letter))
            except NotReissued as exc:
                reason = str(exc)
        if reason is not None:
            outcomes[letter.id] = Outcome(letter, "refused", reason=reason)
    outcomes.update(await publish_once(
        settings, {id_: Ready(letter, reissued.events, _as(reissued.new_ids)) for id_, (letter, reissued)
                   in ready.items()}, operator, dry_run=dry_run, check_done=check_done,
        published="dead letter published under a new id"))
    return [outcomes[id_] for id_ in dict.fromkeys(letter.id for letter in letters)]


@dataclass(frozen=True, slots=True)
class Ready:
    """A dead letter an operator publishes anew: its ``events`` and a ``note`` for the answer line (its new ids, or how
    many events)."""

    letter: DeadLetter
    events: tuple[Outgoing, ...]
    note: str


async def publish_once(settings: OmnibusSettings, ready: Mapping[str, Ready], operator: Operator, *,
                       dry_run: bool, check_done: bool, published: str, **logged: object) -> dict[str, Outcome]:
    """Publish the events of each of ``ready`` (dead-letter id -> ``Ready``) with ``operator_headers``, once: a dead
    letter whose id is found on an event topic since it failed is ``already_redriven``; ``dry_run``: each
    ``would_redrive``. ``published``: the log line of each letter sent, with ``logged`` (who and which dead letter,
    never a value). Raises ``bus.errors.PublishError`` if Kafka does not acknowledge a record (those before it are
    sent)."""
    outcomes: dict[str, Outcome] = {}
    topics = {id_: {event.topic for event in item.events} for id_, item in ready.items()}
    # every event topic, not only those of the events to publish now: an earlier re-drive may have published on
    # others (before a part was re-driven alone), and ``handled_before`` reads them all; one answer at every ask
    every = event_topics(settings)
    done = (await already_redriven(settings, [item.letter for item in ready.values()],
                                   topics={id_: every for id_ in ready}) if check_done and ready else {})
    to_send = []
    for id_, item in ready.items():
        if id_ in done:
            outcomes[id_] = Outcome(item.letter, "already_redriven", at=done[id_])
        elif dry_run:
            outcomes[id_] = Outcome(item.letter, "would_redrive", at=f"{', '.join(sorted(topics[id_]))} {item.note}")
        else:
            to_send.append(item)
    if to_send:
        serializer, _ = build_serde(settings.registry)
        async with EventProducer(settings, serializer) as producer:
            for item in to_send:  # one at a time, in order: a failure leaves a clear line
                headers = operator_headers(item.letter, operator)
                metas = await producer.publish_many(
                    [Outgoing(e.topic, e.key, e.event, (*e.headers, *headers)) for e in item.events])
                first = metas[0]
                outcomes[item.letter.id] = Outcome(item.letter, "redriven",
                                                   at=f"{first.topic}/{first.partition}/{first.offset} {item.note}")
                # who and which dead letter, never the message's content (identifier values stay out of logs)
                log.info(published, dead_letter_id=item.letter.id, by=operator.by, events=len(metas), **logged)
    return outcomes
