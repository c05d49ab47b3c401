"""A person's master record keeps its holder's own mobile and e-mail against every refused contact (tester27 F1, F2).

``claim_node.py`` gives an identifier two people share to the customer of the earliest event that carried it. A
system of record ranks its mobiles and e-mails after every other channel's event (``limits.key_rank``), since a
family plan's billing line names the account's holder beside each member's own MSISDN (tester18 F4). But a record
that names its holder by a customer number or a national ID (``rules.master_record``: core banking's customer file)
gives the holder's own contact details: a namesake's counter visit refused on his birth date (a veto), or a portal
login kept apart by the one-login limit, that carried the holder's mobile or e-mail ranked first on it and its
customer claimed it from the holder, so a screen pop showed the wrong man (F2), and the holder's own login took his
record's phone to a web-only customer (F1). The rule, whatever the channel, the refusal and the arrival order:

* the identifier's node keeps the smallest rank of the master records that gave it (``IdentifierState.master``:
  ``key_rank``, kinds a person holds several of, ``rules.holder_only``; not a fixed line, a home's), and such a
  record's visit counts as ranking first on it (``saga.lowered``): refused through it (another person holds it, the
  namesake's visit came first), its customer claims it;
* once a master record gave it, only the earliest such record's claim moves it (``claims``): another event's
  (web, counter, call center, or another record) is dropped, so a refused event never takes it from the holder;
* master records of two holders that gave it (a family mobile on a father's and a daughter's bank records, tester21
  F17) say nothing of whose it is: the rule lapses, and the earliest claim it dropped (``withheld``: or, where a
  master record's claim took it from an earlier event's customer, that customer's claim back) is made again, so the
  earliest event decides as before, whatever came first.

Recycling (``recycle.py``: a closed account's number a later record gave) decides before this, as before.
"""

from __future__ import annotations

from processors.identity.graph.context import Ctx
from processors.identity.graph.limits import claimable, saga_key_rank
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.claims import Claim
from processors.identity.graph.state import IdentifierState
from processors.identity.graph.state_parts import MasterRecord
from processors.identity.rules import holder_only, master_record

Node = Ctx[IdentifierState]
LAPSED = ""  # ``MasterRecord.holder`` once two holders' master records gave the identifier
LAPSE_SUFFIX = "~master-lapsed"  # the event id of the claim back of what a master record's claim took


def lapses(ctx: Node, saga: Saga) -> Claim | None:
    """Before a visit: where ``saga`` is another holder's master record, end the rule and give back the claim it
    withheld (None if none): the caller makes that claim first and the visit comes after it, so the record meets
    the identifier where the earliest event put it (tester21 F17: Paul's call left Julie's mobile for his customer
    before his own line came; the line joins that customer instead of making one that blocking merges later)."""
    known = ctx.state.master
    if known is None or known.holder == LAPSED:
        return None
    holder = _holder(ctx, saga)
    if holder is None or known.holder == holder:
        return None
    ctx.state.master = MasterRecord(min(saga_key_rank(saga, ctx.key), known.rank), LAPSED)
    withheld, ctx.state.withheld = ctx.state.withheld, None
    return withheld


def on_visit(ctx: Node, saga: Saga) -> None:
    """A master record's visit: note its rank (the smallest kept) and holder, and mark the event as ranking first on
    this identifier where it is the earliest master record of the one holder (``saga.lowered``: its customer claims
    it if refused); another holder's record ends the rule (``lapses``, asked before the visit)."""
    holder = _holder(ctx, saga)
    if holder is None:
        return
    state, rank = ctx.state, saga_key_rank(saga, ctx.key)
    known = state.master
    if known is not None and known.holder != holder:
        state.master = MasterRecord(min(rank, known.rank), LAPSED)
        return
    if known is None or rank < known.rank:
        known = state.master = MasterRecord(rank, holder)
    if rank == known.rank:
        saga.lowered |= 1 << saga.visited


def _holder(ctx: Node, saga: Saga) -> str | None:
    """The person key (smallest) of a master record's holder, where ``saga`` is a master record's visit of a kind its
    holder's own (``rules.holder_only``, claimable here); else None."""
    if saga.proposal or not holder_only(saga.channel, ctx.key) or not claimable(ctx.policy, ctx.key):
        return None
    return master_record(saga.channel, saga.ids, ctx.policy.user_lines)


def claims(state: IdentifierState, message: Claim) -> bool | None:
    """Whether ``message`` (a claim not recycled) moves the identifier by the master record: True for the earliest
    master record's own claim, False for any other while one holder's master records gave it (the earliest such claim
    is kept in ``withheld``), None when none did or the rule lapsed (the earliest event decides,
    ``claim_node.on_claim``)."""
    known = state.master
    if known is None or known.holder == LAPSED:
        return None
    if message.rank != known.rank:
        _withhold(state, message)
        return False
    if state.owner and state.first_rank is not None and state.first_rank < known.rank:
        # Taken from the customer of an earlier event: if the rule lapses, that one claims it back (``on_visit``).
        _withhold(state, Claim(state.owner, state.first_rank, f"{message.event_id}{LAPSE_SUFFIX}", message.channel))
    return True


def _withhold(state: IdentifierState, claim: Claim) -> None:
    """Keep ``claim`` to make again if the rule lapses: the earliest-ranked one (only it can move the identifier)."""
    if state.withheld is None or claim.rank < state.withheld.rank:
        state.withheld = claim


def undoable(state: IdentifierState, message: Claim) -> bool:
    """Whether an accepted claim moves the identifier by the master record alone (not also the earliest event's): its
    giver stays a customer of its own (``Give.kept``), so the claim back can undo the move if the rule lapses."""
    known = state.master
    return (known is not None and known.holder != LAPSED and message.rank == known.rank
            and state.first_rank is not None and message.rank > state.first_rank)
