"""The graph protocol's messages: one msgspec Struct per kind, a tagged union on the wire.

Every message is encoded as a msgpack array ``[kind, field, field, ...]`` (``array_like``: no field
names on the wire; trailing fields left at their defaults are omitted). ``protocol.md`` is the
catalogue: who sends each kind, to which node, and what the receiver does. Add a field only at the
end of a Struct, with a default, so records already on the graph topic still decode.
"""

from __future__ import annotations

import msgspec

Summary = dict[str, list[str]]  # matching.traits.Summary: trait name -> normalised values
Member = tuple[int, int]  # limits.Member: a customer's member (assignment version, rank)


class EventRef(msgspec.Struct, array_like=True, frozen=True):
    """The original record of an event (Avro bytes as published), carried to the customer that applies it."""

    topic: str
    schema: str
    record: bytes


class ContactRecord(msgspec.Struct, array_like=True, frozen=True):
    """One contact event applied to a customer and the identifier keys it carried (``split_contacts.py``): what an
    operator's split needs to tell which contacts follow the identifiers it moves. ``at``: the event's instant
    (epoch µs, from its rank); ``event``: its record, re-published under the new customer if it follows."""

    event_id: str
    at: int
    channel: str
    ids: list[str]
    event: EventRef
    # It carried its person's traits (an IVR's name and birth date): the matcher placed it by them (seek.py), so a
    # claim of an identifier it carried does not move it (``split_contacts.hand_over``, ``untold_only``).
    told: bool = False


class MovedOff(msgspec.Struct, array_like=True, frozen=True):
    """Where something a customer held went (``CustomerState.split_off``, ``moved_off.py``): ``to`` the customer;
    ``version`` the identifier's assignment version there (0: a moved contact, or a split noted by an earlier version,
    which stored the customer id alone); ``claim``: a claim moved it, so an event that told its person stays; ``by``:
    a moved contact's ``ContactMoved`` id, from which the ids of its events re-published under ``to`` derive."""

    to: str
    version: int = 0
    claim: bool = False
    by: str = ""


MovedTo = str | MovedOff  # a ``split_off`` value: a customer id alone (a split, earlier versions) or a ``MovedOff``


class Saga(msgspec.Struct, array_like=True, omit_defaults=True):
    """One event's (or one merge proposal's) way through the graph; see ``saga.py``.

    ``visited``: identifiers of ``ids`` visited so far (phase 1); ``seen``: identifier -> owner id or a
    status (``saga.NEW``, ``SHARED``, ``UNKNOWN``); ``plan``: ``ids`` by link priority; ``step``: index
    of the next phase-2 step in ``plan``; ``current``: the event's customer once it has one; ``pending``:
    new identifiers waiting for one; ``node_ranks`` / ``node_versions``: rank and last assignment
    version a reserved identifier's node knew (``limits.py``); ``proposal``: no event (a blocking or
    review merge proposal), ``rule`` its lineage rule; ``force`` / ``reject``: an operator's review;
    ``lowered``: a bit per key of ``ids`` whose ``first_rank`` this event set or lowered; ``contested``: keys whose
    owner the event's side was refused with on evidence of two people (``claim_node.py``).
    """

    event_id: str
    channel: str
    occurred_micros: int
    started_at: float  # epoch seconds when intake took the event (latency metric)
    ids: list[str]
    event: EventRef | None = None
    traits: Summary | None = None
    lookup_only: list[str] = []
    visited: int = 0
    seen: dict[str, str] = {}
    plan: list[str] = []
    step: int = 0
    current: str | None = None
    pending: list[str] = []
    node_ranks: dict[str, int] = {}
    node_versions: dict[str, int] = {}
    proposal: bool = False
    rule: str | None = None
    force: bool = False
    reject: bool = False
    lowered: int = 0  # bit i: the event set or lowered the smallest rank of ``ids[i]`` at its visit (claims)
    contested: list[str] = []  # keys whose owner was kept apart from the event's side as another person
    households: int = 0  # bit i: ``ids[i]``'s node held evidence of two people or more at the visit (contest.py)
    # A contact whose caller's traits are in another record (``traits_event_id``: a call's IVR data): it waits for
    # them at its first identifier; ``leaves_traits``: that record, which leaves them there (``contact_join.py``).
    traits_from: str | None = None
    leaves_traits: bool = False
    # Keys whose owner the event's side was kept apart from under review, without claiming them (``contest.py``):
    # noted on both sides for the screen pop like ``contested`` ones (tester8's finding 8: a rejected review's phone).
    noted: list[str] = []
    # A contact that took its caller's traits from another record (``traits_from`` once joined): that record's event
    # id, which a call's events (CallCompleted, InteractionRecorded) share: one own customer for all (``seek.py``).
    traits_of: str | None = None


