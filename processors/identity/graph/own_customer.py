"""A record of another person than the customer it reached unweighed makes its own customer (issue #8 build 5).

An event reaches a customer without being weighed against it when the identifier it links first is already
that customer's: all its identifiers are (Anx's record on an e-mail Ann's earlier-arrived record brought),
or the others stay apart by a weighed refusal (``apart_side.belongs`` keeps it on the side it reached).
In the order where this record came first, it made a customer of its own with those identifiers, and the
other person's records were weighed against it and refused; the identifiers the record ranks first on stayed
with it (``claim_node.py``). So at ``apply``, when the matcher refuses the record as this customer's person
(its traits and the identifiers it shares with the customer, the rule of a ``join``) and it ranks first on
identifiers this customer holds (``Apply.lowered``), or on identifiers it was kept apart through by a refusal
(``Apply.claims``, which this customer does not make for another person's record: draw 7257), the record does not
stay here:
its customer is made (the id it would have had, ``saga.pending_customer_id``; for a contact's event, the id its
contact's record would have had, ``Apply.traits_of``: every event of a call leaves for one customer, as they rank
first together, ``contact_rank.py``), it is applied there, and that customer claims them. A record that ranks
first on none stays where it is, as before: in the order where it came first, its customer gives every identifier
to earlier records' customers and the last one merges it into theirs (``claim_node.on_give``). Residual: a customer
made so whose claims all fail (an earlier event visited the identifier in between) keeps the record with no
identifier.

A customer that tells no person (no traits: a call whose IVR took an account, from the home's landline) is weighed
too, when a record reaches it through its fixed line alone, occurred before it, and the customer holds a member
planned before the line (``before_the_call``): in time order the record made the customer holding the line, and the
call's account, pending, met it in a weighed ``join`` and was kept apart (a review). Unless the matcher merges, the
record leaves as above, every event of its contact to one customer (seeded with the record its traits came from,
``Apply.traits_of``), which claims the line if it ranks first (tester20 F2: the keeper's counter visit joined her
housemate's account call, and his line was then refused through his own account). A mobile is one person's: a
record through it stays.
"""

from __future__ import annotations

from processors.identity.graph.contest import contests
from processors.identity.graph.context import Ctx, recalls
from processors.identity.graph.customer_steps import done
from processors.identity.graph.evidence import judge
from processors.identity.graph.limits import HASH_BITS, claimable
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Apply, Create
from processors.identity.graph.saga import customer_id
from processors.identity.graph.state import CustomerState
from processors.identity.matching.weights import Decision
from processors.identity.rules import household_line

Node = Ctx[CustomerState]
CONTACT_SUFFIX = "~record"  # seeds the id of a record's own customer made by ``before_the_call``


def leaves(ctx: Node, message: Apply) -> bool:
    """Whether the record of ``message`` leaves this customer for its own; if so, its creation is sent. Either it is
    not this customer's person by traits nor login (the caller checks), or this customer tells no person and the
    record came through its fixed line only (``before_the_call``). A copy of an ``apply`` that left is dropped
    (True): the claims may have moved the identifiers away since, which would keep it here."""
    if not message.traits:
        return False
    token = _token(message.event_id)
    if recalls(ctx.state.done, token):
        return True
    state = ctx.state
    members = state.members
    # The identifiers it ranks first on that this customer holds, and those it was kept apart through (claims).
    firsts = [key for key in message.lowered if key in members and claimable(ctx.policy, key)]
    held = [key for key in message.ids if key in members]
    occurred = message.rank >> HASH_BITS
    contested = sorted({*message.claims, *firsts})
    lowered = sum(1 << index for index, key in enumerate(message.ids) if key in message.lowered)
    saga = Saga(message.event_id, message.channel, occurred, message.started_at, list(message.ids),
                event=message.event, traits=message.traits, lowered=lowered, contested=contested,
                member_line=message.member_line)
    if state.traits:
        if not (firsts or message.claims):
            return False
        if judge(ctx, message.traits, state.traits, held, members)[0] is not Decision.REFUSE:
            return False
        seed = message.traits_of or message.event_id
    elif before_the_call(ctx, saga, held):
        seed = f"{message.traits_of or message.event_id}{CONTACT_SUFFIX}"  # one customer for the contact's events
    else:
        return False
    done(ctx, token)
    ctx.send(customer_id(occurred, seed), Create([], saga))
    return True


def before_the_call(ctx: Node, saga: Saga, held: list[str]) -> bool:
    """Whether the record of ``saga`` (traits, nothing new) leaves this customer, that tells no person, for its own:
    it reached it through fixed lines alone (``held``, ``rules.household_line``), occurred before the customer's
    first event, and the customer holds a member planned before them (a call's account, tester20 F2). In time order the
    record came first and made the customer holding the line, and the call's account, pending, met it through the
    line as a weighed ``join`` (``customer_join``): kept apart unless the matcher merges. So here, by the same weight,
    if the record tells its person apart (``contest.contests``); its customer claims the line if it ranks first."""
    state = ctx.state
    if not held or not all(household_line(key) for key in held) or saga.occurred_micros >= state.born:
        return False
    if not any(ctx.policy.plan_order([key, held[0]])[0] == key for key in state.members if key not in held):
        return False
    return contests(ctx, judge(ctx, saga.traits, state.traits, held, state.members, saga)[0], saga)


def _token(event_id: str) -> str:
    return f"{event_id}~own"
