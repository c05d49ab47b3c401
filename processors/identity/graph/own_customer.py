"""A record of another person than the customer it reached unweighed makes its own customer (issue #8 build 5).

An event reaches a customer without being weighed against it when the identifier it links first is already
that customer's: all its identifiers are (Anx's record on an e-mail Ann's earlier-arrived record brought),
or the others stay apart by a weighed refusal (``customer_merge._belongs`` keeps it on the side it reached).
In the order where this record came first, it made a customer of its own with those identifiers, and the
other person's records were weighed against it and refused; the identifiers the record ranks first on stayed
with it (``claim_node.py``). So at ``apply``, when the matcher refuses the record as this customer's person
(its traits and the identifiers it shares with the customer, the rule of a ``join``) and it ranks first on
identifiers this customer holds (``Apply.lowered``), or on identifiers it was kept apart through by a refusal
(``Apply.claims``, which this customer does not make for another person's record: draw 7257), the record does not
stay here:
its customer is made (the id it would have had, ``saga.pending_customer_id``), it is applied there, and that
customer claims them. A record that ranks first on none stays where it is, as before: in the order where it
came first, its customer gives every identifier to earlier records' customers and the last one merges it into
theirs (``claim_node.on_give``). Residual: a customer made so whose claims all fail (an earlier event visited
the identifier in between) keeps the record with no identifier.
"""

from __future__ import annotations

from processors.identity.graph.context import Ctx, recalls
from processors.identity.graph.customer_steps import done
from processors.identity.graph.evidence import judge
from processors.identity.graph.limits import HASH_BITS, claimable
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Apply, Create
from processors.identity.graph.saga import customer_id
from processors.identity.graph.state import CustomerState
from processors.identity.matching.weights import Decision

Node = Ctx[CustomerState]


def leaves(ctx: Node, message: Apply) -> bool:
    """Whether the record of ``message`` (not this customer's person by traits nor login: the caller checks)
    leaves this customer for its own; if so, its creation is sent. A copy of an ``apply`` that left is dropped
    (True): the claims may have moved the identifiers away since, which would keep it here."""
    if not message.lowered or not message.traits:
        return False
    token = _token(message.event_id)
    if recalls(ctx.state.done, token):
        return True
    state = ctx.state
    members = state.members
    # The identifiers it ranks first on that this customer holds, and those it was kept apart through (claims).
    firsts = [key for key in message.lowered if key in members and claimable(ctx.policy, key)]
    if not (firsts or message.claims) or not state.traits:
        return False
    held = [key for key in message.ids if key in members]
    if judge(ctx, message.traits, state.traits, held, members)[0] is not Decision.REFUSE:
        return False
    done(ctx, token)
    occurred = message.rank >> HASH_BITS
    contested = sorted({*message.claims, *firsts})
    lowered = sum(1 << index for index, key in enumerate(message.ids) if key in message.lowered)
    saga = Saga(message.event_id, message.channel, occurred, message.started_at, list(message.ids),
                event=message.event, traits=message.traits, lowered=lowered, contested=contested)
    ctx.send(customer_id(occurred, message.event_id), Create([], saga))
    return True


def _token(event_id: str) -> str:
    return f"{event_id}~own"
