"""The root's side of ``logins.py``: a login a mailbox placed alone leaves once the mailbox shows two people."""

from __future__ import annotations

from bus.identifiers.kinds import USER_ID
from processors.identity.graph.context import node_digest
from processors.identity.graph.customer_node import Node
from processors.identity.graph.customer_split import split_off
from processors.identity.graph.customer_steps import face
from processors.identity.graph.evidence import judge, kept_apart
from processors.identity.graph.limits import HASH_BITS, member_rank
from processors.identity.graph.messages.steps import Shared
from processors.identity.graph.outputs import Lineage, Split
from processors.identity.graph.saga import customer_id
from processors.identity.matching.weights import Decision
from processors.identity.rules import MATCH_REVIEW, kind_of

SEED_SUFFIX = "~household-login"  # seeds the id of the customer a login leaves for (with the e-mail and its key)


def on_household(ctx: Node, message: Shared) -> None:
    """The mailbox ``message.identifier`` holds evidence of two people now: a login this root took through it alone
    leaves for its own customer and waits for review (module docstring); so does one its node named as fitting two
    people's records (``message.fits_two``, ``fits_two.py``), however it joined. Nothing noted or named here: nothing
    to do (a copy too)."""
    state, mailbox = ctx.state, message.identifier
    if mailbox in state.members and mailbox not in state.households:
        # a login saga that visited it before the second person's does not merge through it here (evidence.judge)
        state.households = sorted([*state.households, mailbox])
    side = state.logins.pop(mailbox, None)
    if side is not None:
        _leave(ctx, message, [key for key in side if key in state.members], capped=False)
    _leave(ctx, message, [key for key in message.fits_two if key in state.members], capped=True)


def _leave(ctx: Node, message: Shared, moving: list[str], *, capped: bool) -> None:
    """Move the login's side ``moving`` to a customer of its own and ask for the review time order asks for; a login
    that fits two people's records (``capped``) is reviewed where the matcher would merge it. Nothing if no login is
    among them (it moved on: a claim, an operator) or nothing would stay."""
    state, mailbox = ctx.state, message.identifier
    members = state.members
    if not any(kind_of(key) == USER_ID for key in moving) or len(moving) == len(members):
        return
    staying = [key for key in members if key not in moving]
    born = min(member_rank(members[key]) for key in moving) >> HASH_BITS
    new_id = customer_id(born, f"{mailbox}~{moving[0]}{SEED_SUFFIX}")
    decision, score = judge(ctx, None, state.traits, [*moving, mailbox], staying, None, also=[mailbox])
    if capped and decision is Decision.MERGE:
        decision = Decision.REVIEW
    rule_lineage = Lineage(message.event_id or node_digest(mailbox), message.channel, MATCH_REVIEW)
    reason = f"{kind_of(mailbox)} shows two people: the login it placed alone waits for review"
    pair = (face(ctx, moving, mailbox), face(ctx, staying, ctx.key))
    split_off(ctx, moving, Split(ctx.key, new_id, tuple(moving), reason, rule_lineage), born, apart=False)
    if decision is not Decision.MERGE:
        kept_apart(ctx, decision, score, rule_lineage, mailbox, new_id, ctx.key, pair)
