"""The parts a node state holds (``state.IdentifierState``): a person's evidence, a caller's traits, the master
records and systems of record that gave an identifier, an account's record lines, a household's calls. Frozen msgspec
Structs encoded as msgpack arrays inside their node's state (``state.encode_state``): add a field only at the end,
with a default, so stored states still decode."""

from __future__ import annotations

import msgspec

from processors.identity.graph.messages.base import Summary
from processors.identity.graph.messages.steps import HouseholdCall, Seek, Visit


class Person(msgspec.Struct, array_like=True, frozen=True, omit_defaults=True):
    """The evidence one event carried about its person (``evidence.person_of``): the traits of its summary
    that tell people apart (names, birth date) and its identifiers of types limited to one (national
    ID, user id), the identifier node's own key left out."""

    traits: Summary | None = None
    ids: list[str] = []


class CallerTraits(msgspec.Struct, array_like=True, frozen=True):
    """The traits a call's ``IdentifiersObserved`` (event ``event_id``, occurred ``at`` µs) left at the caller's
    identifiers for the call's contact events (``contact_join.py``)."""

    event_id: str
    at: int
    traits: Summary


class MasterRecord(msgspec.Struct, array_like=True, frozen=True):
    """The person's master records that gave an identifier (``master.py``): the smallest ``rank`` they gave it
    (``limits.key_rank``) and their holder's key (``rules.PERSON_KINDS``; "" when two holders' records gave it)."""

    rank: int
    holder: str


class RecordGift(msgspec.Struct, array_like=True, frozen=True, omit_defaults=True):
    """A system of record's event (``event_id``) that gave an identifier the holder of ``accounts`` (its ``ACCOUNT``
    keys), ranked ``rank`` on it (``limits.key_rank``): who holds a recycled number (``recycle.py``). ``holder``: the
    person key (``rules.PERSON_KINDS``) of a dated line that names its holder ("" otherwise): a later holder's line of
    the same account after its closure is a tenant change (``tenancy.py``)."""

    rank: int
    accounts: list[str]
    event_id: str
    holder: str = ""


class RecordLine(msgspec.Struct, array_like=True, frozen=True):
    """The latest revision of one line of a system of record that gave an account's holder identifiers
    (``record_lines.py``): the line's 6-byte hash, the revision's rank (``limits.event_rank``), whether its source
    dated it, and the identifiers it gave (``recycle.recyclable``, sorted)."""

    line: bytes
    rank: int
    dated: bool
    gave: list[str]


class AccountLines(msgspec.Struct, array_like=True, frozen=True, omit_defaults=True):
    """What an account's node keeps of its records' dates and lines (replaced, never changed in place): ``lines`` the
    latest revision of each of its lines, by rank, at most ``record_lines.MAX_LINES`` (a line that stops giving an
    identifier ends its gift, ``record_lines.py``, tester29 F4); ``undated_closed_at`` its earliest undated
    ``AccountClosed`` (epoch µs; ``IdentifierState.closed_at`` keeps the dated ones) and ``dated_record`` whether a
    dated record of it came, which outranks an undated closure (``recycle.closed_at``, tester28 F3's rule)."""

    lines: list[RecordLine] = []
    undated_closed_at: int | None = None
    dated_record: bool = False


class Housemates(msgspec.Struct, array_like=True, frozen=True, omit_defaults=True):
    """An identifier node's part in attributing a housemate's call (issue #8). ``traits``: IVR traits left here, the
    latest ``contact_join.MAX_CALLER_TRAITS`` by event time; ``awaiting``: contacts' visits waiting for theirs (at
    most ``contact_join.MAX_AWAITING``); ``parked``: records that are no contact (a call's IVR record) no customer kept
    apart through it took yet (at most ``seek.MAX_PARKED``); earlier versions parked contacts too, which are released
    to their own customers (``seek._release_parked``)."""

    traits: list[CallerTraits] = []
    awaiting: list[Visit] = []
    parked: list[Seek] = []
    # The 6-byte hash of the contact whose event set the node's ``first_rank`` (the call's IVR record's event id, which
    # its contact events name; empty: another event's): its other events rank first with it (``contact_rank.py``).
    first: bytes = b""
    # Contacts' own customers that came through another identifier of this one's household and look for their person
    # here (``household_call.py``), at most ``household_call.MAX_CALLERS``: proposed with each customer that comes.
    callers: list[HouseholdCall] = []
