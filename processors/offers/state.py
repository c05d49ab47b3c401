"""The offer state of one customer across every channel, as kept in the changelog-backed table.

Instants are microseconds since the epoch. Every piece of evidence remembers the identifier keys
(``TYPE:value``) it arrived through (``via``): that is what a split divides by. Shapes:

* ``offers``: offer id -> ``OfferState`` (status, version, where and when presented, the answer that stands, every
  source's answer as ``SourceAnswer`` rows ``[source, status, at_us, channel, [source version, occurred, received]]``
  (``sources.py``), and per push channel what its latest instruction said, ``[channel, instant_us, said]``).
* ``ledger``: presentations for the frequency caps, ``[at_us, channel, offer_id, event_id, via]``; a
  representative's pitch, which later versions revise (``bus.offer_presentations.pitch_of``), as
  ``[at_us, channel, offer_id, pitch, via, received_us]`` of its newest version applied.
* ``reserved``: outbound pushes instructed and not presented yet, which the caps count as contacts
  (``reservations.py``): ``[shown_us, channel, offer_id, instruction_event_id, customer_id, valid_until_us]``.
* ``contacts``: recent contacts for facts and signals, one per contact (its newest version),
  ``[at_us, channel, matter, event_id, via, contact, version]`` (``contact_rows.py``).
* ``products``: product code -> via; ``profile``: service tier, segment, region, city (text facts).
* ``accounts``: account number -> open or closed, its segment, tier and products (``accounts.py``): the segment
  and tier in ``profile`` are the open accounts'.
* ``fact_via``: billing's profile facts and arrears -> via (``"segment"``, ``"service_tier"``, ``"overdue:" + bill
  id``): a split moves them with their identifiers, like products.
* ``signals``: signal kind -> end of its deduplication window (us); ``applied``: recent event ids.
* ``pitches``: a representative's pitch -> its newest version applied, ``[occurred_us, received_us, offer_id,
  source_version_us]``, kept
  by age (``pitches.py``), not by the ledger's count: a later version is never a new presentation within it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bus.offer_presentations import PITCH_SEPARATOR
from processors.offers import accounts as account_book
from processors.offers import contact_rows

APPLIED_IDS_KEPT = 128
LEDGER_KEPT = 200
CONTACTS_KEPT = 100
ANSWERS_KEPT = 32  # sources' answers kept per offer (``OfferState.answers``): the oldest leave first
STANDING_SOURCE = "standing@"  # + instant + channel: the source of an answer kept before sources were (no pitch)
OVERDUE_FACT = "overdue:"  # + bill id: the ``fact_via`` key of an arrears entry


class OfferStatus(StrEnum):
    ELIGIBLE = "ELIGIBLE"
    PRESENTED = "PRESENTED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    NOT_NOW = "NOT_NOW"
    OPTED_OUT = "OPTED_OUT"
    EXPIRED = "EXPIRED"

    @property
    def answered(self) -> bool:
        """An answer that stops every channel from pitching the offer again."""
        return self in (OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.OPTED_OUT)


FINAL_ANSWERS = frozenset(status.value for status in OfferStatus if status.answered)
# The customer's own answers as a WITHDRAW reason: each outranks the channel's own limits (``CAPPED``) and the rules'
# (``NOT_ELIGIBLE``), so a push channel's last word follows them (``push.restated``)
CUSTOMER_ANSWERS = FINAL_ANSWERS | {OfferStatus.NOT_NOW.value}

# Which final answer stands when a customer gave two: a sale stands over a refusal, an opt-out over a decline
# (a decline at the counter, then an acceptance on the next call, is a sale whichever is read first).
ANSWER_PRECEDENCE = {OfferStatus.ACCEPTED: 3, OfferStatus.OPTED_OUT: 2, OfferStatus.DECLINED: 1}


def answer_order(status: OfferStatus, answered_us: int | None, channel: str | None) -> tuple[int, int, str]:
    """The sort key of a final answer, the one that stands first: the strongest (``ANSWER_PRECEDENCE``), then the
    earliest in event time (us), then the channel's name; the same whatever order the answers are read in."""
    return (-ANSWER_PRECEDENCE[status], answered_us or 0, channel or "")


