"""The messages of a claim (``claim_node.py``): an event that ranks first on an identifier another customer holds
claims it, its owner gives it up, the claimant adopts it with the contacts that follow. See ``protocol.md``.
"""

from __future__ import annotations

from processors.identity.graph.messages.base import ContactRecord, Message, MovedTo, Summary, Unweighed

CLAIM_PREFIX = "claim~"  # a reservation taken by a claim (``claim_node.py``), not by a saga: no event id starts so


class Claim(Message, tag="claim", frozen=True):
    """To an identifier: the event ``event_id`` of rank ``rank``, which ranks first on it, was applied to
    ``customer``, which does not hold it (``claim_node.py``); ``attempt`` counts retries."""

    customer: str
    rank: int
    event_id: str
    channel: str
    attempt: int = 0
    traits: Summary | None = None  # the claimant's trait summary: a giver that is another person stays (seek.py)
    # A system of record gave it to ``customer``'s account after the earlier holder's account closed (``recycle.py``):
    # the claim moves it whatever the ranks.
    recycled: bool = False
    # A corrected version's customer gives it back (``vacate.py``): that customer (``customer`` is then the customer
    # the version moved to, where no claim took it from another: "" when the giver keeps something of its own).
    vacated_by: str = ""
    # With ``vacated_by``: the contact whose correction brought it went to ``customer`` with a claim of another of its
    # identifiers (``vacate.followed``): it follows there if only that correction placed it.
    following: bool = False
    # A resident user id moved out of a customer (``displace.split_off``) claims the browsers left there: that user id;
    # only a browser whose earliest login is that user's (``IdentifierState.login_user``) moves (``browser_login.py``).
    login: str = ""
    # The claimant's user ids (``customer_node.on_apply``): an anonymous id's node takes a claim of an event without a
    # user id ranked before its earliest login where that login's user is the claimant's (``browser_login.py``).
    users: list[str] = []


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
    # A recycled claim's (``Claim.recycled``): the closure's instant (epoch µs); the giver keeps the contacts before it.
    since: int | None = None
    # What the identifier's node knows its events carried with it (``claim_node.carried_with``: the identifiers
    # limited to one of its evidence, the accounts of the records that gave it): the giver records those it holds
    # (``elsewhere.given_up``). Empty in messages of earlier versions.
    carried_with: list[str] = []
    # A person's master record's claim (``master.py``): the giver stays a customer of its own, never merges into the
    # claimant, so the move can be undone if another holder's master record gives the identifier too.
    kept: bool = False
    # The claim ranks after an earlier event that visited the identifier since the claimant was kept apart from its
    # owner (``late_claim.py``): the owner merges into the claimant where time order would have (it holds nothing but
    # the identifier, its traits agree with the claimant's), else it keeps the identifier. False in earlier messages.
    later: bool = False
    # The giver held it by a corrected version alone, which gave it up (``vacate.corrected_only``): it was not kept
    # apart from the claimant through it, and neither screen pop names the other for it.
    corrected: bool = False
    # With ``later``: an anonymous id's login rank decided the claim, and an event without a user id ranked it before
    # (``browser_login.py``): the giver gives it up alone where a user id it holds ranks before the claim (another
    # user was there first, whose browser it is not), else as ``later``. False in earlier messages.
    login: bool = False


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
    # part of its profile (``profile_codec.encode_profile``): they follow the claim (``split_contacts.take_claimed``).
    contacts: list[ContactRecord] = []
    profile: bytes | None = None
    giver: str = ""  # the customer that gave the identifier (``Resolved.moved_from`` on the contacts that follow)
    # The giver's notes of the contacts an operator moved off it (``moved_off.by_hand``): a later event of such a
    # contact that reaches the claimant through ``identifier`` follows the move, as it does at the giver.
    moved_off: dict[str, MovedTo] = {}
    # The giver's ``CustomerState.came_with`` pairs of the members that follow ``identifier`` with claims of their own
    # (``came_with.following_claim``): the claimant passes them on if a claim takes ``identifier`` on.
    came_with: bytes = b""
    # The giver's marks (``Unweighed.through`` ``identifier``) of events ranked after the claim's that brought
    # ``identifier`` and whose other identifiers stayed on a customer without it (``weigh_again_claimant``): the
    # claimant decides them as time order met them (``met_the_claimant``). Empty in messages of earlier versions.
    left: list[Unweighed] = []
    # A recycled claim's (``Give.since``, epoch µs): the claimant holds it from then; an event from before goes the
    # slow way to the node, which sends it to the customer that held it then (``recycle.held_then``). None: not one.
    since: int | None = None


class Closed(Message, tag="closed", frozen=True):
    """To an identifier a record of ``account`` gave: that account closed at ``at`` (epoch µs; ``recycle.py``)."""

    account: str
    at: int


class Recycle(Message, tag="recycle", frozen=True):
    """To the account of the record (event ``event_id``, rank ``rank`` on ``identifier``) that holds ``identifier``
    after an earlier holder's account closed: its owner claims it (``recycle.py``)."""

    identifier: str
    rank: int
    event_id: str


class HeldBefore(Message, tag="held_before", frozen=True):
    """To the account of a record that gave ``identifier`` before a recycle (``held_before.py``): its owner held the
    identifier until ``since`` (epoch µs, ``recycle.holder_record``); tell the identifier who that is."""

    identifier: str
    since: int


class HeldUntil(Message, tag="held_until", frozen=True):
    """To a recycled identifier: ``customer`` (an earlier record's account's owner) held it until ``since`` (epoch µs):
    its contacts before then are that customer's (``held_before.py``)."""

    customer: str
    since: int


class GiveBack(Message, tag="give_back", frozen=True):
    """To a recycled identifier's holder: its untold contacts that carried ``identifier`` alone and occurred before
    ``since`` (epoch µs) are ``to``'s, who held it then (``held_before.py``): move them there."""

    identifier: str
    to: str
    since: int


class MetClaimant(Message, tag="met_claimant", frozen=True):
    """To the customer an event's other identifiers stayed on when a claim took ``identifier`` (``Unweighed.left``):
    the claimant's customer, which in time order the event met through ``identifier``, would have taken it unweighed
    (``weigh_again_claimant.met_the_claimant``); ``mark``: the event's record. The receiver proposes the pair again if
    it still holds none but the event's identifiers (``weigh_again_claimant.on_met_claimant``)."""

    identifier: str
    mark: Unweighed
