"""A housemate's named call on the family's other phone goes to the housemate it names (tester28 F9).

Anne and Bruno share a household: their billing lines carry one family e-mail, each line its own mobile. Bruno calls
from Anne's mobile and gives the IVR his given name, family name and full birth date. The mobile's keeper (Anne) is
another person (``contest.another_person``), nobody else was kept apart through the mobile, so the call made a
customer of its own (``seek.own_customer``) which blocking proposed with Bruno's and the matcher weighed as two
records met on traits alone: +10.1 bits, a review, the call on nobody's screen pop until an operator decided.

That is the wrong decision for this pair. Merging two customers' identifiers on their traits' weight is one question
(``blocking_node.py``); attributing a contact to the person it names among the people the identifier it came
through is known to reach is another, a call-center manager's: the caller named one of the phone's household, so the
call is his. The rule: **a contact's own customer (no identifiers, every contact told its person,
``CustomerState.contacts``) whose caller gave a given name, a family name and a full birth date joins the customer
of the one person of the household of the identifier it came through whom all three name exactly** (rule
``household-call``, announced as a merge, no weight). The household of an identifier is its keeper's other
identifiers of types that may be several people's (``LinkPolicy.shared_limit`` above one: the family e-mail, a
landline, a joint account) and the customers on each of them (owner and ``kept_apart``). It never attributes when
the person is not unique there (``one_person``: another of its people with the caller's family name and birth date,
twins-like siblings; or no full birth date: a name alone may be two housemates'), and never reaches a stranger: a
namesake with the same birth date outside the household is weighed by blocking as before.

The way, by state and never a timer, so every arrival order ends alike:
1. ``ask``: the contact's own customer sends ``HouseholdCall`` to each identifier it was kept apart through (the
   phone, ``CustomerState.elsewhere``) when it becomes one (its first told contact, ``customer_node.on_apply``; a
   call that came before the household gave the phone up to the keeper, ``claim_node.on_give``).
2. ``on_identifier`` at the phone: kept (``Housemates.callers``, at most ``MAX_CALLERS``) and passed to its owner, the
   keeper; a later owner (``on_customer_came``, from ``identifier_node.on_assign``) gets it too.
3. ``on_customer`` at the keeper: passed to each of its identifiers and those it was kept apart through that may be
   a household's (``keeper`` set).
4. ``on_identifier`` at such an identifier: kept, and the caller proposed (``Link``, token ``HOUSEHOLD_TOKEN``) with
   each customer on it when its people (``IdentifierState.people``) hold exactly one person the traits name
   (``propose``); a customer that comes later (``note``, ``assign``) is proposed then.
5. ``attributes`` at the pair's decision (``customer_merge.on_offer``): merged when one side holds no identifier and
   the other's summary has the caller's given name, family name and birth date; otherwise the two stay apart,
   unannounced (blocking weighs them as before). A split's or a rejected review's do-not-merge still keeps them
   apart. The merge brings the call, its ``customer.contacts`` key (subscribers re-key on ``CustomerMerged``) and its
   handoff (``handoff_moves``) to the named person; the keeper's screen pop never shows it.

At-least-once: a copy of ``HouseholdCall`` is kept once (by caller and ``via``) and proposes a pair again, which the
customers' duplicate guard drops (the token is the same).
"""

from __future__ import annotations

import msgspec

from processors.identity.graph.context import Ctx, node_digest
from processors.identity.graph.customer_steps import route
from processors.identity.graph.messages.steps import HouseholdCall, Link, Offer
from processors.identity.graph.saga import TOLD, command_saga
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.graph.state_parts import Housemates
from processors.identity.matching.traits import BIRTH, FAMILY, GIVEN, Summary
from processors.identity.rules import HOUSEHOLD_CALL, kind_of

# Prefix of the proposals a household identifier sends between a contact's own customer and the person it names.
HOUSEHOLD_TOKEN = "hc:"
# Contacts' own customers one identifier keeps for the customers that come later: a household's few calls.
MAX_CALLERS = 4
NAMING = (GIVEN, FAMILY, BIRTH)  # what a caller must give, each exact, to name one person of the household
FULL_DATE = len("1972-09-03")  # ``traits.summarize`` keeps a birth date as an ISO date


def names_person(traits: Summary | None) -> bool:
    """Whether ``traits`` (a caller's summary) hold a given name, a family name and a full birth date."""
    return bool(traits) and all((traits or {}).get(field) for field in NAMING) and all(
        len(value) == FULL_DATE for value in (traits or {})[BIRTH])


def named_by(caller: Summary, person: Summary | None) -> bool:
    """Whether ``person`` (a summary) holds each of the caller's given name, family name and birth date exactly."""
    return names_person(caller) and person is not None and all(
        set(caller[field]) & set(person.get(field, ())) for field in NAMING)


