"""A housemate's record on the family identifier goes to the housemate, not to nobody (issue #8, "a housemate's call").

A record whose identifiers are all household ones (``Apply.household_only``: a call from the family phone with the
name and birth date the caller gave the IVR) reaches the customer that keeps them. When its traits are another
person's there (``contest.another_person``), that customer does not apply it; it sends ``seek`` to the household
identifier it holds. The identifier node knows the customers kept apart from its keeper through it
(``IdentifierState.kept_apart``: the housemates) and offers the record to each in turn, and to its owner (a claim
may have moved it since the keeper refused the record); sorted ids, those tried left out. The first whose trait
summary it fits (``fits_person``: the matcher does not refuse them and a field that tells people apart agrees)
applies it as its own and claims the household identifiers it ranks first on; one that does not sends it back with
itself in ``tried``. When none is left, a contact (``is_contact``: a call, a counter visit, a web interaction)
**makes a customer of its own** (``own_customer``: no identifiers, ``saga.customer_id`` of its instant and of the
IVR record it took its traits from, so a call's events share it) and is applied there: on ``customer.contacts``
under that id and on its screen pop by id. Any other record (the call's IVR ``IdentifiersObserved``, whose traits
the call carries) is parked on the identifier (``Housemates.parked``, at most ``MAX_PARKED``, ``Unresolved`` once)
and offered to the next customer noted there or made its owner (``offer_parked``): the call's own customer, once it
is noted, takes its IVR record, so a call makes one customer, not two. That customer is noted on the identifier as
kept apart through it (``Note``: the identifier's screen pop names it among its people, ``verify`` counts the
contact as a housemate's) and, as it holds a contact that told its person (``CustomerState.contacts``), files itself
under the blocking keys of the record's traits (``evidence.file_blocking``). Blocking proposes it with every
customer filed under one of those keys, before or after it (``blocking_node.py``), and the matcher decides with the
same Fellegi–Sunter weight and thresholds as for any pair: the caller's customer merges it, call and all
(``CustomerMerged``: subscribers of ``customer.contacts`` re-key); the other twin's is refused (two real, different
first names); a weight between the thresholds goes to review. A caller who gave the given name, family name and full
birth date of exactly one person of the identifier's household joins that person's customer without weight
(``household_call.py``, tester28 F9).

The rule, the same final attribution in every arrival order, by state and never a timer: **a household-only record
goes to the customer on that identifier whose person its traits are; while there is none, a contact goes to a
customer of its own, which blocking merges into its person's customer wherever that one's records carried no
household identifier or came later.** It is never applied where its traits are another person's
(``contest.another_person``: no field that tells people apart agrees, or the given names are two real, different
first names, ``contest.twin_names``: twins share surname, address and birth date, or the birth dates are two
people's, ``contest.other_birth``: a father and son of one name, tester14 S2). So Tim's call from the family
phone is not applied to Tom when Tom's record came first: when Tim's records carried the phone too, Tim's customer
is kept apart through it and takes the call (here, or on its own customer's merge when his record comes later); when
they never carried it (tester10 #2: his account and e-mail only), the call's own customer is merged into his by
blocking, whichever of the two came first. Nothing is taken back from Tom's screen pop. Where the call came before
every record, its own customer (with the phone, which it gives up when the earlier records claim it,
``claim_node.on_give``) is merged the same way. A contact whose person never comes stays on its own customer: never
lost, never on a housemate's screen pop. Limits: one person's contact whose given name was mistyped into another
real first name ("emiel" for Émile) reads as another person's, as the matcher reads it
(``matching/given_names.py``); with ``BLOCKING`` off, or IVR traits too thin for a merge on traits alone where the
caller's records never carried the identifier (a first name with a surname or a birth date only: the population's
prior, ``MatchModel.prior_of``; or a name and a birth date without an address or postcode, which merge no two
customers with no identifier in common, ``MATCH_UNLINKED_FIELDS``: tester21 F18), the call stays on its own customer
(a review when the birth date is there; where
they carried it, the pair is weighed as met through it, ``contest.carried_by_both``, and the identifier proposes it
with its housemates whatever its traits' blocking keys, ``propose_housemates``: tester17 M3); and a call whose
events came before the keeper's record made a customer with the phone by the usual path (``claim_node.on_give`` leaves
it without identifiers), which a first name alone does not fit either: a later event of that call goes to the call's
own customer, a second one.

State of earlier versions: they parked contacts too (tester10 #2: a caller whose records never carried the phone is
never noted there, so his call waited for ever, on no screen pop and not on ``customer.contacts``). Those parked
contacts are still offered on the next ``note`` or ``assign`` (``offer_parked``) and, like any seek that finds
nobody, go to their own customer; the next ``seek`` through the identifier releases them all so
(``_release_parked``).

At-least-once: a copy of a ``seek`` applies the record twice to one profile (sections are idempotent and the contact
keeps its event id, as for ``apply``), sends a second ``create`` to the same customer id, which drops it, or parks a
record once (parked records are kept by event id).
"""

