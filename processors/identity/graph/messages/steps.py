"""The messages of an event's way through the graph (``saga.py``): visits and reservations on identifier nodes,
joins, links and merge offers between customer roots, the apply that ends a saga, the fast path, ranks, and
blocking proposals. Who sends each and what the receiver does: ``protocol.md``.
"""

from __future__ import annotations

from processors.identity.graph.messages.base import (
    EventRef,
    Member,
    Message,
    MovedTo,
    PlacedContact,
    Saga,
    Summary,
    Unweighed,
)


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
    profile: bytes | None  # the loser's encoded profile (profile_codec.encode_profile)
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
    # The loser's ``CustomerState.elsewhere``: identifiers its events carried that another customer keeps (a family
    # phone). A blocking proposal whose two sides both carried one is weighed as met through it
    # (``contest.carried_by_both``).
    elsewhere: list[str] = []
    made_for: bytes = b""  # the loser's ``CustomerState.made_for``
    # The loser's ``CustomerState.elsewhere_with``: whose events carried them, for a later split (``elsewhere.py``).
    elsewhere_with: dict[str, list[str]] = {}
    ranks_applied: bytes = b""  # the loser's ``CustomerState.ranks_applied`` (displace.py)
    logins: dict[str, list[str]] = {}  # the loser's ``CustomerState.logins`` (``logins.py``)
    households: list[str] = []  # the loser's ``CustomerState.households``
    came_with: bytes = b""  # the loser's ``CustomerState.came_with`` (``came_with.py``)
    review_owed: list[str] = []  # the loser's ``CustomerState.review_owed`` (``holder_review.py``)
    unweighed: list[Unweighed] = []  # the loser's ``CustomerState.unweighed`` (``weigh_again.py``)
    joined: dict[str, int] = {}  # the loser's ``CustomerState.joined`` (``joined.py``)
    carried_at: dict[str, int] = {}  # the loser's ``CustomerState.carried_at`` (``carried_pair.carried``)
    merged_in: bytes = b""  # the loser's ``CustomerState.merged_in`` (``carried_pair.merged_in``)


class OfferResult(Message, tag="offer_result", frozen=True):
    token: str
    ok: bool
    survivor: str | None = None
    do_not_merge: list[str] = []
    reviewed: bool = False  # the loser's owed review was asked (``holder_review.owed``): it owes none any more


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
    # The event's rank (``limits.event_rank``), for ``claims``, and a trait-less event's ``linked``
    # (``came_with.note_applied``); 0 in a trait-less event's message of earlier versions.
    rank: int = 0
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
    # ``Saga.unowned``: a contact placed here while they were nobody's follows the first to its owner
    # (``late_owner.py``).
    unowned: list[str] = []
    # The event claimed a record's key and told no person (``limits.claims_only``: an account typed on a keypad, no
    # traits): ``claims`` rank in
    # ``limits.CLAIMED_BAND`` (``limits.key_rank``). False in records of earlier versions: they rank as before.
    claims_record: bool = False
    # A trait-less event's identifiers that had an owner at its visit (two or more; ``ids`` holds a record's): applied
    # where the customer holds two of them, it linked them again after the events that brought them, and settles a
    # kept event of that pair (``weigh_again.carried``: a repeat of a pair kept apart). Empty in records of earlier
    # versions: no record settled so, as before.
    linked: list[str] = []
    # ``Saga.member_line``: ``claims`` of its account rank after every payer's line (``limits.key_rank``). False in
    # records of earlier versions: they rank as before.
    member_line: bool = False


class Seek(Message, tag="seek", frozen=True):
    """A housemate's record (``apply``, ``household_only``) that the keeper of its household ``identifier`` found to be
    another person: offered, one at a time, to the customers kept apart from the keeper through it
    (``IdentifierState.kept_apart``), which take it if its traits fit (``seek.py``). ``tried``: the customers that
    did not (the keeper first); ``parked``: it comes back from the identifier's park (``IdentifierState.parked``)."""

    identifier: str
    apply: Apply
    tried: list[str] = []
    parked: bool = False


class HouseholdCall(Message, tag="household_call", frozen=True):
    """A contact's own customer (``caller``: no identifiers, its contacts told their person, ``traits`` its summary)
    looks for its person among the household of the identifier it came through (``via``: the family phone) and
    kept apart through: sent to ``via``, which passes it to its keeper, which passes it (``keeper`` set) to its other
    identifiers that may be a household's; each proposes the caller with the customer on it whose person the
    traits name (``household_call.py``)."""

    caller: str
    traits: Summary
    via: str
    keeper: str | None = None


class Fast(Message, tag="fast", frozen=True):
    """A repeat contact sent straight to its customer (``fast_node.py``): ``claims`` identifier -> the
    assignment version the sender's view holds."""

    claims: dict[str, int]
    saga: Saga


class Shared(Message, tag="shared", frozen=True):
    """To an identifier's owner: the identifier became shared and no longer links (``fast_node.py``);
    ``revoked``: its flag was revoked, it links again (``evidence.revoke_unsupported``); ``household``: not shared,
    but its node holds evidence of two people now: a login it placed alone leaves (``logins.py``)."""

    identifier: str
    revoked: bool = False
    household: bool = False
    event_id: str = ""  # ``household``: the event whose evidence made the second person, and its channel
    channel: str = ""
    # ``household``: the user ids of logins kept on the node whose person fits two people's records (``fits_two.py``)
    fits_two: list[str] = []


class Rekey(Message, tag="rekey", frozen=True):
    identifier: str
    rank: int
    # The channel of the event that carried it: the lineage's of a pair proposed again (``came_with.lowered``). Empty
    # in messages of earlier versions (nothing proposed).
    channel: str = ""


class Rejoin(Message, tag="rejoin", frozen=True):
    identifier: str
    rank: int
    version: int
    event_id: str
    channel: str
    token: str


class Block(Message, tag="block", frozen=True):
    customer: str
    traits: Summary
    kinds: list[str]


class Unblock(Message, tag="unblock", frozen=True):
    customer: str


class Placed(Message, tag="placed", frozen=True):
    """To a contact event's first identifier: the event is on ``placed.customer`` (``versions.py``)."""

    placed: PlacedContact


class HandoffPlaced(Message, tag="handoff_placed", frozen=True):
    """A handoff's ``HandoffCreated`` is on ``customer`` (``handoff_moves.placed``): to each identifier it carried,
    which passes it to its owner; an owner that is not ``customer`` hands what it holds of the handoff over and sends
    its later events there. ``handoff``: its ``short_key`` id; ``token``: derived from the creation's event id.

    With ``contact`` (a contact's screen-pop id, ``recent_contacts.contact_id``; ``handoff`` empty): that contact is
    on ``customer`` (``handoff_moves.contact_placed``), so the owner sends there the cases opened during it, held now
    or arriving later. A trailing field: an old worker reads it as a placement of no handoff, which moves nothing."""

    handoff: str
    customer: str
    token: str
    contact: str = ""


class AwaitOwner(Message, tag="await_owner", frozen=True):
    """To an identifier a contact carried while it was nobody's (``Apply.unowned``): the contact (its screen-pop id,
    ``recent_contacts.contact_id``) is on ``customer``, the household's keeper; it moves to the identifier's owner
    (``late_owner.py``)."""

    contact_id: str
    customer: str
