"""``omnibus deadletters open-case ID``: an operator opens, by hand, the back-office case a dead-lettered record asked
for (a TaskRouter task whose handoff attributes were refused could neither be re-driven nor opened, and
the customer's request was lost).

The operator gives what a case needs on the command line (the kind of case, the customer's identifiers, a summary;
the channel when the dead letter's component does not say it) and who opens it and why; one ``HandoffCreated`` goes
to ``handoff.events.v1`` with acks=all, carrying the headers ``omnibus-redriven-from``, ``omnibus-dead-letter-id``,
``omnibus-redriven-by`` and ``omnibus-redrive-reason`` (``processors.deadletters.new_id.publish_once``), and the
intake facts ``dead_letter_id``, ``opened_by`` and ``opened_why``.

One case per dead letter: its handoff id (``manual_handoff_id``) and event id derive from the dead letter's id, and
before publishing the handoff topic is read from the dead letter's ``failed_at`` for a record carrying its id. A
re-drive of the same dead letter (``redrive ID --set ...``) reads that topic too: whichever comes second publishes
nothing (``already_redriven``). ``--handoff-id`` names the case as its channel would have (``call:<source>:<task
sid>``), so that the tracker refuses a later copy from the channel as a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bus.config import OmnibusSettings
from bus.envelope import envelope, event_id
from bus.errors import OmnibusError
from bus.handoff_limits import MAX_KIND_CHARS, MAX_SUMMARY_CHARS
from bus.identifiers import Identifier, IdentifierNormaliser, load_identifier_settings
from bus.producer import Outgoing
from bus.serde import Event
from bus.topics import HANDOFF_EVENTS
from processors.deadletters import DeadLetter
from processors.deadletters.new_id import Operator, Ready, publish_once
from processors.deadletters.redrive import LEGACY_COMPONENT, Outcome
from processors.handoffs.outputs import CREATED
from schemas.enums import CHANNELS, UNKNOWN

SOURCE_SYSTEM = "omnibus-deadletters"  # the envelope's source of a case opened by hand
# The channel a dead letter's component stands for (adapter.<name>, ``adapters.base.runtime.adapter_component``);
# the legacy adapter's (``redrive.LEGACY_COMPONENT``) is BUSINESS_SYSTEM. Others need ``--channel``.
COMPONENT_CHANNELS = {"adapter.call_center": "CALL_CENTER", "adapter.web": "WEB", "adapter.branch": "BRANCH"}
LEGACY_CHANNEL = "BUSINESS_SYSTEM"


class BadCase(OmnibusError, ValueError):
    """An option of ``open-case`` cannot open a case; the message names the option, never an identifier's value."""


@dataclass(frozen=True, slots=True)
class ManualCase:
    """What the operator typed: ``kind`` (the case type, e.g. line-repair), ``identifiers`` (``TYPE=VALUE``, at
    least one), ``summary`` (None: ``<kind> opened by hand from dead letter <id>``), ``channel`` (None: from the
    dead letter's component), ``site``, ``handoff_id`` (None: ``manual_handoff_id``)."""

    kind: str
    identifiers: Sequence[str]
    summary: str | None = None
    channel: str | None = None
    site: str | None = None
    handoff_id: str | None = None


def manual_handoff_id(letter: DeadLetter) -> str:
    """``deadletter:<dead letter id>``: the same case however often it is opened from that dead letter."""
    return f"deadletter:{letter.id}"


def channel_of(letter: DeadLetter, given: str | None) -> str:
    """``given`` (upper-cased, one of ``CHANNELS``), else the channel of the letter's component; raises ``BadCase``."""
    if given:
        if given.upper() not in CHANNELS or given.upper() == UNKNOWN:
            raise BadCase(f"--channel {given}: expected one of {', '.join(sorted(CHANNELS - {UNKNOWN}))}")
        return given.upper()
    component = str(letter.fields.get("source_component") or "")
    if component.startswith(LEGACY_COMPONENT):
        return LEGACY_CHANNEL
    if component not in COMPONENT_CHANNELS:
        raise BadCase(f"{component or 'the dead letter'} names no channel: give --channel (CALL_CENTER, WEB, BRANCH, "
                      "BUSINESS_SYSTEM, BACK_OFFICE...)")
    return COMPONENT_CHANNELS[component]