def one_person(caller: Summary, state: IdentifierState) -> bool:
    """Whether the identifier's evidences of its people hold exactly one person the caller names: some evidence named
    by it, none of another person with its family name and birth date (twins-like siblings: the given name alone
    would tell them apart, an IVR's is not enough), and no two named by it that carry two limit-one identifiers (two
    people of one name and birth date). The evidences: each event's (``IdentifierState.people``) and, at a mailbox,
    its records' holders' (``IdentifierState.named``: a billing line's names are its holder's, not kept in
    ``people``, ``evidence.person_of``)."""
    if not names_person(caller):
        return False
    evidences = [person for person in [*state.people, *state.named] if person.traits is not None]
    named = [person for person in evidences if named_by(caller, person.traits)]
    rivals = [person for person in evidences if not named_by(caller, person.traits) and person.traits is not None
              and all(set(caller[field]) & set(person.traits.get(field, ())) for field in (FAMILY, BIRTH))]
    return bool(named) and not rivals and len({tuple(person.ids) for person in named if person.ids}) <= 1


def ask(ctx: Ctx[CustomerState]) -> None:
    """At a customer that holds no identifier and whose contacts all told their person: look for that person through
    each identifier it was kept apart through (``CustomerState.elsewhere``)."""
    state = ctx.state
    if state.members or state.contacts != TOLD or not names_person(state.traits):
        return
    for key in state.elsewhere:
        ctx.send(key, HouseholdCall(ctx.key, state.traits or {}, key))


def on_identifier(ctx: Ctx[IdentifierState], message: HouseholdCall) -> None:
    """At the phone the call came through (``via``): kept, and passed to its keeper. At a household identifier of the
    keeper: kept, and the caller proposed with the one person there it names."""
    _keep(ctx, message)
    if message.via == ctx.key:
        _to_keeper(ctx, message, ctx.state.owner)
    else:
        propose(ctx, message)


def on_customer(ctx: Ctx[CustomerState], message: HouseholdCall) -> None:
    """At the keeper of the phone: passed on to each identifier it holds or was kept apart through that may be a
    household's (the phone itself left out)."""
    if not route(ctx, message):
        return
    state = ctx.state
    if message.caller == ctx.key or message.caller in state.aliases:
        return  # the caller's own customer holds the phone again
    household = sorted(key for key in {*state.members, *state.elsewhere}
                       if key != message.via and ctx.policy.shared_limit(kind_of(key)) > 1)
    for key in household:
        ctx.send(key, msgspec.structs.replace(message, keeper=ctx.key))


def on_customer_came(ctx: Ctx[IdentifierState], customer: str, *, owner: bool) -> None:
    """A customer was noted here or became the owner (``identifier_node.on_note``, ``on_assign``): the callers kept
    here are passed to it (the phone's new keeper, ``owner``) or proposed with it (a household identifier)."""
    box = ctx.state.housemates
    for message in box.callers if box is not None else []:
        if message.via == ctx.key:
            if owner:
                _to_keeper(ctx, message, customer)
        else:
            propose(ctx, message, [customer])


def propose(ctx: Ctx[IdentifierState], message: HouseholdCall, customers: list[str] | None = None) -> None:
    """Propose the caller with each customer on this identifier (``customers``: those only) when its people hold
    exactly one person the caller names (``one_person``); the pair's decision reads their summaries (``attributes``)."""
    state = ctx.state
    if not one_person(message.traits, state):
        return
    on_it = {*state.kept_apart, state.owner} if customers is None else set(customers)
    for other in sorted(key for key in on_it if key and key not in (message.caller, message.keeper)):
        low, high = sorted((message.caller, other))
        token = f"{HOUSEHOLD_TOKEN}{node_digest(ctx.key)}:{low}:{high}"  # no identifier value in ids (F1)
        ctx.send(high, Link(low, False, None, f"{token}#0", command_saga(token, "PROCESSOR", HOUSEHOLD_CALL)))


def attributes(offer: Offer, state: CustomerState) -> bool:
    """At the decision of a pair ``propose`` sent (``customer_merge.on_offer``: the loser's ``offer``, the survivor's
    ``state``): one side holds no identifier and the other side's summary holds its given name, family name and birth
    date (``named_by``)."""
    if not offer.members and state.members:
        return named_by(offer.traits or {}, state.traits)
    if offer.members and not state.members:
        return named_by(state.traits or {}, offer.traits)
    return False


def _to_keeper(ctx: Ctx[IdentifierState], message: HouseholdCall, keeper: str | None) -> None:
    if keeper and keeper != message.caller:
        ctx.send(keeper, msgspec.structs.replace(message, keeper=None))


def _keep(ctx: Ctx[IdentifierState], message: HouseholdCall) -> None:
    box = ctx.state.housemates or Housemates()
    kept = [other for other in box.callers if (other.caller, other.via) != (message.caller, message.via)]
    ctx.state.housemates = msgspec.structs.replace(
        box, callers=[*kept, msgspec.structs.replace(message, keeper=None)][-MAX_CALLERS:])