from __future__ import annotations

import msgspec

from processors.identity.graph.context import Ctx, node_digest
from processors.identity.graph.customer_node import on_apply
from processors.identity.graph.customer_steps import route
from processors.identity.graph.limits import HASH_BITS
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Apply, Create, Link, Seek
from processors.identity.graph.outputs import Unresolved
from processors.identity.graph.saga import HOUSEMATE_TOKEN, OWNER_TOKEN, command_saga, own_customer_id
from processors.identity.graph.split_contacts import CONTACT_SCHEMAS
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.graph.state_parts import Housemates
from processors.identity.matching.compare import trait_levels
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision
from processors.identity.rules import BLOCKING_CANDIDATE

# Records that are no contact (a call's IVR record) one identifier keeps until a customer they fit is noted there.
MAX_PARKED = 4

def fits_person(ctx: Ctx[CustomerState], traits: Summary | None) -> bool:
    """Whether a record's ``traits`` are this root's person: both sides have traits, the matcher does not refuse
    them as one, and a field that tells people apart (``match_person_fields``: given name, birth date) agrees."""
    known = ctx.state.traits
    if not traits or not known:
        return False
    matcher = ctx.policy.matcher
    levels = trait_levels(traits, known, matcher.thresholds)
    return matcher.decide(matcher.weigh(levels)) is not Decision.REFUSE and matcher.person_evidence(levels)


def on_seek_identifier(ctx: Ctx[IdentifierState], message: Seek) -> None:
    """Offer the record to the next customer kept apart through this identifier; with none left, a contact makes a
    customer of its own (``own_customer``) and any other record is parked here."""
    state = ctx.state
    # The customers kept apart through it, and its owner: a claim may have moved it since the keeper refused it.
    candidates = sorted(key for key in {*state.kept_apart, state.owner} if key and key not in message.tried)
    if candidates:
        ctx.send(candidates[0], msgspec.structs.replace(message, tried=_with(message.tried, candidates[0])))
        return
    _release_parked(ctx)
    if is_contact(message.apply):
        own_customer(ctx, message.apply)
        return
    event_id, box = message.apply.event_id, state.housemates or Housemates()
    if any(parked.apply.event_id == event_id for parked in box.parked):
        return  # a copy
    if not message.parked:
        ctx.emit(Unresolved(event_id, message.apply.started_at))  # no contact: on no screen pop until one takes it
    parked = [*box.parked, msgspec.structs.replace(message, parked=True)][-MAX_PARKED:]
    state.housemates = msgspec.structs.replace(box, parked=parked)


def is_contact(apply: Apply) -> bool:
    """Whether the record is a contact (a call, a counter visit, a web interaction: ``split_contacts.CONTACT_SCHEMAS``),
    which must land on some customer; not its IVR or counter ``IdentifiersObserved``, whose traits the contact
    carries (``contact_join.py``)."""
    return apply.event is not None and apply.event.schema in CONTACT_SCHEMAS


def _release_parked(ctx: Ctx[IdentifierState]) -> None:
    """Contacts an earlier version parked here (``Housemates.parked``) go to their own customers."""
    box = ctx.state.housemates
    if box is None or not any(is_contact(parked.apply) for parked in box.parked):
        return
    ctx.state.housemates = msgspec.structs.replace(
        box, parked=[parked for parked in box.parked if not is_contact(parked.apply)])
    for parked in box.parked:
        if is_contact(parked.apply):
            own_customer(ctx, parked.apply)


def own_customer(ctx: Ctx[IdentifierState], apply: Apply) -> None:
    """No customer on the identifier is the contact's person: it makes a customer of its own without identifiers
    (``saga.customer_id`` of its instant and of the IVR record it took its traits from, ``Apply.traits_of``, or its
    own event id: every event of one call, and a copy, reach one customer; ``customer_node.on_create`` applies the
    next ones there), is applied there (on ``customer.contacts``
    under that id and on its screen pop) and claims the household identifiers it ranks first on (``apply.lowered``,
    as a housemate that took it would), and is noted on this identifier as kept apart from its keeper (``Note``,
    ``saga.noted``: the identifier's screen pop names it among its people, ``verify`` counts it as a housemate's,
    and the identifier's next records are offered to it). Its traits file it under blocking keys
    (``blocking_node.py``): the customer whose person they are, there already or filed later, is proposed and weighed
    by the matcher with the same thresholds as every pair, and a merge brings the contact to it (``CustomerMerged``:
    subscribers of ``customer.contacts`` re-key)."""
    occurred = apply.rank >> HASH_BITS
    lowered = sum(1 << index for index, key in enumerate(apply.ids) if key in apply.lowered)
    saga = Saga(apply.event_id, apply.channel, occurred, apply.started_at, list(apply.ids), event=apply.event,
                traits=apply.traits, lowered=lowered, contested=sorted(apply.lowered), noted=[ctx.key],
                member_line=apply.member_line)
    # A call's events (CallCompleted, InteractionRecorded) took their traits from one IVR record and share its
    # instant: one customer for the call, whatever their order, even when their traits fit nobody (a first name).
    ctx.send(own_customer_id(occurred, apply.traits_of or apply.event_id), Create([], saga))


