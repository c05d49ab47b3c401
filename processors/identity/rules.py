"""Merge protection: identifier priority, per-customer limits and the shared-identifier threshold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bus.identifiers.kinds import ACCOUNT, CUSTOMER_NUMBER, NATIONAL_ID, PHONE, RECORD_KEYS, SUPPLY_POINT
from bus.identifiers.phone import is_fixed_line
from processors.identity.config import IdentitySettings
from processors.identity.matching.compare import Thresholds
from processors.identity.matching.defaults import TRAINED_POPULATION
from processors.identity.matching.weights import MatchModel, population_bits

# Rule names carried in lineage and in the refused-links metric (a small fixed set).
CO_OBSERVED = "co-observed"
MANUAL_SPLIT = "manual-split"
MANUAL_MOVE = "manual-move"  # an operator moved one contact to another customer (identity move-contact)
LATEST_VERSION = "latest-version"  # a contact's earlier version moved to the customer of its latest (versions.py)
# A corrected version of a contact that names another first identifier (a counter upload whose phone was corrected)
# moved to the customer of the contact's first identifier, where its case stays (versions.py).
CORRECTED_VERSION = "corrected-version"
# A contact placed on a household's keeper while an identifier it carried was nobody's moved to that identifier's
# first owner (graph/late_owner.py).
LATE_OWNER = "late-owner"
MANUAL_RELEASE = "manual-release"  # an operator released an identifier from its customer (identity release)
MAX_PER_CUSTOMER = "max-per-customer"
SHARED_IDENTIFIER = "shared-identifier"
SPLIT_DO_NOT_MERGE = "split-do-not-merge"
MATCH_WEIGHT = "match-weight"  # refused: the Fellegi–Sunter weight is below the refuse threshold
MATCH_REVIEW = "match-review"  # kept apart until an operator decides (weight between the thresholds)
BLOCKING_CANDIDATE = "blocking-candidate"  # merged without a common identifier, on the traits' weight
REVIEW_ACCEPTED = "review-accepted"
REVIEW_REJECTED = "review-rejected"
MANUAL_MERGE = "manual-merge"  # an operator merged two customers (identity merge): overrides a split or a rejection
EARLIEST_CLAIM = "earliest-claim"  # a shared identifier moved to the customer of the earliest event that carried it
# A contact's own customer merged into the household member its caller named (name and full birth date, one person
# of the household of the identifier it came through: graph/household_call.py), not on the traits' weight.
HOUSEHOLD_CALL = "household-call"
ALIAS_LINK = "alias"  # an alias that came before its previous id had an owner, linked once it has one
# Every rule a ``Lineage.rule`` names (with the identifier refusals of ``bus.identifiers.model``): the source of the
# list that schemas/identity/Lineage.avsc's doc of ``rule`` explains word by word (a test checks it names each).
LINEAGE_RULES = (CO_OBSERVED, EARLIEST_CLAIM, BLOCKING_CANDIDATE, ALIAS_LINK, REVIEW_ACCEPTED, MANUAL_MERGE,
                 MANUAL_SPLIT, MANUAL_MOVE, LATEST_VERSION, CORRECTED_VERSION, HOUSEHOLD_CALL, LATE_OWNER,
                 MANUAL_RELEASE, MAX_PER_CUSTOMER, SHARED_IDENTIFIER, SPLIT_DO_NOT_MERGE, MATCH_WEIGHT, MATCH_REVIEW,
                 REVIEW_REJECTED)


# Identifier kinds that say nothing about who uses them: a browser's Segment ``anonymousId`` (a family PC's
# browser is used by several people). An event that carries only such identifiers (an anonymous page view) does
# not rank them; the earliest event that carries one with an identifier of another kind (an identify, a logged-in
# track, an alias naming it as ``previousId``) does, so that event's customer keeps it (``graph/limits.tells``).
UNTOLD_KINDS = frozenset({"ANONYMOUS_ID"})

# A system of record (a business system: billing, core banking, orders; the legacy adapter's channel, its nightly
# export and its CDC alike) names the holder of the account it is about, and what it gave that holder: the account
# (an IBAN is one, ``bus.identifiers.kinds.ALIASES``) and the account's cards. On those it ranks before every other
# channel's event whatever the times, and among records by time: a web, counter or call-center event that carries
# them is weaker evidence of who holds them (a portal identify with Paul's national ID and Alice's card
# took her card to Paul). Its other identifiers may be a family member's (a family plan's line: the holder's name
# beside each MSISDN): on those it ranks after every person's own contact. Both: ``graph/limits.key_rank``.
# The customer number is the record's own key for its holder (billing's ``C-770004``): a record names it, every other
# channel only claims it (a number typed on an IVR keypad or in a web form).
RECORD_CHANNEL = "BUSINESS_SYSTEM"
RECORD_KINDS = RECORD_KEYS  # one declaration: ``bus.identifiers.kinds.RECORD_KEYS``
# A record that names its holder by a key one person has (the customer number of core banking's customer file, a
# national ID) is the person's master record: the mobile and e-mail beside it are the holder's own contact details,
# not a family plan's lines (those name an account). Another person's contact refused against the
# holder never takes them (``graph/master.py``).
PERSON_KINDS = frozenset({CUSTOMER_NUMBER, NATIONAL_ID})
# What a record gives its holder that anyone may read off a statement, a meter or a socket: its keys, and the supply
# point it serves (``household_line``). Another channel's event only claims one (``second_hand``): a caller who
# gives a meter number reaches its holder, and never takes his own phone to him.
CLAIMED_KINDS = RECORD_KINDS | {SUPPLY_POINT}


def holder_only(channel: str, key: str) -> bool:
    """Whether an event of ``channel`` names the holder of its account, not who uses its identifier ``key``: a
    business record's identifiers other than those it gives the holder (``RECORD_CHANNEL``, ``RECORD_KINDS``) and
    other than a fixed line (``household_line``: each housemate's own account line carries the home's landline)."""
    return channel == RECORD_CHANNEL and kind_of(key) not in RECORD_KINDS and not household_line(key)


def member_account(channel: str, key: str) -> bool:
    """Whether ``key`` is what a system of record's line of an account's member (``holder_role`` MEMBER: a family
    plan's child) ranks after every payer's line: the account (``ACCOUNT``, of the record's channel). The member's own
    phone, e-mail and customer number rank as any record's (``graph/limits.key_rank``)."""
    return channel == RECORD_CHANNEL and kind_of(key) == ACCOUNT


def master_record(channel: str, keys: Iterable[str], user_lines: bool = False) -> str | None:
    """The person key of the holder, where an event of ``channel`` that carried ``keys`` is a person's master record:
    a system of record's (``RECORD_CHANNEL``) that names its holder by a key of ``PERSON_KINDS`` (the smallest); else
    None.

    ``user_lines`` (``IdentitySettings.record_lines_name`` "user"): the deployment's records name each line's own
    user (a telecom master: one line a subscription, its user's name and birth date beside the account number and the
    mobile), so a record with no such key is its line's user's master record too, held by the line's
    smallest record key (``RECORD_KINDS``: the account number)."""
    if channel != RECORD_CHANNEL:
        return None
    keys = list(keys)
    people = [key for key in keys if kind_of(key) in PERSON_KINDS]
    if not people and user_lines:
        people = [key for key in keys if kind_of(key) in RECORD_KINDS]
    return min(people) if people else None


def second_hand(channel: str, key: str) -> bool:
    """Whether an event of ``channel`` is weaker evidence of who holds ``key`` than a system of record's: ``key`` is of
    a kind a record gives its holder (``CLAIMED_KINDS``: an account, an IBAN, a card, a customer number, a supply point)
    and ``channel`` is not the record's (``RECORD_CHANNEL``): web, counter, call center."""
    return channel != RECORD_CHANNEL and kind_of(key) in CLAIMED_KINDS


def claims_record(channel: str, keys: Iterable[str]) -> bool:
    """Whether an event of ``channel`` that carried ``keys`` claims a record's key (``second_hand``: an account, card
    or customer number typed on an IVR keypad or in a web form): it may reach that record's holder by what anyone who
    read a statement can type, so it is weaker evidence of whose its other identifiers are than any record and any
    other event (``graph/limits.key_rank``)."""
    return any(second_hand(channel, key) for key in keys)


def household_line(key: str) -> bool:
    """Whether ``key`` (``TYPE:value``) is a home's identifier, used by whoever lives there: a fixed line
    (``bus.identifiers.phone.is_fixed_line``), where a mobile is one person's device (libphonenumber's number type),
    or a supply point number (``SUPPLY_POINT``: a meter's, a line's socket), which billing gives each tenant in turn.
    Every rule of a home's landline holds for it: a record ranks it by its own time, it is no witness
    of a person, and once the holder's account closed a later tenant's record takes it (``graph/recycle.py``)."""
    kind, _, value = key.partition(":")
    return kind == SUPPLY_POINT or (kind == PHONE and is_fixed_line(value))


def kind_of(key: str) -> str:
    return key.partition(":")[0]


@dataclass(frozen=True, slots=True)
class Breach:
    kind: str
    count: int
    limit: int

    @property
    def reason(self) -> str:
        return f"the customer would hold {self.count} {self.kind} identifiers (limit {self.limit})"


class LinkPolicy:
    def __init__(self, settings: IdentitySettings) -> None:
        self._priorities = dict(settings.priorities)
        self._limits = dict(settings.max_per_customer)
        self._shared_after = dict(settings.shared_after)
        self.matcher = MatchModel(
            {name: dict(levels) for name, levels in settings.match_mu.items()}, prior=settings.match_prior,
            merge_at=settings.match_merge_at, refuse_below=settings.match_refuse_below,
            thresholds=Thresholds(settings.name_close, settings.address_close), vetoes=tuple(settings.match_vetoes),
            person_fields=tuple(settings.match_person_fields),
            population_bits=population_bits(settings.match_population, TRAINED_POPULATION),
            review_unlinked=settings.match_review_unlinked,
            unlinked_fields=tuple(settings.match_unlinked_fields),
        )
        self.blocking = settings.blocking
        self.user_lines = settings.record_lines_name == "user"  # ``master_record``'s ``user_lines``

    def priority(self, kind: str) -> int:
        return self._priorities.get(kind, 0)

    def plan_order(self, keys: Iterable[str]) -> list[str]:
        """Highest priority first; equal priorities in key order, so every worker orders alike."""
        return sorted(keys, key=lambda key: (-self.priority(kind_of(key)), key))

    def breach(self, existing: Iterable[str], added: Iterable[str], waived: Iterable[str] = ()) -> Breach | None:
        """The first per-type limit that ``existing`` plus ``added`` identifiers would exceed, if any
        (types in ``waived`` are not checked)."""
        waived = set(waived)
        existing = set(existing)
        before = Counter(kind_of(key) for key in existing)
        after = Counter(kind_of(key) for key in existing.union(added))
        for kind in sorted(after, key=lambda k: (-self.priority(k), k)):
            limit = None if kind in waived else self._limits.get(kind)
            # Only an addition breaches: a customer already over a since-lowered limit keeps what it has.
            if limit is not None and after[kind] > limit and after[kind] > before[kind]:
                return Breach(kind, after[kind], limit)
        return None

    def limit(self, kind: str) -> int | None:
        """The per-customer limit of ``kind`` (``max_per_customer``), None when unlimited."""
        return self._limits.get(kind)

    def shared_limit(self, kind: str) -> int:
        return self._shared_after.get(kind, 1_000_000)

    def is_shared(self, kind: str, customers: int) -> bool:
        """Seen with more customers than the type allows: the identifier stops linking."""
        limit = self._shared_after.get(kind)
        return limit is not None and customers > limit
