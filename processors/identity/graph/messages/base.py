"""What every graph message is built of: the ``Message`` base (its tag names it on the wire), the saga an event
carries through the graph, and the records messages carry (an event's Avro record, a contact's record, where
something a customer held went). The catalogue of kinds is ``protocol.md``; the wire rule is ``messages/__init__.py``'s.
"""

from __future__ import annotations

import msgspec

Summary = dict[str, list[str]]  # matching.traits.Summary: trait name -> normalised values
Member = tuple[int, int]  # limits.Member: a customer's member (assignment version, rank)


class Unweighed(msgspec.Struct, array_like=True, frozen=True):
    """An event whose identifiers a customer took without weighing them (it made the customer, or joined it through an
    owned identifier with nothing planned before that one: ``customer_join.weighed_the_other_way``), as
    ``weigh_again.py`` keeps it: ``ranks``: the identifiers it brought that the customer holds -> the rank it gave
    each (``limits.rank_of``); ``traits``: its summary. Decided again once an earlier-ranked event's members show that
    time order would have weighed it."""

    event_id: str
    channel: str
    ranks: dict[str, int]
    traits: Summary | None = None
    after: list[str] = []  # members that reached the customer by a step of an event ranked after it
    # Decided again and kept apart: the customer its identifiers left for (``weigh_again.relinked``); empty while kept.
    left: str = ""
    # A mark a claim passed on (``weigh_again_claimant``): the claimed identifier, which the event brought to the
    # customer ``left`` names (where its other identifiers stayed). Empty in a record of this customer's own.
    through: str = ""
    # Of its identifiers an event had brought before it, the rank each had before its visit lowered it
    # (``Saga.prior_ranks``): whether it met this customer through them in time order (``weigh_again._met_none``).
    prior: dict[str, int] = {}
    # Of the identifiers it joined through (``customer_join.on_join``), the member rank each had here at its join where
    # that was below the event's own: an earlier event had brought it, whatever a claimant's visit lowers it to later
    # (``weigh_again.claimed_away``). Empty in records of earlier versions and of a customer it made.
    met: dict[str, int] = {}


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
    a moved contact's ``ContactMoved`` id, from which the ids of its events re-published under ``to`` derive;
    ``since``: a recycled number's claim (``recycle.py``), the instant (epoch µs) ``to`` holds it from: an event that
    occurred before it stays (0: none)."""

    to: str
    version: int = 0
    claim: bool = False
    by: str = ""
    since: int = 0


MovedTo = str | MovedOff  # a ``split_off`` value: a customer id alone (a split, earlier versions) or a ``MovedOff``


class PlacedContact(msgspec.Struct, array_like=True, frozen=True):
    """A contact event's version and where it is (``versions.py``): the contact (its channel and screen-pop id), the
    version (its source system and ``source_event_id``: a call's events of one report share it), its order (when it
    occurred, when its source received it, epoch µs; its event id) and its customer; ``via``: the first identifier
    key the version carried ("" for none); ``first``: the order (occurred, received, event id) of the earliest
    version kept with that identifier (``versions.py``; entries kept before it was: their own order)."""

    contact: str
    version: str
    at: int
    received: int
    event_id: str
    customer: str
    via: str = ""
    first: tuple[int, int, str] | None = None


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
    # The customer that held an identifier of ``ids`` when the event occurred, before an operator released it or a
    # recycle moved it (``release.holder``): phase 2 reads that identifier as its (``saga.held_then``), so the event
    # goes there and its identifiers nobody held join it (tester18 F5).
    released_to: str | None = None
    # Who merged and why: an operator's merge (``saga.merge_saga``, rule ``manual-merge``), carried to the announcement.
    operator: str | None = None
    reason: str | None = None
    # bit i: ``ids[i]``'s node had an owner, was no household's and kept another customer apart through it at the
    # visit (``IdentifierState.kept_apart``: a holder's line carried a member's mobile; ``deciding.used_by_others``).
    apart: int = 0
    # The new identifiers it left unowned, in plan order: it reached its customer only through household identifiers
    # and tells no person (``deciding.untold_through_shared``); a contact then follows the first to its owner
    # (``late_owner.py``).
    unowned: list[str] = []
    # 6 bytes naming the event's contact and identifiers (``saga.contact_mark``: its correlation id, its ``ids``): a
    # customer another event of the same contact made is recognised in an ``offer`` (``apart_side.own_side``).
    contact: bytes = b""
    # The smallest rank each identifier of ``ids`` whose ``first_rank`` this event lowered had before (``displace.py``:
    # what the customer's state showed before the event's own rank replaced it).
    prior_ranks: dict[str, int] = {}
    # bit i: ``ids[i]``'s node (a mailbox) showed the event's login, which tells its person, fitting two people's
    # records kept on it (twin-like siblings of one given name: ``fits_two.py``): a merge through it is a review.
    fits_two: int = 0
    # Household identifiers its new customer is owed a review through (``holder_review.owe``, on ``create``).
    review_owed: list[str] = []
    # A system of record's line of a member of its account (``holder_role`` MEMBER: a family plan's child): its account
    # ranks after every payer's line (``limits.key_rank``). False in sagas of earlier versions: they rank as before.
    member_line: bool = False
    # bit i: an event without a user id set or lowered ``ids[i]``'s ``first_rank``, an anonymous id a login ranked
    # (``browser_login.py``): not ``lowered`` (the login ranks first on it), but its customer claims it, and the claim
    # moves it only where that customer holds the login's user id. 0 in sagas of earlier versions.
    untold_first: int = 0


class Message(msgspec.Struct, array_like=True, frozen=True, omit_defaults=True, tag_field="kind"):
    """Base of every protocol message; its tag (``kind``) names it on the wire and in metrics."""
