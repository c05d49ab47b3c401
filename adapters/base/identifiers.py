"""What adapters add to the shared normaliser (``bus.identifiers``): Kafka keys and ``IdentifiersObserved``.

Every adapter normalises with ``bus.identifiers.IdentifierNormaliser`` (one rule set with identity) and
publishes what it could not normalise as ``rejected_identifiers`` on an ``IdentifiersObserved`` event,
so a bad value is never dropped without trace while the rest of the record flows. Placeholders (``unknown``,
``000000000``) are refused here too, on the normalised value (``edge_normaliser``), so the sender's answer lists
them in ``dropped_identifiers`` like any other value left off; identity still refuses its own
configured test values (``OMNIBUS_IDENTITY__BLOCKED_VALUES``), which adapters do not know.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.base.handoff_request import NAMES_NOBODY, names_nobody
from adapters.base.mapper import PARTS, MappedRecord
from bus.identifiers import Found, IdentifierNormaliser, IdentifierSettings, Rejected
from bus.identifiers.national_id import LEGACY_SCHEME, NO_SCHEME_CODE, SCHEMES_VARIABLE, schemes_checked
from bus.identifiers.normaliser import NO_TOKEN_KEY_CODE
from bus.identifiers.placeholders import PLACEHOLDER_CODE
from bus.identifiers.settings import HMAC_KEY_VARIABLE
from bus.identifiers.traits import travelling
from bus.plural import counted, noun_for
from bus.producer import Outgoing
from bus.serde import Event
from schemas.enums import HOLDER_ROLE

Identifier = dict[str, str]  # an omnibus.common.Identifier record: {"type": ..., "value": ...}
OBSERVED_SCHEMA = "omnibus.contact.IdentifiersObserved"


def edge_normaliser(settings: IdentifierSettings | None, *, region: str | None, component: str) -> IdentifierNormaliser:
    """The normaliser of an adapter's records: ``region`` is the source's phone region (None: the default one),
    ``component`` labels ``omnibus_identifiers_rejected_total``; placeholders are refused (rule ``blocked-value``,
    code ``placeholder``)."""
    return IdentifierNormaliser(settings, region=region, component=component, block_placeholders=True)


def key_of(identifier: Mapping[str, str]) -> str:
    """The Kafka key for events keyed by an identifier: ``TYPE:value`` (e.g. ``PHONE:+33612345678``)."""
    return f"{identifier['type']}:{identifier['value']}"


def observed(
    topic: str, envelope: dict[str, Any], found: Found | Sequence[Identifier], traits: Mapping[str, str] | None = None,
    *, rejected: Sequence[Rejected] = (), fallback_key: str, component: str = "adapter",
    left_out: dict[str, str] | None = None, holder_role: str | None = None,
) -> Outgoing | None:
    """The ``IdentifiersObserved`` of a record, or None when it has no identifier, rejection or trait.

    ``found`` is what the normaliser found (identifiers and rejections), or identifier records plus
    ``rejected``. Keyed by the first identifier, else ``fallback_key`` (the key of the record's other events).
    Only the standard trait keys travel (``bus.identifiers.traits.travelling``: others are dropped and counted under
    ``component``; a Segment trait ``imei`` reached every subscriber raw), and named in ``left_out``
    (trait key -> reason, for the sender's answer: ``dropped_traits``). ``holder_role``: a system of record's line's
    role on its account (``schemas.enums.HOLDER_ROLES``: ``adapters/legacy/roles.py``), None elsewhere; always
    written, as every field of the schema is.
    """
    traits = travelling(traits, component=component, left_out=left_out)
    if isinstance(found, Found):
        records, refused = found.records(), [*found.rejected, *rejected]
    else:
        records, refused = [dict(record) for record in found], list(rejected)
    if not records and not refused and not traits:
        return None
    value = {
        "envelope": envelope, "identifiers": records, "traits": dict(traits) if traits else None,
        "rejected_identifiers": [item.as_record() for item in refused], HOLDER_ROLE: holder_role,
    }
    return Outgoing(topic, key_of(records[0]) if records else fallback_key, Event(OBSERVED_SCHEMA, value))


def dropped_identifiers(
    accepted: Iterable[tuple[int, MappedRecord]], **labels: Sequence[str | None]
) -> list[dict[str, Any]]:
    """What an answer tells the sender about identifiers left off accepted records.

    ``accepted`` is ``ChunkOutcome.accepted`` ((index, record) pairs); ``labels`` name extra fields per
    index, e.g. ``event_id=[...]`` (the sender's ids, by input index). One entry per refused value:
    ``{"index": 0, "event_id": "e1", "kind": "NATIONAL_ID", "code": "national-id-checksum", "reason": "..."}``.
    The value itself is never in it (``reason`` names no value; see ``bus.identifiers``): the record was
    accepted, only that identifier was not linked.
    """
    dropped: list[dict[str, Any]] = []
    for index, record in accepted:
        for outgoing in record.events:
            if outgoing.event.schema != OBSERVED_SCHEMA:
                continue
            for refused in outgoing.event.value.get("rejected_identifiers") or ():
                dropped.append(_entry(index, labels, kind=refused["type"], code=refused["code"],
                                      reason=refused["reason"]))
    return dropped


def kept_identifier_types(record: MappedRecord) -> list[str]:
    """The type of every identifier ``record`` publishes to identity (its ``IdentifiersObserved`` events'
    ``identifiers``, one entry per value), beside which ``dropped_identifiers`` names those it left off."""
    return [identifier["type"] for outgoing in record.events if outgoing.event.schema == OBSERVED_SCHEMA
            for identifier in outgoing.event.value.get("identifiers") or ()]


def dropped_traits(
    accepted: Iterable[tuple[int, MappedRecord]], **labels: Sequence[str | None]
) -> list[dict[str, Any]]:
    """What an answer tells the sender about traits left off accepted records (a bad birth date was
    dropped silently). Arguments as ``dropped_identifiers``; one entry per trait:
    ``{"index": 0, "event_id": "e1", "trait": "birth_date", "reason": "not a date of birth (...)"}``, never the value.
    """
    return [_entry(index, labels, trait=trait, reason=reason)
            for index, record in accepted for trait, reason in (record.dropped_traits or {}).items()]


def dropped_parts(
    accepted: Iterable[tuple[int, MappedRecord]], part: str, **labels: Sequence[str | None]
) -> list[dict[str, Any]]:
    """The ``part`` (``adapters.base.mapper.PARTS``) refused on records published without it
    (``MappedRecord.dropped_parts``). Arguments as ``dropped_identifiers``; one entry per refused part:
    ``{"index": 0, "code": "missing_field", "reason": "CTR: field Attributes.omnibus_handoff_kind is required to open
    a handoff (...)"}``."""
    return [_entry(index, labels, code=dropped.refusal.code, reason=dropped.refusal.reason)
            for index, record in accepted for dropped in record.dropped_parts if dropped.part == part]


def handoffs_naming_nobody(
    accepted: Iterable[tuple[int, MappedRecord]], **labels: Sequence[str | None]
) -> list[dict[str, Any]]:
    """The cases opened by accepted records that name no identifier of the customer
    (``adapters.base.handoff_request.names_nobody``): nobody will be notified of them nor see them on a screen pop.
    Arguments as ``dropped_identifiers``; one entry per case: ``{"index": 0, "handoff_id": "SR-2026-0002", "reason":
    NAMES_NOBODY}``."""
    return [_entry(index, labels, handoff_id=handoff_id, reason=NAMES_NOBODY)
            for index, record in accepted for outgoing in record.events
            if (handoff_id := names_nobody(outgoing.event)) is not None]


def dropped_fields(accepted: Sequence[tuple[int, MappedRecord]], **labels: Sequence[str | None]) -> dict[str, Any]:
    """The answer's ``dropped_identifiers``, ``dropped_traits`` and ``dropped_<part>s`` of every optional part
    (``dropped_handoffs``, ``dropped_follow_ups``, ``dropped_offers``, ``dropped_cards``), and
    ``handoffs_naming_nobody``, each only when not empty (arguments as ``dropped_identifiers``), to merge into the body
    of a 2xx or partial answer."""
    lists = {"dropped_identifiers": dropped_identifiers(accepted, **labels),
             "dropped_traits": dropped_traits(accepted, **labels),
             **{f"dropped_{part}s": dropped_parts(accepted, part, **labels) for part in PARTS},
             "handoffs_naming_nobody": handoffs_naming_nobody(accepted, **labels)}
    return {name: entries for name, entries in lists.items() if entries}


def handoffs_naming_nobody_openapi(id_field: str | None = None) -> dict[str, Any]:
    """The OpenAPI schema of ``handoffs_naming_nobody`` (``id_field``: the sender's id echoed per entry)."""
    return _dropped_openapi(id_field, {"handoff_id": {"type": "string", "description": "The case opened."}},
                            "Present only when an accepted record opened a back-office case (handoff) that names no "
                            "phone, e-mail or other identifier of the customer: the case is open, but nobody will be "
                            "notified of it nor see it on a screen pop (the tracker marks it needs_contact); add a "
                            "phone or e-mail while the customer is still there.")


def _entry(index: int, labels: Mapping[str, Sequence[str | None]], **fields: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": index}
    entry.update({name: values[index] for name, values in labels.items()})
    entry.update(fields)
    return entry


def dropped_identifiers_openapi(id_field: str | None = None) -> dict[str, Any]:
    """The OpenAPI schema of ``dropped_identifiers`` (``id_field``: the sender's id echoed per entry)."""
    return _dropped_openapi(id_field, {
        "kind": {"type": "string", "description": "Identifier type (PHONE, EMAIL, NATIONAL_ID, ...)."},
        "code": {"type": "string", "description": "Short reason (phone-invalid, email-syntax...)."},
    }, "Present only when some identifier of an accepted record was left off: the record was published without it "
       "(and with it listed as rejected_identifiers on identity.observed.v1), so the sender can correct it.")


def dropped_traits_openapi(id_field: str | None = None) -> dict[str, Any]:
    """The OpenAPI schema of ``dropped_traits`` (``id_field``: the sender's id echoed per entry)."""
    return _dropped_openapi(id_field, {
        "trait": {"type": "string", "description": "Standard trait key (given_name, birth_date, country, ...), or "
                  "the sender's own key when it is none (reason starting with unknown-key)."},
    }, "Present only when a trait of an accepted record could not be normalised or has no standard key: the record "
       "was published without it, so the sender can correct it.")


def dropped_handoffs_openapi(id_field: str | None = None) -> dict[str, Any]:
    """The OpenAPI schema of ``dropped_handoffs`` (``id_field``: the sender's id echoed per entry)."""
    return _dropped_part_openapi(
        id_field, "missing_field: a team or summary without the kind; malformed_field: a value that is not text or "
        "too long", "asked for a back-office handoff that could not be opened (a summary or team without the kind of "
        "case, a value that is not text or too long)", "the handoff request")


def dropped_follow_ups_openapi(id_field: str | None = None) -> dict[str, Any]:
    """The OpenAPI schema of ``dropped_follow_ups`` (``id_field``: the sender's id echoed per entry)."""
    return _dropped_part_openapi(
        id_field, "bad_field: a follow-up without the handoff_id of the case, or a value that is not text or too long",
        "recorded a follow-up on a case already open that could not be recorded (no handoff_id of the case, a value "
        "that is not text or too long)", "the follow-up")


def dropped_offers_openapi(id_field: str | None = None) -> dict[str, Any]:
    """The OpenAPI schema of ``dropped_offers`` (``id_field``: the sender's id echoed per entry)."""
    return _dropped_part_openapi(
        id_field, "malformed_field or bad_field: an offer id, version or response missing or malformed, or an answer "
        "without the customer's identifiers", "carried an answer to an offer that could not be recorded (an offer id, "
        "version or response missing or malformed)", "the offer answer")


def _dropped_part_openapi(id_field: str | None, codes: str, what: str, part: str) -> dict[str, Any]:
    """The schema of a ``dropped_<part>s`` list (``MappedRecord.dropped_parts``): ``codes`` lists the reason codes,
    ``what`` says when it is present (a record that ...), ``part`` names the refused part."""
    return _dropped_openapi(id_field, {"code": {"type": "string", "description": f"Short reason ({codes})."}},
                            f"Present only when a record {what}: the record was published without it, and {part} "
                            "was dead-lettered with the record (omnibus deadletters list), so the sender can correct "
                            "it and send the record again.")


def _dropped_openapi(id_field: str | None, fields: dict[str, Any], description: str) -> dict[str, Any]:
    properties: dict[str, Any] = {"index": {"type": "integer", "description": "Position of the record in the request."}}
    if id_field:
        properties[id_field] = {"type": ["string", "null"]}
    properties |= fields | {"reason": {"type": "string", "description": "Why, in words; never the value."}}
    return {"type": "array", "items": {"type": "object", "properties": properties},
            "description": f"{description} Never the value."}


SHOWN_LINES = 10  # a file summary lists the lines of dropped identifiers up to this many, else counts them
# Why an identifier was dropped, as a file summary says it ("dropped" said nothing of why).
PLACEHOLDER, MALFORMED = "placeholder", "malformed"
# A national ID refused while the deployment set no scheme (``NO_SCHEME_CODE``): not "malformed", the setting it needs.
NO_SCHEME = f"refused by the default scheme {LEGACY_SCHEME}: none set, see {SCHEMES_VARIABLE}"
# A national ID or card number while no token key is set (``NO_TOKEN_KEY_CODE``): they leave only as tokens.
NO_KEY = f"not tokenised: no HMAC key set, see {HMAC_KEY_VARIABLE}"
_WHY = {PLACEHOLDER_CODE: PLACEHOLDER, NO_SCHEME_CODE: NO_SCHEME, NO_TOKEN_KEY_CODE: NO_KEY}  # a code -> its words
_ORDER = {why: rank for rank, why in enumerate((PLACEHOLDER, NO_SCHEME, NO_KEY, MALFORMED))}  # then any other words


def why_dropped(code: str, reason: str) -> str:
    """What a file summary says of an identifier refused with ``code`` and ``reason``: ``_WHY``'s words, else
    ``malformed under fr.nir, see OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES`` for a national ID refused under the schemes
    the deployment chose (their names, the setting that chooses them), else ``MALFORMED``."""
    if code in _WHY:
        return _WHY[code]
    schemes = schemes_checked(reason)
    return f"malformed under {' or '.join(schemes)}, see {SCHEMES_VARIABLE}" if schemes else MALFORMED


@dataclass
class DroppedTally:
    """Identifiers left off the accepted records of a file import (``import-batch``, ``import-cdr``), for its summary
    line: how many of each type, and on which lines. The values are never kept (a line with a malformed
    phone and e-mail was reported "1 lines, 2 events published, 0 duplicates, 0 rejected")."""

    kinds: Counter[str] = field(default_factory=Counter)  # identifier type (PHONE, EMAIL...) -> values dropped
    why: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, words of ``why_dropped``) -> values
    lines: set[int] = field(default_factory=set)  # line numbers in the file (1 = its first line)
    noun: str = "identifier"  # what is counted: "trait" for a person's traits left out

    def add(self, accepted: Iterable[tuple[int, MappedRecord]], line_of: Callable[[int], int | None]) -> None:
        """Count ``ChunkOutcome.accepted``; ``line_of(index)``: the line number of that item (None: not known)."""
        for entry in dropped_identifiers(accepted):
            self.note(entry["kind"], line_of(entry["index"]), why_dropped(entry["code"], entry["reason"]))

    def note(self, kind: str, line: int | None, why: str | None = None) -> None:
        """Count one value of ``kind`` dropped on ``line`` (None: not known); ``why``: ``PLACEHOLDER`` (a filler or
        test value: ``bus.identifiers.placeholders``), ``NO_SCHEME`` (a national ID while no scheme is set), ``NO_KEY``
        (no token key set) or ``MALFORMED`` (its type's check refused it; ``why_dropped`` names a national ID's
        schemes), None for a trait."""
        self.kinds[kind] += 1
        if why is not None:
            self.why[kind, why] += 1
        if line is not None:
            self.lines.add(line)

    @property
    def for_want_of_a_setting(self) -> bool:
        """Whether some were dropped because a setting is missing (``NO_SCHEME``, ``NO_KEY``), not for their data."""
        return any(self.why[kind, why] for kind, why in self.why if why in (NO_SCHEME, NO_KEY))

    def summary(self) -> str:
        """``""`` when nothing was dropped, else e.g. ``2 identifiers dropped (EMAIL 1 malformed, PHONE 1 placeholder)
        on line 2``: per type and why (``note``; a type dropped for both reasons is counted once for each); more than
        ``SHOWN_LINES`` lines are counted, not listed. Always the types, never the values."""
        total = sum(self.kinds.values())
        if not total:
            return ""
        kinds = ", ".join(part for kind, count in sorted(self.kinds.items()) for part in self._counts(kind, count))
        text = f"{counted(total, self.noun)} dropped ({kinds})"
        if not self.lines:
            return text
        if len(self.lines) > SHOWN_LINES:
            return f"{text} on {len(self.lines)} lines"
        numbers = ", ".join(str(number) for number in sorted(self.lines))
        return f"{text} on {noun_for(len(self.lines), 'line')} {numbers}"

    def _counts(self, kind: str, count: int) -> list[str]:
        """``["CUSTOMER_NUMBER 2 placeholder", "CUSTOMER_NUMBER 1 malformed"]``; ``["birth_date 2"]`` when no reason
        was given (traits)."""
        whys = sorted((why for named, why in self.why if named == kind), key=lambda why: (_ORDER.get(why, len(_ORDER)),
                                                                                             why))
        reasons = [f"{kind} {self.why[kind, why]} {why}" for why in whys if self.why[kind, why]]
        return reasons or [f"{kind} {count}"]


@dataclass
class NobodyTally:
    """The cases opened by a file import's published lines that name no identifier of the customer
    (``handoffs_naming_nobody``), for its summary line: how many, on which lines (never their content)."""

    cases: int = 0
    lines: set[int] = field(default_factory=set)

    def add(self, accepted: Iterable[tuple[int, MappedRecord]], line_of: Callable[[int], int | None]) -> None:
        """Count ``ChunkOutcome.accepted``; ``line_of(index)``: the line number of that item (None: not known)."""
        for entry in handoffs_naming_nobody(accepted):
            self.cases += 1
            if (line := line_of(entry["index"])) is not None:
                self.lines.add(line)

    def summary(self) -> str:
        """``""`` when every case named someone, else ``1 case names nobody on line 3: nobody will be notified of it,
        nor see it on a screen pop; add a phone or e-mail``."""
        if not self.cases:
            return ""
        many = self.cases != 1
        where = (f" on {len(self.lines)} lines" if len(self.lines) > SHOWN_LINES else
                 f" on {noun_for(len(self.lines), 'line')} {', '.join(map(str, sorted(self.lines)))}"
                 if self.lines else "")
        them = "them" if many else "it"
        return (f"{counted(self.cases, 'case')} {'name' if many else 'names'} nobody{where}: nobody will be notified "
                f"of {them}, nor see {them} on a screen pop; add a phone or e-mail")