def propose_housemates(ctx: Ctx[IdentifierState], customer: str) -> None:
    """``customer`` was newly kept apart through this identifier: propose it with each other customer kept apart
    through it, as blocking proposes a pair (no linking identifier; ``contest.carried_by_both`` finds this one on both
    sides). Decided only where one side holds no identifier (a call's own customer, ``own_customer``): its traits may
    be too thin for any blocking key (a first name alone), yet weighed with the identifier in common they are the
    housemate's, whichever of the two came first."""
    for other in ctx.state.kept_apart:
        if other == customer:
            continue
        low, high = sorted((customer, other))
        token = f"{HOUSEMATE_TOKEN}{node_digest(ctx.key)}:{low}:{high}"  # no identifier value in ids (F1)
        ctx.send(high, Link(low, False, None, f"{token}#0", command_saga(token, "PROCESSOR", BLOCKING_CANDIDATE)))


def propose_owner(ctx: Ctx[IdentifierState]) -> None:
    """The identifier has a new owner (``identifier_node.on_assign``): propose it with each customer kept apart through
    the identifier, as ``propose_housemates`` does (``OWNER_TOKEN``, with the assignment's version: once per owner).
    Merged only where neither holds anything planned before the identifier (``holders.browsers``): a browser kept apart
    from a login's customer that then lost the identifier to the earliest browser's claim met that browser's customer
    in time order and joined it unweighed (``{x0, e}`` t0, ``{x2, u, e}`` t1, ``{x1, e}`` t2 arriving t1, t2, t0: the
    holders' pair of the two browsers was weighed while the claim was on its way; ``test_holders_browsers.py``)."""
    owner = ctx.state.owner
    for other in ctx.state.kept_apart:
        if owner is None or other == owner:
            continue
        low, high = sorted((owner, other))
        token = f"{OWNER_TOKEN}{ctx.state.version}:{node_digest(ctx.key)}:{low}:{high}"
        ctx.send(high, Link(low, False, None, f"{token}#0", command_saga(token, "PROCESSOR", BLOCKING_CANDIDATE)))


def offer_parked(ctx: Ctx[IdentifierState], customer: str) -> None:
    """A customer was newly kept apart through this identifier (``note``) or became its owner (``assign``: a claim
    moved it from the keeper that refused the records): offer it the records an earlier version parked here
    (``Housemates.parked``) it has not tried; one it does not take comes back and goes to its own customer."""
    box = ctx.state.housemates
    if box is None:
        return
    offered = [parked for parked in box.parked if customer not in parked.tried]
    if not offered:
        return
    ctx.state.housemates = msgspec.structs.replace(
        box, parked=[parked for parked in box.parked if parked not in offered])
    for parked in offered:
        ctx.send(customer, msgspec.structs.replace(parked, tried=_with(parked.tried, customer)))


def on_seek_customer(ctx: Ctx[CustomerState], message: Seek) -> None:
    """Apply the record here if its traits are this customer's person; otherwise send it back."""
    if not route(ctx, message):
        return  # deferred (created later, or locked by a merge) or forwarded to the root
    if ctx.key in message.tried[:1] or not fits_person(ctx, message.apply.traits):
        # The keeper itself (a housemate merged into it), or another person: the identifier tries the next one.
        ctx.send(message.identifier, msgspec.structs.replace(message, tried=_with(message.tried, ctx.key)))
        return
    # Its own person's record: applied as if it had come here and been refused at the keeper on evidence of two
    # people: this customer claims the household identifiers it ranks first on (the earliest event's person keeps
    # them, claim_node.py), as it does in the orders where the record made or met this customer first.
    apply = message.apply
    on_apply(ctx, msgspec.structs.replace(apply, claims=apply.lowered, household_only=False, kept_apart=[]),
             follow_moves=False)


def _with(tried: list[str], key: str) -> list[str]:
    return tried if key in tried else [*tried, key]
