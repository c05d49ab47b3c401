"""What a contact's attributes say, the same for every platform (Connect CTR ``Attributes``, TaskRouter
``TaskAttributes``, Asterisk's caller id): the caller's number, the record keys a verifying contact flow wrote, the
caller's traits, the agent's offer disposition and the handoff asked for.

A key a master record holds (an account, card or customer number, a national ID: ``bus.identifiers.kinds.
CLAIMABLE_KEYS``) typed on the keypad is the caller's claim: it is read only under the attribute names the deployment
declares verified (``CallCenterSettings.verified_record_attributes``; adapters/call_center/README.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.base.card_status import card_status
from adapters.base.errors import RejectedInput
from adapters.base.handoff_request import BadHandoffRequest, HandoffRequest
from adapters.base.offer_disposition import ATTRIBUTES, BadDisposition, OfferDisposition
from adapters.call_center.config import CallCenterSettings
from adapters.call_center.errors import malformed, missing
from bus.identifiers.kinds import CARD, CLAIMABLE_KEYS, SUPPLY_POINT, label
from bus.identifiers.metrics import REJECTED_TRAITS
from bus.identifiers.traits import UNKNOWN_KEY, UNKNOWN_TRAIT, standard_traits
from bus.redact import SENSITIVE_FIELDS, free_text, squashed


def caller_number(raw: object) -> object:
    """A caller number, or None for telephony's markers of a withheld caller id ("anonymous", "Restricted",
    "Unavailable": no digits at all), which say there is no number rather than a number that is wrong."""
    if raw is None or (isinstance(raw, str) and not any(ch.isdigit() for ch in raw)):
        return None
    return raw


# Attribute names that say they hold a claimable key (``bus.redact.SENSITIVE_FIELDS`` of the ``CLAIMABLE_KEYS`` kinds,
# compared ``squashed``) -> its kind: ``accountNumber``, ``account_number``, ``iban``, ``cardNumber``, ``pan``,
# ``customerNumber``, ``cust_no``, ``nationalId``, ``dni``, ``nie`` (a DNI was ignored without a word)...
CLAIMABLE_KEY_NAMES: dict[str, str] = {squashed(name): kind for name, kind in SENSITIVE_FIELDS.items()
                                       if kind is not None and kind in CLAIMABLE_KEYS}
VERIFIED_RECORD_SETTING = "OMNIBUS_ADAPTER_CALL_CENTER__VERIFIED_RECORD_ATTRIBUTES"


def unverified_record_key(kind: str) -> str:
    """The ``dropped_traits`` reason of an attribute named as a claimable key of ``kind`` that the flow did not
    verify."""
    return (f"{UNKNOWN_KEY}: {label(kind)} the contact flow did not verify, left off (read only under "
            f"the names {VERIFIED_RECORD_SETTING} gives for {kind}: a number typed on the keypad is the caller's "
            "claim)")


def verified_record_keys(attributes: Mapping[str, Any], settings: CallCenterSettings,
                         left_out: dict[str, str]) -> list[tuple[str, object]]:
    """``(kind, value)`` of each claimable key kind ``settings.verified_record_attributes`` names: the value of its
    first attribute that is present (kinds none of whose attributes is present are left out).

    Another attribute named as a claimable key (``accountNumber``, ``iban``, ``customerNumber``, ``nationalId``,
    ``dni``: ``CLAIMABLE_KEY_NAMES``) is left off: noted in ``left_out`` (attribute name -> reason, the answer's
    ``dropped_traits``; never the value) and counted
    (``omnibus_traits_rejected_total{component="call_center", trait="unknown", code="unknown-key"}``: Firehose never
    reads the answer). A number the caller typed that the flow did not check against the system
    of record would move the caller's phone, call and handoff to that number's holder in identity; so would a national
    ID, which is no secret."""
    verified = settings.verified_record_attributes
    found: list[tuple[str, object]] = []
    for kind in sorted(verified):  # one order, however the setting is written
        value = next((attributes[name] for name in verified[kind] if attributes.get(name) not in (None, "")), None)
        if value is not None:
            found.append((kind, value))
    listed = {name for names in verified.values() for name in names}
    for name, value in attributes.items():
        named = CLAIMABLE_KEY_NAMES.get(squashed(name))
        if named is not None and name not in listed and value not in (None, ""):
            left_out[name] = unverified_record_key(named)
            REJECTED_TRAITS.labels("call_center", UNKNOWN_TRAIT, UNKNOWN_KEY).inc()
    return found


def supply_points(attributes: Mapping[str, Any], settings: CallCenterSettings) -> list[tuple[str, object]]:
    """``(SUPPLY_POINT, value)`` of the first attribute ``settings.supply_point_attributes`` names that is present (a
    meter's or a line's number the caller gave or the flow looked up), else nothing."""
    value = next((attributes[name] for name in settings.supply_point_attributes
                  if attributes.get(name) not in (None, "")), None)
    return [] if value is None else [(SUPPLY_POINT, value)]


def contact_traits(attributes: Mapping[str, Any], settings: CallCenterSettings, left_out: dict[str, str], *,
                   not_traits: frozenset[str] = frozenset()) -> dict[str, str]:
    """The standard traits among a contact's attributes (CTR ``Attributes``, TaskRouter ``TaskAttributes``): under a
    trait's usual spellings (``bus.identifiers.traits.ALIASES``: ``firstName``, ``lastName``, ``dateOfBirth``...) or
    as ``settings.trait_attributes`` maps them; one rule for every platform. Those that did not
    normalise go to ``left_out`` (standard key -> why). ``not_traits``: attribute names the platform fills with
    something else (Flex's ``name``: the caller's number), read only when ``trait_attributes`` names them."""
    fields = {name: value for name, value in attributes.items()
              if name not in not_traits or name in settings.trait_attributes}
    return standard_traits(fields, names=settings.trait_attributes, component="call_center", left_out=left_out)


def recorded_offer(attributes: dict[str, Any], source: str, within: str = "Attributes",
                   ) -> tuple[OfferDisposition | None, RejectedInput | None]:
    """``offer`` and ``offer_refused`` of a ``Call``: the agent's offer disposition from contact / task attributes
    ``offer_id``, ``offer_version``, ``offer_response``, or the refusal of one half-recorded or malformed: the call
    is published without it (``MappedRecord.dropped_parts``; as a handoff request: the whole call
    was refused for its wrap-up form's offer fields)."""
    try:
        return OfferDisposition.parse(*(attributes.get(name) for name in ATTRIBUTES)), None
    except BadDisposition as exc:
        return None, malformed(f"{within}.{exc.field}", source, str(exc))


def recorded_handoff(attributes: dict[str, Any], source: str, within: str = "Attributes",
                     ) -> tuple[HandoffRequest | None, RejectedInput | None]:
    """``handoff`` and ``handoff_refused`` of a ``Call``: the handoff the contact flow or the
    agent asked for, from contact / task attributes ``omnibus_handoff_kind``, ``_team``, ``_summary``
    (``adapters.base.handoff_request``), or the refusal of a request that cannot open one (a summary without the
    kind): the call is published without it (``MappedRecord.dropped_parts``; the call was lost).
    ``within``: the name of the record's field that holds the attributes, as a refusal names it (a CTR's
    ``Attributes``, a TaskRouter callback's ``TaskAttributes``: a callback's refusal pointed at the CTR's name)."""
    try:
        return HandoffRequest.from_attributes(attributes), None
    except BadHandoffRequest as exc:
        # a kind left out is named as missing, not as "malformed (is required ...)"
        return None, (missing if exc.missing else malformed)(f"{within}.{exc.field}", source, str(exc))


# Contact / task attributes with which the contact flow or the agent records a card's new status.
CARD_STATUS, CARD_STATUS_REASON = "omnibus_card_status", "omnibus_card_status_reason"
MAX_CARD_WORD_CHARS = 64


@dataclass(frozen=True, slots=True)
class CardReport:
    """The card status the call recorded: for the card the contact flow verified (``card``, a CARD identifier)."""

    card: dict[str, str]
    status: str  # omnibus.business.CardStatus
    source_status: str  # the attribute as written
    reason: str | None = None


def recorded_card_status(attributes: Mapping[str, Any], source: str, caller: Sequence[Mapping[str, str]],
                         within: str = "Attributes") -> tuple[CardReport | None, RejectedInput | None]:
    """``card_status`` and ``card_status_refused`` of a ``Call``: attribute ``omnibus_card_status`` (``blocked``,
    ``stolen``, ``lost``, ``replaced``, ``cancelled``, ``active``: ``adapters.base.card_status``), with an optional
    ``omnibus_card_status_reason``, for the card among the caller's identifiers (a CARD only the attribute names
    ``VERIFIED_RECORD_SETTING`` declares verified give). A status for no verified card, or a word that is no card
    status, is refused: the call is published without it (``MappedRecord.dropped_parts``, as a handoff)."""
    raw, reason = attributes.get(CARD_STATUS), attributes.get(CARD_STATUS_REASON)
    if raw in (None, ""):
        return None, None
    field = f"{within}.{CARD_STATUS}"
    if not isinstance(raw, str) or len(raw) > MAX_CARD_WORD_CHARS:
        return None, malformed(field, source, f"must be text of at most {MAX_CARD_WORD_CHARS} characters")
    status = card_status(raw)
    if status == "UNKNOWN":
        return None, malformed(field, source, "not a card status: blocked, stolen, lost, replaced, cancelled or active")
    cards = [dict(identifier) for identifier in caller if identifier["type"] == CARD]
    if not cards:
        return None, missing(field, source, f"names no card: the contact flow verified none (a {CARD} attribute "
                             f"{VERIFIED_RECORD_SETTING} names, e.g. cardNumber)")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_CARD_WORD_CHARS):
        return None, malformed(f"{within}.{CARD_STATUS_REASON}", source,
                               f"must be text of at most {MAX_CARD_WORD_CHARS} characters")
    written = free_text(reason.strip()) if reason and reason.strip() else None  # free text: no identifier values
    return CardReport(cards[0], status, raw.strip(), written), None