class Message(msgspec.Struct, array_like=True, frozen=True, omit_defaults=True, tag_field="kind"):
    """Base of every protocol message; its tag (``kind``) names it on the wire and in metrics."""


# --- to identifier nodes -----------------------------------------------------------------------------

class Visit(Message, tag="visit", frozen=True):
    saga: Saga


class Assign(Message, tag="assign", frozen=True):
    owner: str
    version: int
    token: str | None = None


class Release(Message, tag="release", frozen=True):
    token: str
    refused_with: str | None = None


class Note(Message, tag="note", frozen=True):
    """Customer ``refused_with`` was kept apart from this identifier's owner through it (another person whose
    events carried it: ``IdentifierState.kept_apart``)."""

    refused_with: str


class Evict(Message, tag="evict", frozen=True):
    customer: str
    version: int
    rank: int
    event_id: str
    channel: str
    reason: str


class Relinquish(Message, tag="relinquish", frozen=True):
    """Customer ``customer`` released this identifier on an operator's command (``release.py``): it belongs to
    nobody from assignment ``version`` on; events that occurred before ``at`` (epoch µs) no longer link it."""

    customer: str
    version: int
    at: int
    operator: str
    reason: str | None
    token: str
    channel: str = "BACK_OFFICE"


# --- to customer nodes -------------------------------------------------------------------------------

class Join(Message, tag="join", frozen=True):
    add: list[str]
    culprit: str
    new: bool
    token: str
    saga: Saga


class Link(Message, tag="link", frozen=True):
    other: str
    swapped: bool  # the event's customer is the receiver, not ``other``
    culprit: str | None
    token: str
    saga: Saga


class Offer(Message, tag="offer", frozen=True):
    loser: str
    members: dict[str, Member]
    profile: bytes | None  # the loser's encoded profile (store.encode_profile)
    do_not_merge: list[str]
    aliases: list[str]
    traits: Summary | None
    token: str
    swapped: bool
    culprit: str | None
    saga: Saga
    shared: list[str] = []  # the loser's members marked shared (fast_node.py)
    rejected: list[str] = []  # the loser's do-not-merge entries from rejected reviews (claim_node.py)
    # A copy of an offer decided before, forwarded by the merged node that decided it to its root, which knows
    # whether the loser is in its tree (customer_merge.on_offer): answered, never decided again.
    decided: bool = False
    contacts: dict[str, bytes] = {}  # the loser's contact records (split_contacts.py): they move with it
    # The loser's ``CustomerState.split_off``: an apply still on its way to it follows what it split off, gave to a
    # claimant or an operator moved (``moved_off.py``).
    split_off: dict[str, MovedTo] = {}
    # The loser's ``CustomerState.refusals``: a refusal of the pair it decided (a join, before the survivor held the
    # identifier) is not announced again by the survivor (``refusals.announce``).
    refusals: bytes = b""


class OfferResult(Message, tag="offer_result", frozen=True):
    token: str
    ok: bool
    survivor: str | None = None
    do_not_merge: list[str] = []


class Create(Message, tag="create", frozen=True):
    add: list[str]
    saga: Saga