@dataclass(frozen=True, slots=True)
class SourceAnswer:
    """One source's answer to an offer (``sources.py``): ``source``, a representative's pitch
    (``bus.offer_presentations.pitch_of``: its newest version's answer) or an answer given on its own (its event id);
    ``status``, a final answer or NOT_NOW; ``at_us``, when it was given (event time, us); ``channel``; ``order``, the
    version's ``pitch_order`` (source version, occurred, received; us): of one source's two, the greater is newer."""

    source: str
    status: OfferStatus
    at_us: int
    channel: str
    order: tuple[int, int, int] = (0, 0, 0)

    @property
    def pitch(self) -> bool:
        """Whether the source is a representative's pitch (``pitch_of``: ``<channel>|<source system>|<id>``), not an
        answer's event id or a standing answer kept before sources were."""
        return PITCH_SEPARATOR in self.source

    def to_list(self) -> list[Any]:
        return [self.source, self.status.value, self.at_us, self.channel, list(self.order)]

    @classmethod
    def from_list(cls, raw: list[Any]) -> SourceAnswer:
        source, status, at_us, channel, order = raw
        return cls(str(source), OfferStatus(status), int(at_us), str(channel),
                   (int(order[0]), int(order[1]), int(order[2])))


@dataclass(frozen=True, slots=True)
class OfferState:
    status: OfferStatus
    version: int
    updated_us: int
    presentations: int = 0
    last_channel: str | None = None
    last_presented_us: int | None = None
    answered_channel: str | None = None
    answered_us: int | None = None
    snoozed_until_us: int | None = None  # NOT_NOW: not pitched again before this instant
    # the earliest final answer in event time (us), whichever stands: a presentation after it is one after the answer
    first_answered_us: int | None = None
    # the representative's pitch (bus.offer_presentations.pitch_of) whose version gave the answer standing, if one did
    answered_pitch: str | None = None
    via: tuple[str, ...] = ()
    pushed: tuple[str, ...] = ()  # push channels holding an active SHOW instruction
    # (push channel, instant in us, what it said) of the latest instruction under this customer's id on it
    # (push.merged_away, push.sync): ``SHOW``, a WITHDRAW's reason, or "" for one kept before what it said was
    instructed: tuple[tuple[str, int, str], ...] = ()
    # every source's answer standing (``sources.py``); empty in a state kept before they were: its standing answer
    # is then the only one known (``known_answers``)
    answers: tuple[SourceAnswer, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        raw = {k: getattr(self, k) for k in self.__dataclass_fields__}
        return {**raw, "status": self.status.value, "via": list(self.via), "pushed": list(self.pushed),
                "instructed": [list(pair) for pair in self.instructed],
                "answers": [answer.to_list() for answer in self.answers]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> OfferState:
        return cls(**{**raw, "status": OfferStatus(raw["status"]), "via": tuple(raw.get("via", ())),
                      "pushed": tuple(raw.get("pushed", ())),
                      "instructed": tuple((str(entry[0]), int(entry[1]), str(entry[2]) if len(entry) > 2 else "")
                                          for entry in raw.get("instructed", ())),
                      "answers": tuple(SourceAnswer.from_list(entry) for entry in raw.get("answers", ()))})

    def instructed_us(self, channel: str) -> int | None:
        """The instant (us) of the latest instruction on ``channel`` under this customer's id, None if not known."""
        return next((at for known, at, _ in self.instructed if known == channel), None)

    def instructed_reason(self, channel: str) -> str | None:
        """What the latest instruction on ``channel`` under this customer's id said: ``SHOW``, a WITHDRAW's reason,
        "" when kept before that was (not known), or None when none was sent."""
        return next((said for known, _, said in self.instructed if known == channel), None)


def known_answers(offer: OfferState) -> tuple[SourceAnswer, ...]:
    """The sources' answers of ``offer``; for a state kept before they were, its standing answer alone, its source
    its pitch, else ``STANDING_SOURCE`` + its instant and channel (two such answers merged stay two)."""
    if offer.answers or not (offer.status.answered or offer.status is OfferStatus.NOT_NOW):
        return offer.answers
    at_us, channel = offer.answered_us if offer.answered_us is not None else offer.updated_us, offer.answered_channel
    source = offer.answered_pitch or f"{STANDING_SOURCE}{at_us}:{channel or ''}"
    return (SourceAnswer(source, offer.status, at_us, channel or ""),)


def standing_answer(answers: tuple[SourceAnswer, ...]) -> SourceAnswer | None:
    """The answer that stands among ``answers`` (``sources.py``): the final one ``answer_order`` puts first, else the
    latest "not now", else None."""
    final = [answer for answer in answers if answer.status.answered]
    if final:
        return min(final, key=lambda answer: answer_order(answer.status, answer.at_us, answer.channel))
    snoozes = [answer for answer in answers if answer.status is OfferStatus.NOT_NOW]
    return max(snoozes, key=lambda answer: (answer.at_us, answer.channel), default=None)


def newest_answers(*answers: SourceAnswer) -> tuple[SourceAnswer, ...]:
    """One answer per source, its newest version's (the greater ``order``; of equals the later given), by event time;
    past ``ANSWERS_KEPT`` the oldest leave, never the one that stands."""
    newest: dict[str, SourceAnswer] = {}
    for answer in sorted(answers, key=lambda entry: (entry.order, entry.at_us)):
        newest[answer.source] = answer
    kept = sorted(newest.values(), key=lambda entry: (entry.at_us, entry.source))
    if len(kept) > ANSWERS_KEPT:
        top = standing_answer(tuple(kept))
        others = [answer for answer in kept if answer is not top][-(ANSWERS_KEPT - 1):]
        kept = sorted([*others, *([top] if top else [])], key=lambda entry: (entry.at_us, entry.source))
    return tuple(kept)


def first_answer_us(state: OfferState) -> int | None:
    """The instant (event time, us) of the customer's first final answer to the offer, None before one; for a state
    kept before ``first_answered_us`` was, its standing answer's."""
    if state.first_answered_us is not None:
        return state.first_answered_us
    return state.answered_us if state.status.answered else None


@dataclass(slots=True)
class CustomerState:
    customer_id: str
    identifiers: list[str] = field(default_factory=list)
    offers: dict[str, OfferState] = field(default_factory=dict)
    ledger: list[list[Any]] = field(default_factory=list)
    reserved: list[list[Any]] = field(default_factory=list)  # reservations.py
    contacts: list[list[Any]] = field(default_factory=list)
    products: dict[str, list[str]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # account_book.Accounts
    profile: dict[str, str] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)  # bill id -> days overdue
    fact_via: dict[str, list[str]] = field(default_factory=dict)  # profile fact / OVERDUE_FACT + bill -> via
    signals: dict[str, int] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    merged_into: str | None = None  # set when this customer was merged away
    pitches: dict[str, list[Any]] = field(default_factory=dict)  # pitch -> newest version applied (pitches.py)

    def seen(self, event_id: str) -> bool:
        return event_id in self.applied

    def mark(self, event_id: str) -> None:
        self.applied = (self.applied + [event_id])[-APPLIED_IDS_KEPT:]

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id, "identifiers": self.identifiers,
            "offers": {k: v.to_dict() for k, v in self.offers.items()}, "ledger": self.ledger,
            "reserved": self.reserved, "contacts": self.contacts, "products": self.products, "accounts": self.accounts,
            "profile": self.profile,
            "overdue": self.overdue, "fact_via": self.fact_via, "signals": self.signals, "applied": self.applied,
            "merged_into": self.merged_into, "pitches": self.pitches,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CustomerState:
        return cls(**{**raw, "offers": {k: OfferState.from_dict(v) for k, v in raw.get("offers", {}).items()}})


def _union(left: list[str] | tuple[str, ...], right: list[str] | tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys([*left, *right]))


def _merge_offer(left: OfferState, right: OfferState) -> OfferState:
    """``right`` folded into ``left``, the survivor's. A final answer wins over none (of two, the one ``answer_order``
    puts first, as when one customer gave both); else a "not now" over no answer (a presentation does not end a
    snooze, ``machine.present``; of two, the later given); else the later update; presentations add. The same as one
    customer reading both sides' events."""
    def rank(state: OfferState) -> tuple[int, int]:
        tier = 2 if state.status.answered else 1 if state.status is OfferStatus.NOT_NOW else 0
        return (tier, state.answered_us or state.updated_us)

    if left.status.answered and right.status.answered:
        winner, other = sorted((left, right), key=lambda state: answer_order(
            state.status, state.answered_us, state.answered_channel))
    else:
        winner, other = (left, right) if rank(left) >= rank(right) else (right, left)
    presented = [s for s in (left, right) if s.last_presented_us is not None]
    last = max(presented, key=lambda s: s.last_presented_us or 0) if presented else winner
    firsts = [first for first in (first_answer_us(left), first_answer_us(right)) if first is not None]
    return replace(
        winner, version=max(left.version, right.version), presentations=left.presentations + right.presentations,
        first_answered_us=min(firsts, default=None),
        last_channel=last.last_channel, last_presented_us=last.last_presented_us,
        via=tuple(_union(winner.via, other.via)), pushed=tuple(_union(winner.pushed, other.pushed)),
        instructed=left.instructed,  # the survivor's: the instructions under its id
        answers=newest_answers(*known_answers(left), *known_answers(right)),
    )


def _by_event(rows: list[list[Any]], kept: int) -> list[list[Any]]:
    """One row per event id (or pitch: the newest version's, by ``[at_us, ..., received_us]``), the latest ``kept``."""
    unique = {row[3]: row for row in sorted(rows, key=lambda row: (row[0], row[5] if len(row) > 5 else 0))}
    return sorted(unique.values(), key=lambda row: row[0])[-kept:]


def pitch_entry_order(entry: list[Any]) -> tuple[int, int, int]:
    """A ``pitches`` entry's version as ``bus.offer_presentations.pitch_order`` orders it: ``(source version,
    occurred, received)`` in epoch us; an entry kept before the source version was (3 items) states 0 for it."""
    return (int(entry[3]) if len(entry) > 3 else 0), int(entry[0]), int(entry[1])


def _newest_pitches(left: dict[str, list[Any]], right: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Per pitch, the newer version's entry (``[occurred_us, received_us, offer_id, source_version_us]``,
    ``pitches.py``)."""
    return {pitch: max((side[pitch] for side in (left, right) if pitch in side), key=pitch_entry_order)
            for pitch in {*left, *right}}


def _accounts_known(state: CustomerState) -> bool:
    """Whether the segment and tier come from the accounts (one was opened or closed since ``accounts`` is kept)."""
    return any(entry["status"] for entry in state.accounts.values())


def merge(survivor: CustomerState, merged: CustomerState) -> CustomerState:
    """``merged`` folded into ``survivor``: answers win over no answer, cap counters add (pure)."""
    offers = dict(survivor.offers)
    for offer_id, state in merged.offers.items():
        offers[offer_id] = _merge_offer(offers[offer_id], state) if offer_id in offers else replace(
            state, instructed=())  # none under the survivor's id yet
    products = {code: _union(survivor.products.get(code, []), via) for code, via in merged.products.items()}
    derived = _accounts_known(survivor) or _accounts_known(merged)
    accounts = account_book.merged(*(
        account_book.seeded(part.accounts, part.profile, part.fact_via) if derived else part.accounts
        for part in (survivor, merged)))
    result = CustomerState(
        customer_id=survivor.customer_id, identifiers=_union(survivor.identifiers, merged.identifiers),
        offers=offers, ledger=_by_event(survivor.ledger + merged.ledger, LEDGER_KEPT),
        reserved=list({row[3]: row for row in survivor.reserved + merged.reserved}.values()),
        contacts=contact_rows.newest(survivor.contacts + merged.contacts, CONTACTS_KEPT),
        products={**survivor.products, **products}, accounts=accounts,
        profile={**merged.profile, **{k: v for k, v in survivor.profile.items() if v}},
        overdue={**merged.overdue, **survivor.overdue},
        fact_via={**merged.fact_via, **survivor.fact_via},
        signals={k: max(survivor.signals.get(k, 0), merged.signals.get(k, 0))
                 for k in {*survivor.signals, *merged.signals}},
        applied=_union(survivor.applied, merged.applied)[-APPLIED_IDS_KEPT:],
        pitches=_newest_pitches(survivor.pitches, merged.pitches),
    )
    if derived:
        account_book.refresh(result.accounts, result.profile, result.fact_via)
    return result


def split(source: CustomerState, new_customer_id: str, moved: set[str]) -> tuple[CustomerState, CustomerState]:
    """Divide ``source`` by the identifiers that produced each part: what arrived through a moved
    identifier goes to the new customer, the rest stays; evidence through both is kept by both (pure).
    Returns (what the source keeps, the new customer)."""
    def parts(via: list[str] | tuple[str, ...]) -> tuple[bool, bool]:
        via_set = set(via)
        return (not via_set or bool(via_set - moved), bool(via_set & moved))

    # the SHOWs were keyed by the source: their reservations stay with it, whose sync withdraws what no longer fits
    kept = CustomerState(customer_id=source.customer_id, profile=dict(source.profile), reserved=list(source.reserved),
                         overdue=dict(source.overdue), signals=dict(source.signals), applied=list(source.applied),
                         pitches=dict(source.pitches))
    # a pitch's identity goes to both: a later version is no new presentation on the part its identifiers lead to
    new = CustomerState(customer_id=new_customer_id, pitches=dict(source.pitches))
    for identifier in source.identifiers:
        (new if identifier in moved else kept).identifiers.append(identifier)
    for offer_id, state in source.offers.items():
        stays, goes = parts(state.via)
        if stays:
            kept.offers[offer_id] = replace(state, via=tuple(v for v in state.via if v not in moved) or state.via)
        if goes:
            new.offers[offer_id] = replace(state, via=tuple(v for v in state.via if v in moved), pushed=())
    for rows, kept_rows, new_rows in ((source.ledger, kept.ledger, new.ledger),
                                      (source.contacts, kept.contacts, new.contacts)):
        for row in rows:
            stays, goes = parts(row[4])
            if stays:
                kept_rows.append(row)
            if goes:
                new_rows.append(row)
    for code, via in source.products.items():
        stays, goes = parts(via)
        if stays:
            kept.products[code] = via
        if goes:
            new.products[code] = [v for v in via if v in moved]
    for fact, via in source.fact_via.items():
        stays, goes = parts(via)
        _move_fact(source, kept, fact, via, keep=stays)
        if goes:
            _move_fact(source, new, fact, [v for v in via if v in moved], keep=True)
    for number, entry in source.accounts.items():
        stays, goes = parts(entry["via"])
        if stays:
            kept.accounts[number] = account_book.copy_entry(entry)
        if goes:
            new.accounts[number] = {**account_book.copy_entry(entry), "via": [v for v in entry["via"] if v in moved]}
    # the segment and tier come from the accounts once one was opened or closed here; before (state kept before
    # that rule), they moved with their own ``fact_via`` above
    for part in (kept, new) if _accounts_known(source) else ():
        account_book.refresh(part.accounts, part.profile, part.fact_via)
    return kept, new


def _move_fact(source: CustomerState, part: CustomerState, fact: str, via: list[str], *, keep: bool) -> None:
    """Billing fact ``fact`` (a profile fact, or an arrears entry ``OVERDUE_FACT + bill``) on ``part`` as on
    ``source`` when ``keep``, else off it."""
    bill = fact.removeprefix(OVERDUE_FACT) if fact.startswith(OVERDUE_FACT) else None
    values: dict[str, Any] = part.overdue if bill is not None else part.profile
    name = bill if bill is not None else fact
    origin: dict[str, Any] = source.overdue if bill is not None else source.profile
    if keep and name in origin:
        values[name] = origin[name]
        part.fact_via[fact] = via
    else:
        values.pop(name, None)