def identifiers_of(texts: Sequence[str], normaliser: IdentifierNormaliser) -> list[Identifier]:
    """``TYPE=VALUE`` options normalised as every adapter does; raises ``BadCase`` naming the type and the rule
    broken (never the value), or when there is none."""
    found: list[Identifier] = []
    for text in texts:
        kind, sep, value = text.partition("=")
        if not sep or not kind.strip() or not value.strip():
            raise BadCase("--identifier: expected TYPE=VALUE, e.g. PHONE=<E.164 number>")
        result = normaliser.normalise(kind.strip().upper(), value)
        if not isinstance(result, Identifier):
            raise BadCase(f"--identifier {kind.strip().upper()}=...: {result.rule} ({result.code})")
        if result not in found:
            found.append(result)
    if not found:
        raise BadCase("--identifier TYPE=VALUE is required (the customer the case is for), e.g. PHONE=<E.164 number>")
    return found


def case_event(letter: DeadLetter, case: ManualCase, operator: Operator,
               normaliser: IdentifierNormaliser | None = None) -> Event:
    """The ``HandoffCreated`` of ``case`` (``operator``'s texts already scrubbed, ``bus.cli.operator_text``); occurred
    when the record failed (the deadline runs from the customer's request). Raises ``BadCase``."""
    kind = case.kind.strip().lower()
    if not kind or len(kind) > MAX_KIND_CHARS:
        raise BadCase(f"--kind: 1 to {MAX_KIND_CHARS} characters, e.g. line-repair")
    summary = (case.summary or "").strip() or f"{kind} opened by hand from dead letter {letter.id}"
    if len(summary) > MAX_SUMMARY_CHARS:
        raise BadCase(f"--summary: longer than {MAX_SUMMARY_CHARS} characters")
    identifiers = identifiers_of(case.identifiers, normaliser or IdentifierNormaliser(
        load_identifier_settings(), component="deadletters"))
    handoff = case.handoff_id or manual_handoff_id(letter)
    event = event_id(SOURCE_SYSTEM, letter.id, "manual-case")
    return Event(CREATED, {
        "envelope": envelope(event_id=event, occurred_at=letter.fields["failed_at"], source_system=SOURCE_SYSTEM,
                             channel=channel_of(letter, case.channel), site=case.site, correlation_id=event,
                             source_event_id=letter.id),
        "handoff_id": handoff,
        "customer_identifiers": [identifier.as_record() for identifier in identifiers],
        "case_type": kind,
        "summary": summary,
        "intake_facts": {"dead_letter_id": letter.id, "opened_by": operator.by, "opened_why": operator.reason},
        "origin_channel": channel_of(letter, case.channel),
        "origin_site": case.site,
        "origin_interaction_id": letter.id,
        "service_tier": None,  # the tracker uses the tier it knows for the customer
        "actor": {"kind": "EMPLOYEE", "id": operator.by},
        "traits_event_id": None,
    })


async def open_case(settings: OmnibusSettings, letter: DeadLetter, case: ManualCase, operator: Operator, *,
                    dry_run: bool = False, check_done: bool = True,
                    normaliser: IdentifierNormaliser | None = None) -> Outcome:
    """Publish ``case`` for ``letter`` once (see the module docstring): ``redriven``, ``already_redriven`` or
    ``would_redrive``. Raises ``BadCase``, or ``bus.errors.PublishError`` if Kafka does not acknowledge it."""
    event = case_event(letter, case, operator, normaliser)
    outgoing = Outgoing(HANDOFF_EVENTS.name(settings.topics), event.value["handoff_id"], event)
    outcomes = await publish_once(settings, {letter.id: Ready(letter, (outgoing,), f"(case {outgoing.key})")},
                                  operator, dry_run=dry_run, check_done=check_done,
                                  published="case opened by hand from a dead letter", case_type=event.value[
                                      "case_type"])
    return outcomes[letter.id]