class Apply(Message, tag="apply", frozen=True):
    """Only what the profile and the contact stream need, not the saga."""

    event_id: str
    started_at: float
    traits: Summary | None
    event: EventRef | None
    claims: list[str] = []  # the event's identifiers it ranks first on (``Saga.lowered``): claimed if not members
    rank: int = 0  # the event's rank (``limits.event_rank``), for ``claims``
    channel: str = ""
    household_only: bool = False  # every identifier of the event is one several people's events carried
    # The event's identifiers whose owner its side was kept apart from (``Saga.contested``): its customer notes
    # them (``CustomerState.elsewhere``) and tells each node (``Note``), for the screen pop (``web.py``).
    kept_apart: list[str] = []
    # A record's (with traits) identifiers: one this customer holds of a kind one person alone has (a user id)
    # makes it this customer's person whatever its traits say (``customer_node.on_apply``).
    ids: list[str] = []
    # The identifiers a record (with traits, or household-only) ranks first on (``Saga.lowered``): the housemate that
    # takes a household-only one when the keeper finds it another person's claims them, as if it had been refused
    # through them (``seek.py``); another person's record that ranks first on one its customer holds, or was kept
    # apart through, makes its own customer (``own_customer.py``).
    lowered: list[str] = []
    # Every identifier the event carried, look-up-only ones left out, if it is a contact or feeds the screen pop: its
    # customer records them beside it (``split_contacts.py``; ``ProfileBook``'s ``VIA`` for a product or handoff), so
    # an operator's split can tell which contacts and entries follow the moved identifiers.
    carried: list[str] = []
    # ``Saga.traits_of`` of a household-only contact: its own customer's id is derived from it (``seek.own_customer``).
    traits_of: str | None = None
    # The customers that sent it on because it had left them (``moved_off.follow``): none sends it on again, so a
    # stale note never passes it back and forth.
    followed: list[str] = []


class Seek(Message, tag="seek", frozen=True):
    """A housemate's record (``apply``, ``household_only``) that the keeper of its household ``identifier`` found to be
    another person: offered, one at a time, to the customers kept apart from the keeper through it
    (``IdentifierState.kept_apart``), which take it if its traits fit (``seek.py``). ``tried``: the customers that
    did not (the keeper first); ``parked``: it comes back from the identifier's park (``IdentifierState.parked``)."""

    identifier: str
    apply: Apply
    tried: list[str] = []
    parked: bool = False


class SplitCustomer(Message, tag="split", frozen=True):
    ids: list[str]
    reason: str | None
    token: str
    at: int  # epoch microseconds: the new customer's birth
    channel: str = "BACK_OFFICE"
    operator: str | None = None  # who split (``--by``); last and optional: a command queued before it still reads


class SplitInit(Message, tag="split_init", frozen=True):
    members: dict[str, Member]
    do_not_merge: list[str]
    at: int
    shared: list[str] = []  # the moved members marked shared (fast_node.py)
    # The contacts whose identifiers all moved (``split_contacts.py``), their part of the source's profile
    # (``state.encode_profile``) and the split's announcement id, from which their re-published ids derive.
    contacts: list[ContactRecord] = []
    profile: bytes | None = None
    split_event_id: str = ""


class MoveContact(Message, tag="move_contact", frozen=True):
    """An operator moves one contact from this customer's screen pop to customer ``to`` (``omnibus identity
    move-contact``, ``move_contact.py``): ``contact_id`` as the screen pop shows it (a call's contact id, an
    interaction id, a transaction id); ``token``: the command id, from which every id of the move derives."""

    contact_id: str
    to: str
    operator: str
    reason: str
    token: str
    channel: str = "BACK_OFFICE"
    rule: str = ""  # the lineage rule of the move: empty for an operator's (``manual-move``); ``latest-version``


class ReleaseIdentifier(Message, tag="release_identifier", frozen=True):
    """An operator releases ``identifier`` (``TYPE:value`` key) from this customer (``omnibus identity release``,
    ``release.py``): a recycled phone number, a closed e-mail. ``at``: the command's instant (epoch µs); events that
    occurred before it no longer link the identifier. ``token``: the command id, from which every id derives."""

    identifier: str
    operator: str
    reason: str | None
    token: str
    at: int
    channel: str = "BACK_OFFICE"


