"""Node states: one msgspec Struct per node type, stored as compact msgpack.

A state is encoded as a msgpack array ``[type tag, field, ...]`` with trailing default fields left
out (``array_like``, ``omit_defaults``). An identifier owned by a customer of the usual id form is packed
further (``identifier_codec``): 23 bytes instead of 50, the state most nodes hold (#9 memory). A customer's
plain form is stored compressed (``customer_codec.CUSTOMER_ZSTD_V1``): ~190 bytes instead of ~309.
The faust tables keep these bytes (``store.FaustTables``) and the handlers work on decoded copies. Add a field
only at the end of a Struct, with a default, so stored states still decode; a state written as JSON before
this format is read by ``legacy.decode_any_state``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from processors.identity.graph.customer_codec import compress_customer, plain_customer
from processors.identity.graph.identifier_codec import owned_fields, pack_owned, plain_owned
from processors.identity.graph.messages import AnyMessage
from processors.identity.graph.messages.base import Member, MovedTo, PlacedContact, Summary, Unweighed
from processors.identity.graph.messages.claims import Claim
from processors.identity.graph.state_parts import (
    AccountLines,
    Housemates,
    MasterRecord,
    Person,
    RecordGift,
)


class IdentifierState(msgspec.Struct, array_like=True, omit_defaults=True, tag="i"):
    """An identifier node (``TYPE:value``).

    ``owner``: its customer id (None: nobody); ``version``: version of that assignment (or of the
    eviction that ended it); ``reserved_by``: event id of the saga that reserved this new identifier;
    ``waiting``: messages queued until the reservation ends (``waiting_bytes`` their encoded size, bounded by
    ``context.MAX_DEFERRED_BYTES``); ``shared``: it stopped linking
    (``shared_after``); ``refused_with``: customer ids it was refused with (in states of earlier
    versions; no longer counted, emptied on the next visit); ``recent``: 6-byte hashes
    of the last events that ended phase 1 here or reserved it (the dedupe window); ``first_rank``:
    the smallest rank of the events that carried it (limited types, ``limits.py``); ``people``: the
    distinct evidences of the events that carried it, sorted (``evidence.count_person``; kept once it is
    shared: the flag's evidence, ``evidence.revoke_unsupported``).
    """

    owner: str | None = None
    version: int = 0
    recent: bytes = b""
    first_rank: int | None = None
    reserved_by: str | None = None
    waiting: list[AnyMessage] = []
    waiting_bytes: int = 0
    shared: bool = False
    refused_with: list[str] = []
    people: list[Person] = []
    # Customers kept apart from its owner through it (``Note``: another person's events carried it; a claim's
    # giver), at most ``evidence.MAX_KEPT_APART``, sorted: the screen pop names them (``web.py``).
    kept_apart: list[str] = []
    # What it keeps for records that may be a housemate's: a call's IVR traits and the contacts waiting for them
    # (``contact_join.py``), the records no customer took yet (``seek.py``). Replaced, never changed in place.
    housemates: Housemates | None = None
    # Identifiers of Segment aliases that named this one as their ``previousId`` while nobody owned it (the alias
    # came first: mobile batches arrive out of order), at most ``saga.MAX_ALIASED``, sorted: once it has an owner,
    # they are linked to it through the same merge decision as any link (``saga.alias_saga``).
    aliased_to: list[str] = []
    # The same for aliases noted with their rank (``limits.event_rank``): ``(rank, identifier)`` pairs, sorted, at most
    # ``saga.MAX_ALIASED``; each alias's late link carries its rank, so the earliest alias claims it (#8 point 5).
    # (``aliased_to`` holds what states of earlier versions noted without a rank.)
    aliased: list[tuple[int, str]] = []
    # 6-byte hashes of the refusals announced from here (``refusals.announce``: a shared identifier's refusal, once per
    # owner), at most ``refusals.MAX_KEPT``: a call on a shared landline is not announced again (tester M8).
    refusals: bytes = b""
    # An operator released it (``release.py``): the rank (``limits.event_rank``) of the release's instant; an event
    # that ranks below it carried it for the previous holder and no longer links, ranks or counts it.
    released_below: int | None = None
    # The latest version of each recent contact that carried it first, at most ``versions.MAX_CONTACTS``: every
    # version of one contact stays on the customer of the latest (``versions.py``, issue #8 F13).
    contacts: list[PlacedContact] = []
    # Who held it until each release: ``(rank of the release's instant, customer id)`` pairs, sorted, at most
    # ``release.MAX_HOLDERS`` (the latest kept): an event that occurred before a release is its holder's then
    # (``release.holder``), so a late call that carried only this identifier still reaches a customer (tester18 F5).
    released_from: list[tuple[int, str]] = []
    # Contacts placed on a household's keeper while this identifier, which they carried, was nobody's: ``(contact id,
    # customer)`` pairs, at most ``late_owner.MAX_AWAITING`` (the latest); each moves to its first owner
    # (``late_owner.py``).
    awaiting_owner: list[tuple[str, str]] = []
    # Recycling by a system of record (``recycle.py``). An account's node: its closure's instant (epoch µs, the
    # earliest ``AccountClosed``) and the identifiers its records gave (at most ``recycle.MAX_GAVE``, sorted). An
    # identifier's: the records that gave it (by rank, at most ``recycle.MAX_RECORDS``) and the closures of their
    # accounts (``(account, instant)``, sorted).
    closed_at: int | None = None
    gave: list[str] = []
    records: list[RecordGift] = []
    closures: list[tuple[str, int]] = []
    recycled: bool = False  # a recycled record held it since its last move (``recycle.py``): a late record may undo it
    # The person's master records that gave it (a mobile or an e-mail beside a customer number): the smallest rank
    # (``limits.key_rank``) and their holder's key ("" once two holders' records gave it: the rule lapses); while one
    # holder's, only that record's claim moves it, and ``withheld`` keeps the earliest claim dropped (``master.py``).
    master: MasterRecord | None = None
    withheld: Claim | None = None
    # A mailbox's evidences without a login that tell their person, a record's holder's names included (``people``
    # leaves them out: ``rules.holder_only``), sorted, at most ``evidence.MAX_EVIDENCE``: a login that fits two of
    # them that are two people waits for review (``fits_two.py``).
    named: list[Person] = []
    # An account's node: its lines' latest revisions and its undated closure (``AccountLines``; None: none known).
    account: AccountLines | None = None
    # The customer a claim took it from and the assignment version the claim gave (``claim_node.on_claim``): where a
    # corrected version's customer that took it gives it back (``vacate.py``) while that version still stands.
    claimed_from: tuple[str, int] | None = None
    # The rank a corrected version gave it before its customer gave it up (``vacate.on_vacate``): events of that
    # instant (the version's, still on their way) no longer rank it (``vacate.ranked_by_correction``).
    vacated_rank: int | None = None
    # An anonymous id's login rank (``browser_login.py``): the smallest rank (``limits.key_rank``) of the events that
    # carried it with a user id (an identify, a logged-in track, an alias naming it), and that user id; None: no login
    # carried it (or a state of an earlier version). Its claims are decided by it: the browser is the user's whose login
    # came first on it.
    login_rank: int | None = None
    login_user: str | None = None


class Awaited(msgspec.Struct, array_like=True, frozen=True):
    """A user id the limit of one refused at a ``join`` while a member's rank was still in flight
    (``displace_late.py``): the event ``event_id`` (``channel``) brought ``user`` (ranked ``user_rank``) through
    ``linking``; the customer's ``resident`` user id ranked ``resident_rank``; ``ranks``: the members' ranks
    (``limits.event_rank``) whose events were not yet applied here. Decided again once they are."""

    ranks: list[int]
    resident: str
    resident_rank: int
    user: str
    user_rank: int
    linking: list[str]
    event_id: str
    channel: str


class LateJoin(msgspec.Struct, array_like=True, frozen=True):
    """A trait-less event's join weighed and kept apart only because a member planned before its linking identifier
    was here (``late_join.py``): the event ``event_id`` (``channel``, rank ``rank``, ``limits.event_rank``) met the
    customer through ``linking`` with its new identifiers ``added``. Decided again once ``linking``'s earliest event
    is applied here."""

    event_id: str
    channel: str
    rank: int
    linking: str
    added: list[str]


class KeptSide(msgspec.Struct, array_like=True, frozen=True):
    """An event kept apart from another customer while none of its identifiers here ranked before it
    (``kept_side.py``): the event ``event_id`` (``channel``, rank ``rank``, ``limits.event_rank``) carried ``ids``
    here; ``kept``: the identifier the other customer keeps. Proposed again once an earlier event gives one of
    ``ids`` a rank before it here."""

    event_id: str
    channel: str
    rank: int
    ids: list[str]
    kept: str


class CustomerState(msgspec.Struct, array_like=True, omit_defaults=True, tag="c"):
    """A customer node (``cus_...``).

    ``created``: False for a stub that only holds early messages; ``members``: identifier key ->
    ``(assignment version, rank)`` (``limits.member``; rank 0 for types without a limit); ``born``: the
    creating event's instant (epoch µs); ``traits``: the summary the matcher compares; ``parent``:
    the customer it was merged into; ``lock``: token of its outstanding merge offer; ``waiting``:
    messages queued behind the offer or the creation (``waiting_bytes``: their encoded size);
    ``do_not_merge``: customers it must never merge with (splits, rejected reviews); ``aliases``: ids
    merged into it; ``done``: 6-byte hashes of the recent step tokens it decided (duplicate guard).
    """

    created: bool = False
    members: dict[str, Member] = {}
    born: int = 0
    traits: Summary | None = None
    done: bytes = b""
    parent: str | None = None
    lock: str | None = None
    waiting: list[AnyMessage] = []
    waiting_bytes: int = 0
    do_not_merge: list[str] = []
    aliases: list[str] = []
    shared: list[str] = []  # members their node marked shared: repeat contacts through them go the slow way
    fast_applied: bytes = b""  # 6-byte hashes of the last events applied by the fast path (fast_node: duplicates)
    # The entries of ``do_not_merge`` an operator's rejected review put there (not a split): between two people
    # kept apart so, who keeps an identifier they share is still the earliest event's customer (claim_node.py).
    rejected: list[str] = []
    # Identifiers its events carried that another customer keeps (kept apart from it through them, or given up to
    # an earlier event's customer: a family phone), at most ``evidence.MAX_KEPT_APART``: its screen pop names them.
    elsewhere: list[str] = []
    # Which contacts were applied to it (``saga.NO_CONTACT``, ``TOLD``: each carried its person's traits, a call
    # with the IVR's; ``ANONYMOUS``: one did not): a customer whose contacts all told their person stays apart from
    # another person's claimant of its only identifier instead of merging into it (``claim_node.on_give``).
    contacts: int = 0
    # The contact events applied to it with the identifiers each carried, as a state saved before ``contact_index``
    # kept them: per channel a msgpack array of ``ContactRecord`` (``split_contacts.records``). Read with the
    # contacts table until the customer's next write moves them there (``split_contacts.kept``).
    contact_records: dict[str, bytes] = {}
    # What left it and where it went (named for the split, its first use): identifiers an operator split off
    # (``customer_node.on_split``) or it gave to a claimant (``claim_node.on_give``), contacts an operator moved
    # (``move_contact.py``, key ``moved_off.CONTACT``) -> the customer (``MovedOff``; a customer id alone: a split
    # noted by an earlier version), the latest ``moved_off.MAX_MOVED_OFF``. An event whose saga read their owner
    # before the move and whose ``apply`` comes after it follows them (``moved_off.follow``). Moves with
    # ``Offer.split_off``.
    split_off: dict[str, MovedTo] = {}
    # 6-byte hashes of the refusals this root decided and announced (``refusals.announce``: rule, identifier, the
    # customer pair, weight band), the latest ``refusals.MAX_KEPT``: the same refusal again is counted, not announced
    # (tester M8: each call from a landline two households share announced another ``LinkRefused``).
    refusals: bytes = b""
    # The contact events applied to it (``split_contacts.py``, #9): per channel the 6-byte hashes of their event ids,
    # at most twice ``split_contacts.kept_per_channel``; each record is its own entry of the contacts table (key
    # ``split_contacts.contact_key``), so a repeat contact writes one record, not the customer's history.
    # ``contact_records`` above is what a state saved before it kept; moved to the table at its next write.
    contact_index: dict[str, bytes] = {}
    # The ``Saga.contact`` mark of the event that created it: the contact's other events with the same identifiers
    # come here when an ``offer`` keeps it apart from another customer (``apart_side.own_side``).
    made_for: bytes = b""
    # Per identifier of ``elsewhere`` (or a member a merged-in customer's events carried that way), the members the
    # events that carried it carried too, at most ``elsewhere.MAX_WITH``: a split gives the new customer those its
    # moved members came with (``elsewhere.py``, tester22 F6). Moves with ``Offer.elsewhere_with``.
    elsewhere_with: dict[str, list[str]] = {}
    ranks_applied: bytes = b""  # 6-byte hashes of the latest applied events' ranks (displace.py)
    # Logins it took through a mailbox at the e-mail's ``login`` level alone: e-mail key -> the members the login's
    # side brought (``logins.py``); they leave once the mailbox shows two people. Moves with ``Offer.logins``.
    logins: dict[str, list[str]] = {}
    # Its members whose node told it that they keep two people's evidence (``Shared`` with ``household``): weighed
    # as a household's in its decisions, never at the ``login`` level, also for a saga that visited them before
    # (``logins.py``). Moves with ``Offer.households``.
    households: list[str] = []
    # 6-byte hashes of (member, rank, other): a member an event without a user id ranked first on came with ``other``
    # (``came_with.py``); it stays with the identifier it came with where ``displace.py`` moves a user id out. Moves
    # with ``Offer.came_with``.
    came_with: bytes = b""
    # Household identifiers through which it, a login that tells no person refused by the one-login limit beside a
    # customer holding no record, is owed the review time order gives it with a record's customer
    # (``holder_review.py``): asked once, at the first holders' pair with one. Moves with ``Offer.review_owed``.
    review_owed: list[str] = []
    # User ids the limit of one refused while the rank of a member that ranks before the resident was in flight, with
    # what deciding them again takes once those events are applied here (``displace_late.py``), the latest
    # ``displace_late.MAX_AWAITED``. Not moved at a merge (an apply routed to the survivor finds none: as before).
    awaited: list[Awaited] = []
    # The events whose identifiers it took unweighed (it made the customer, or a join through an owned identifier
    # nothing was planned before), the latest ``weigh_again.MAX_UNWEIGHED``: decided again when an earlier-ranked
    # event's members show that time order weighed them (``weigh_again.py``). Moves with ``Offer.unweighed``.
    unweighed: list[Unweighed] = []
    # Left with nothing of its own by a corrected version of a contact that moved to its first version's customer
    # (``vacate.py``): what a claim of that version's gives it after leaves it too.
    vacated: bool = False
    # Pairs of members that came together only at a merge (``joined.py``): ``"member|other"`` -> the rank of the event
    # whose ``offer`` merged their two customers (``limits.event_rank``), the member planned before the other, the
    # latest ``joined.MAX_JOINED``. Moves with ``Offer.joined``.
    joined: dict[str, int] = {}
    # Trait-less events whose join was weighed only because of a member that ranks after them, the latest
    # ``late_join.MAX_LATE``: linked again once the linking identifier's earliest event is applied here
    # (``late_join.py``). Not moved at a merge.
    late_joins: list[LateJoin] = []
    # Pairs of members a user-less event applied here met together, both ranked before it (``carried_pair.carried``): a
    # short hash of the two keys -> the rank of the earliest such event (``limits.event_rank``), the latest
    # ``came_with.MAX_CAME_WITH`` pairs. Read where a pair proposal through them merged and an event ranked before
    # that one joins later (``carried_undo.joined_before``). Moves with ``Offer.carried_at``.
    carried_at: dict[str, int] = {}
    # Members a user-less event's offer merged in (``carried_pair.merged_in``): 6-byte hashes (``context.remember``) of
    # ``member|merged-in|key`` for each member of one side and each identifier of the other side the event carried,
    # and of each side's size, the latest ``came_with.MAX_MERGED_IN``. Read where a claim takes ``key``
    # (``carried_undo.merged_away``) or a login ranked before that event joins through it
    # (``carried_undo.joined_before``). Moves with ``Offer.merged_in``.
    merged_in: bytes = b""
    # Events kept apart from another customer while none of their identifiers here ranked before them, the latest
    # ``kept_side.MAX_KEPT``: the pair is linked again once an earlier event gives one of them a rank before the
    # event's here (``kept_side.py``). Not moved at a merge.
    kept_sides: list[KeptSide] = []


class BlockEntry(msgspec.Struct, array_like=True, frozen=True):
    traits: Summary
    kinds: list[str]


class BlockState(msgspec.Struct, array_like=True, omit_defaults=True, tag="b"):
    """A blocking node (``BLOCK:...``): the customers filed under the key (at most ``MAX_ENTRIES``)."""

    entries: dict[str, BlockEntry] = {}


NodeState = IdentifierState | CustomerState | BlockState
S = TypeVar("S", IdentifierState, CustomerState, BlockState)

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(NodeState)


def _defaults(cls: type[NodeState]) -> tuple[object, ...]:
    return msgspec.structs.astuple(cls())


_DEFAULTS = {cls: _defaults(cls) for cls in (IdentifierState, CustomerState, BlockState)}
_TAGS = {cls: cls.__struct_config__.tag for cls in (IdentifierState, CustomerState, BlockState)}


def encode_state(state: NodeState) -> bytes:
    """``[tag, field, ...]`` without the trailing fields that hold their defaults (msgspec decodes a
    shorter array with the defaults filled in; it does not leave them out itself for array-like Structs),
    or the packed form of an owned identifier (``identifier_codec.pack_owned``), or a customer's compressed
    (``customer_codec.CUSTOMER_ZSTD_V1``)."""
    values = msgspec.structs.astuple(state)
    defaults = _DEFAULTS[type(state)]
    end = len(values)
    while end and values[end - 1] == defaults[end - 1]:
        end -= 1
    if type(state) is IdentifierState and (packed := pack_owned(values[:end])) is not None:
        return packed
    plain = _ENCODER.encode((_TAGS[type(state)], *values[:end]))
    return compress_customer(plain) if type(state) is CustomerState else plain


def decode_state(data: bytes) -> NodeState:
    """The state in ``data``: plain, a packed identifier (``identifier_codec``) or a compressed customer
    (``legacy.decode_any_state`` also reads the JSON format before msgpack).

    Raises ``msgspec.DecodeError`` on anything else.
    """
    if (owned := owned_fields(data)) is not None:
        return IdentifierState(*owned)
    return _DECODER.decode(plain_owned(plain_customer(data)))


def _container_fields(cls: type[NodeState]) -> tuple[str, ...]:
    """The fields of ``cls`` whose type may hold a list or a dict (``list[...]``, ``dict[...] | None``...)."""
    def container(kind: object) -> bool:
        return typing.get_origin(kind) in (list, dict) or kind in (list, dict)

    return tuple(field.name for field in msgspec.structs.fields(cls)
                 if container(field.type) or any(container(arg) for arg in typing.get_args(field.type)))


def _thawer(cls: type[S]) -> Callable[[S], S]:
    """``thaw`` for states of ``cls``, compiled from its container fields (``_container_fields``) as a dataclass
    compiles its ``__init__``: each field read and set by name in the code, not through ``getattr`` / ``setattr``
    with a loop over the names (~0.8 µs instead of ~1.6 µs a customer state, #9)."""
    lines: list[str] = ["def thaw(state):", "    copied = state.__copy__()"]  # msgspec Structs copy themselves in C
    for name in _container_fields(cls):
        lines += [f"    value = state.{name}", "    if value is not None:", f"        copied.{name} = value.copy()"]
    namespace: dict[str, Any] = {}
    exec("\n".join([*lines, "    return copied"]), namespace)  # the source: the field names above, nothing else
    return typing.cast(Callable[[S], S], namespace["thaw"])


_THAWERS: dict[type, Callable[[Any], Any]] = {cls: _thawer(cls) for cls in (IdentifierState, CustomerState, BlockState)}


def thaw(state: S) -> S:
    """A copy of ``state`` whose lists and dicts can be changed without touching the stored value.

    Runs once per handled message: only the fields typed as containers are copied (``_container_fields``), by a
    function compiled per state type (``_thawer``); a shallow copy (``__copy__``, in C) with those fields replaced by
    their copies: no keyword arguments built and checked as ``msgspec.structs.replace`` does."""
    return typing.cast(S, _THAWERS[type(state)](state))


def state_view(state: NodeState | None) -> dict[str, Any] | None:
    """A node state as a JSON-ready dict with field names (the ``/identity/nodes`` view between workers), but for
    ``CustomerState.contact_records`` (contact events' records, up to tens of KiB: no screen pop reads them)."""
    if state is None:
        return None
    return {name: msgspec.to_builtins(getattr(state, name)) for name in state.__struct_fields__
            if name not in ("contact_records", "contact_index")}