class TakeContact(Message, tag="take_contact", frozen=True):
    """The contact a ``MoveContact`` took off its source: its records, its part of the source's profile (encoded)
    and the move's announcement id, from which the re-published ids derive (``outputs.moved_contact_id``)."""

    contacts: list[ContactRecord]
    profile: bytes | None
    move_event_id: str
    # The step token when it is not ``move_event_id``: the hand-over of one event of the contact that reached the
    # source after the move (``move_contact.follow``), derived from the move and the event.
    token: str = ""


class Fast(Message, tag="fast", frozen=True):
    """A repeat contact sent straight to its customer (``fast_node.py``): ``claims`` identifier -> the
    assignment version the sender's view holds."""

    claims: dict[str, int]
    saga: Saga


class Shared(Message, tag="shared", frozen=True):
    """To an identifier's owner: the identifier became shared and no longer links (``fast_node.py``);
    ``revoked``: its flag was revoked, it links again (``evidence.revoke_unsupported``)."""

    identifier: str
    revoked: bool = False


class Rekey(Message, tag="rekey", frozen=True):
    identifier: str
    rank: int


class Rejoin(Message, tag="rejoin", frozen=True):
    identifier: str
    rank: int
    version: int
    event_id: str
    channel: str
    token: str


class Claim(Message, tag="claim", frozen=True):
    """To an identifier: the event ``event_id`` of rank ``rank``, which ranks first on it, was applied to
    ``customer``, which does not hold it (``claim_node.py``); ``attempt`` counts retries."""

    customer: str
    rank: int
    event_id: str
    channel: str
    attempt: int = 0
    traits: Summary | None = None  # the claimant's trait summary: a giver that is another person stays (seek.py)


class Give(Message, tag="give", frozen=True):
    """To an identifier's owner: hand ``identifier`` over to ``customer`` (a claim that ranks first)."""

    identifier: str
    customer: str
    rank: int
    event_id: str
    channel: str
    attempt: int
    token: str
    traits: Summary | None = None  # the claimant's trait summary (``Claim.traits``)


class Adopt(Message, tag="adopt", frozen=True):
    """To the claiming customer: ``identifier`` is yours at assignment ``version`` (its member rank
    ``rank``; ``shared``: its node marked it shared), with the contacts that follow it (``contacts``, ``profile``)."""

    identifier: str
    version: int
    rank: int
    shared: bool
    event_id: str
    channel: str
    token: str
    # The giver's contacts that carried only ``identifier`` of what it held (``split_contacts.hand_over``) and their
    # part of its profile (``state.encode_profile``): they follow the claim (``split_contacts.take_claimed``).
    contacts: list[ContactRecord] = []
    profile: bytes | None = None
    giver: str = ""  # the customer that gave the identifier (``Resolved.moved_from`` on the contacts that follow)


# --- to blocking nodes -------------------------------------------------------------------------------

class Block(Message, tag="block", frozen=True):
    customer: str
    traits: Summary
    kinds: list[str]


class Unblock(Message, tag="unblock", frozen=True):
    customer: str


class PlacedContact(msgspec.Struct, array_like=True, frozen=True):
    """A contact event's version and where it is (``versions.py``): the contact (its channel and screen-pop id), the
    version (its source system and ``source_event_id``: a call's events of one report share it), its order (when it
    occurred, when its source received it, epoch µs; its event id) and its customer."""

    contact: str
    version: str
    at: int
    received: int
    event_id: str
    customer: str


class Placed(Message, tag="placed", frozen=True):
    """To a contact event's first identifier: the event is on ``placed.customer`` (``versions.py``)."""

    placed: PlacedContact


AnyMessage = (Visit | Assign | Release | Note | Evict | Join | Link | Offer | OfferResult | Create | Apply
              | SplitCustomer | SplitInit | Rekey | Rejoin | Block | Unblock | Fast | Shared | Claim | Give | Adopt
              | Seek | MoveContact | TakeContact | ReleaseIdentifier | Relinquish | Placed)


def kind(message: Message) -> str:
    """The message's tag, e.g. ``"visit"``."""
    config = getattr(type(message), "__struct_config__", None)
    return str(config.tag) if config is not None else type(message).__name__
