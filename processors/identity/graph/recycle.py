"""A system of record recycles an identifier: a closed account's number given to a later, active holder (tester24 F14).

Telecoms give a churned subscriber's mobile number to a new one after a quarantine (e-mail providers recycle
addresses likewise). The earliest record that gave a phone or an e-mail (``key_rank``'s band of a record's identifiers)
keeps it against every later record (a joint account's second holder, a family plan's lines); but once the account
of that record is closed (billing's ``AccountClosed``), a record of another account that gives the identifier at a
later instant is the better evidence of whose it is now. The rule, order-independent:

* an account's node (``ACCOUNT:...``) keeps its closure's instant (``IdentifierState.closed_at``) and the identifiers
  its records gave (``gave``: keys of types a record does not give its holder, ``rules.RECORD_KINDS`` aside, that
  customers claim, ``limits.claimable``); it tells each of them the closure (``Closed``), at the closure's visit or at
  a record's visit after it;
* such an identifier's node keeps the records that gave it (``records``: rank, their accounts, event id; by rank) and
  the closures of those accounts (``closures``). ``holder_record`` reads who holds it by the records: the earliest,
  unless its account closed and a record of another account that gave it only after that instant did (a newer
  assignment: an account that gave it before the closure too, a family plan's line, held it alongside and takes
  nothing): then that one (and so on along a chain of recycles);
* when that is not the earliest record, the node asks the account of that record (``Recycle``) to claim it for its
  owner (``Claim`` with ``recycled``): the claim moves it whatever the ranks (``claim_node.on_claim``), and no other
  claim does any longer. The giver keeps the contacts from before the recycled record gave it (its history,
  ``hand_over``'s ``since``: that record's instant, after the closure); those after it follow;
* a contact that occurred before that instant and reaches the node after the move (a late upload, a call read after
  the new line, in any arrival order) goes to the customer the move took the number from (``held_then``, through
  ``release.stale`` and ``release.holder``, as an event that predates an operator's release): the move-out call
  and its handoff stay with the tenant who made them (tester28 F2).

Two more ends of a record's gift, the same way (tester29 F4): a line of the system of record whose newer revision no
longer gives the identifier (a customer-master export's changed line: ``record_lines.py``) tells it ``Closed`` at that
revision's instant, and a later record of another account that gives it at or after that instant takes it. An
account's facts rank as the screen pop ranks them (tester28 F3): a dated ``AccountClosed`` closes it
(``closed_at``); an undated one (an export without ``occurred_at``: the file's time) only while no dated record of the
account came (``AccountLines.undated_closed_at``, ``dated_record``); when a dated record voids it the account tells
its identifiers ``Closed`` with ``REOPENED`` and each forgets that closure and decides again.

A record that arrives late may undo a recycle (a family plan's line from before the closure): the node notes
``recycled`` while a recycled record holds it, and then asks the earliest record to claim it back when that one is
also its ``first_rank`` (an ordinary claim).

The same account's next tenancy (a dated line of another holder after its dated closure, tester33 F3) is a holder
record too (``tenancy.py``): its claim goes through the new holder's person key, and the account's node reads its own
holder the same way.

Left: a closure is not undone by a later ``AccountOpened`` of the same account naming the same holder (a reopened
contract); a record's account is read from the event's ``ACCOUNT`` identifiers (an IBAN beside the contract number
counts as one); another account's recycled record claims for that account's customer (a joint account's: its
keeper, not the holder the record names).
"""

from __future__ import annotations

import msgspec

from processors.handoffs.outputs import CREATED, STATUS_CHANGED
from processors.identity.graph import handoff_records, record_lines, split_contacts, tenancy
from processors.identity.graph.context import Ctx
from processors.identity.graph.handoff_moves import PLACED, tell_contact
from processors.identity.graph.limits import BANDS, HASH_BITS, claimable, saga_key_rank, saga_rank
from processors.identity.graph.messages.base import ContactRecord, Saga
from processors.identity.graph.messages.claims import Claim, Closed, HeldBefore, Recycle
from processors.identity.graph.messages.steps import HandoffPlaced
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.graph.state_parts import AccountLines, RecordGift
from processors.identity.rules import PERSON_KINDS, RECORD_CHANNEL, RECORD_KINDS, kind_of
from processors.profile.sections.products import NS
from processors.profile.sections.recent_contacts import contact_id

Node = Ctx[IdentifierState]

ACCOUNT = "ACCOUNT"
CLOSURE = f"{NS}AccountClosed"
MAX_GAVE = 8  # identifiers an account's records gave, kept on its node (a contract's numbers over its life)
MAX_RECORDS = 8  # records that gave one identifier, kept on its node (the earliest and the latest)
MAX_HOLDERS = 4  # customers a recycle or a release took it from whose contacts a late event still finds
REOPENED = -1  # ``Closed.at`` of an account whose closure a dated record outranks (``closed_at``): void


def rank_time(rank: int) -> int:
    """The instant (epoch µs) of a rank (``limits.event_rank``, band bits ignored)."""
    return (rank & BANDS) >> HASH_BITS


def recyclable(ctx: Node, key: str) -> bool:
    """Whether a record's ``key`` is one it may give a later holder: claimed between customers, not a record key."""
    return kind_of(key) not in RECORD_KINDS and claimable(ctx.policy, key)


def closes(saga: Saga) -> bool:
    return saga.channel == RECORD_CHANNEL and saga.event is not None and saga.event.schema == CLOSURE


def on_record_visit(ctx: Node, saga: Saga) -> None:
    """A system of record's event visits this node: note what it says for recycling (see the module)."""
    if saga.channel != RECORD_CHANNEL or saga.proposal:
        return
    if kind_of(ctx.key) == ACCOUNT:
        _at_account(ctx, saga)
        return
    accounts = sorted(key for key in saga.ids if kind_of(key) == ACCOUNT)
    if closes(saga) or not accounts or not recyclable(ctx, ctx.key):
        return
    _note_gift(ctx, saga, accounts)


def _account_line(ctx: Node, saga: Saga) -> None:
    """A record's visit (no closure) at its account's node: a line naming its holder is noted among the account's own
    gifts (a bill is not: a monthly bill never pushes a line out of the last ``MAX_RECORDS``). A fact naming nobody
    from before the current tenancy began, on an account a tenant change moved, tells the previous holder again: on
    several partitions it may be applied on the new holder after the first give-back, which a second one undoes."""
    if tenancy.holder_of(saga, record_lines.undated(ctx, saga)):
        _note_gift(ctx, saga, [ctx.key])
        return
    held = holder_record(ctx.state)
    if tenancy.names_nobody(saga) and held is not None and held[1] is not None and saga.occurred_micros < held[1]:
        _held_before(ctx)


def _held_before(ctx: Node) -> None:
    """Tell the records' earlier holder (``held_before.py``) that it held this identifier until the holder took over."""
    holder, giver = holder_record(ctx.state), giver_record(ctx.state)
    if holder is not None and holder[1] is not None and giver is not None:
        ctx.send(tenancy.previous(giver, holder[0]), HeldBefore(ctx.key, holder[1]))


def _note_gift(ctx: Node, saga: Saga, accounts: list[str]) -> None:
    """Note the record of ``saga`` among those that gave this identifier and decide again who holds it; the event
    ranks on it (``saga.lowered``: its customer claims it when applied) when its record holds it by a recycle."""
    state = ctx.state
    holder = tenancy.holder_of(saga, record_lines.undated(ctx, saga))
    gift = RecordGift(saga_key_rank(saga, ctx.key), accounts, saga.event_id, holder)
    if gift not in state.records:
        records = sorted([*state.records, gift], key=lambda item: (item.rank, item.event_id))
        state.records = records if len(records) <= MAX_RECORDS else [records[0], *records[-MAX_RECORDS + 1:]]
        _recycle(ctx)
    held = holder_record(state)
    if held is not None and held[1] is not None and held[0].event_id == saga.event_id:
        saga.lowered |= 1 << saga.visited


def _at_account(ctx: Node, saga: Saga) -> None:
    """A record of this account visits its node: note a closure, the identifiers a record gave and its line's revision
    (``record_lines.py``), and tell each identifier concerned the account's closure (``closed_at``) or that it is void
    (``REOPENED``: an undated closure a dated record of the account outranks, tester28 F3's rule)."""
    state, at = ctx.state, saga.occurred_micros
    undated = record_lines.undated(ctx, saga)
    before = closed_at(state)
    if closes(saga):
        if undated:
            facts = state.account or AccountLines()
            earliest = min(at, facts.undated_closed_at if facts.undated_closed_at is not None else at)
            state.account = msgspec.structs.replace(facts, undated_closed_at=earliest)
        else:
            if state.closed_at is None or at < state.closed_at:
                state.closed_at = at
            if (ctx.key, at) not in state.closures:  # each dated closure ends a tenancy (tenancy.py)
                state.closures = tenancy.closures_with(state.closures, (ctx.key, at))
                for key in state.gave:
                    ctx.send(key, Closed(ctx.key, at))
                _recycle(ctx)
        told = state.gave
    else:
        given = [key for key in saga.ids if key != ctx.key and recyclable(ctx, key)]
        state.gave = sorted({*state.gave, *given})[:MAX_GAVE]
        told = given
        for key in given:  # the account's tenancies: every dated closure (tenancy.py)
            for _, closure in state.closures:
                ctx.send(key, Closed(ctx.key, closure))
        _account_line(ctx, saga)  # who holds the account itself (tenancy.py)
        if undated is False and not (state.account and state.account.dated_record):
            state.account = msgspec.structs.replace(state.account or AccountLines(), dated_record=True)
        # its line no longer gives what an earlier revision gave: that gift ends (record_lines.py, tester29 F4)
        for key, rank in record_lines.withdrawn(ctx, saga, given):
            ctx.send(key, Closed(ctx.key, rank_time(rank)))
    now = closed_at(state)
    if now != before:
        told = state.gave
    if now is not None or before is not None:
        for key in told:
            ctx.send(key, Closed(ctx.key, REOPENED if now is None else now))


def closed_at(state: IdentifierState) -> int | None:
    """An account's closure (epoch µs) as its facts rank (``record_lines.newer``'s rule, the screen pop's): a dated
    ``AccountClosed``'s, else an undated one's unless a dated record of the account outranks it; None: open."""
    if state.closed_at is not None or state.account is None:
        return state.closed_at
    return None if state.account.dated_record else state.account.undated_closed_at


def on_closed(ctx: Node, message: Closed) -> None:
    """Account ``account`` (one whose record gave this identifier) closed at ``at`` (``REOPENED``: its closure is void:
    forgotten)."""
    state = ctx.state
    if message.at == REOPENED:
        kept = [closure for closure in state.closures if closure[0] != message.account]
        if len(kept) == len(state.closures):
            return
        state.closures = kept
        _recycle(ctx)
        return
    if (message.account, message.at) in state.closures:
        return
    # Every instant kept (not the earliest alone): the same account's later tenancies end at later ones (tenancy.py).
    state.closures = tenancy.closures_with(state.closures, (message.account, message.at))
    _recycle(ctx)


def holder_record(state: IdentifierState) -> tuple[RecordGift, int | None] | None:
    """Once a record's account closed: the record whose holder holds the identifier by the records, and the instant
    (epoch µs) it took over (None: the earliest record, nothing recycled): the instant that record gave it, which comes
    after its predecessor's account closed (``_new_after``). From the earliest, while
    the current one's account closed and a later-ranked record of another account gave it anew after that instant
    (``_new_after``), that record. None before any closure of a record's account."""
    chain = _chain(state)
    return chain[-1] if chain else None


def giver_record(state: IdentifierState) -> RecordGift | None:
    """The record whose holder held the identifier until the holder record took over (``holder_record``): its
    predecessor along the chain of recycles; None when nothing is recycled."""
    chain = _chain(state)
    return chain[-2][0] if len(chain) > 1 else None


def _chain(state: IdentifierState) -> list[tuple[RecordGift, int | None]]:
    """The holder records one after the other, each with the instant it took over (``holder_record``)."""
    if not state.records or not state.closures:
        return []
    chain: list[tuple[RecordGift, int | None]] = [(state.records[0], None)]
    while True:
        current, began = chain[-1]
        # A tenancy ends at a closure after it began (tenancy.py); another account's closure may be dated back.
        tenant = len(chain) > 1 and tenancy.tenant_change(chain[-2][0], current)
        ends = [at for account, at in state.closures
                if account in current.accounts and (not tenant or began is None or at >= began)]
        if not ends:
            break
        end = min(ends)
        later = next((gift for gift in state.records if gift.rank > current.rank and _takes_over(state, current,
                                                                                                 gift, end)), None)
        if later is None:
            break
        # The later holder holds it from the instant its record gave it, never before (tester28 F2): a closure billing
        # dates back (a move-out on the 30th exported days later) leaves the contacts until then the earlier holder's.
        chain.append((later, max(end, rank_time(later.rank))))
    return chain


def _takes_over(state: IdentifierState, current: RecordGift, gift: RecordGift, end: int) -> bool:
    """Whether ``gift`` holds it after ``current``'s account closed at ``end``: a record of another account that gave it
    anew (``_new_after``), or a line of the same account naming another holder from ``end`` on (``tenancy.py``)."""
    if tenancy.tenant_change(current, gift):
        return tenancy.takes_over(current, gift, end, rank_time(gift.rank))
    return _new_after(state, gift, end)


def _new_after(state: IdentifierState, gift: RecordGift, end: int) -> bool:
    """Whether ``gift``'s accounts gave the identifier only from ``end`` on: a newer assignment (at ``end`` itself: one
    export that closes or changes the earlier line and gives the number to a new line, stamped with one file time,
    tester29 F4; the import moves a file time ahead of its clock back once per file, ``adapters.legacy.batch_lines.
    export_time``, so its records keep one instant). One that gave it before too (a family plan's line beside a
    member's own closed contract, re-exported every night) held it alongside and takes nothing at the closure."""
    return all(rank_time(other.rank) >= end for other in state.records if set(other.accounts) & set(gift.accounts))


def _recycle(ctx: Node) -> None:
    """Ask the record that holds the identifier to claim it: a recycled one; or, where a recycle moved it
    (``recycled``) and a record that arrived late undid it, the earliest, if it is also the earliest event that ranked
    it (``first_rank``): it moves back."""
    state = ctx.state
    holder = holder_record(state)
    if holder is None:
        return
    gift, since = holder
    if since is not None:
        state.recycled = True
        giver = giver_record(state)  # its account's owner held it until then (held_before.py)
        if giver is not None:
            _held_before(ctx)
            ctx.send(tenancy.claimant(giver, gift), Recycle(ctx.key, gift.rank, gift.event_id))
            return
    if since is not None or (state.recycled and state.first_rank == gift.rank):
        ctx.send(gift.accounts[0], Recycle(ctx.key, gift.rank, gift.event_id))


def on_recycle(ctx: Node, message: Recycle) -> None:
    """At the account of the record that now holds ``identifier`` (at a tenant change: the new holder's person key,
    ``tenancy.claimant``): its owner claims it (``Claim`` ``recycled``)."""
    state = ctx.state
    if state.reserved_by or (not state.owner and kind_of(ctx.key) in PERSON_KINDS):
        # the record's saga is still deciding the account's customer (or, at a person key nobody holds yet, has not
        # reached it: its reservation and assignment come, and hand this back)
        ctx.defer(message)
        return
    if state.owner:
        ctx.send(message.identifier, Claim(state.owner, message.rank, message.event_id, RECORD_CHANNEL,
                                           recycled=True))


def note_giver(state: IdentifierState, since: int, customer: str | None = None) -> None:
    """At a recycled record's accepted claim: the customer that holds the identifier now (``state.owner``, the giver;
    ``customer``: the earlier record's account's owner, ``held_before.py``) held it until ``since`` (epoch µs,
    ``holder_record``), kept with the operator releases' holders (``IdentifierState.released_from``, the last
    ``MAX_HOLDERS``)."""
    giver = customer or state.owner
    if giver:
        entry = (max(since, 0) << HASH_BITS, giver)
        state.released_from = sorted({*state.released_from, entry})[-MAX_HOLDERS:]


def held_then(state: IdentifierState, saga: Saga) -> bool:
    """Whether the event of ``saga`` occurred, on a recycled identifier, before the record that holds it now gave it,
    and a customer that held it then is known (``note_giver``): that customer's, not the new holder's. Never a system of
    record's event (the records decide, ``holder_record``), but one that names no holder on an account a tenant change
    moved (a bill of the tenant who left, ``tenancy.names_nobody``), nor a command saga (no event)."""
    if saga.proposal or not state.released_from:
        return False
    held = holder_record(state)
    if held is None or held[1] is None:
        return False
    if saga.channel == RECORD_CHANNEL:
        giver = giver_record(state)
        if giver is None or not tenancy.tenant_change(giver, held[0]) or not tenancy.names_nobody(saga):
            return False
    rank = saga_rank(saga)
    return rank < held[1] << HASH_BITS and any(rank < below for below, _ in state.released_from)


def handoffs_stay(ctx: Ctx[CustomerState], key: str, claimant: str, going: list[ContactRecord]) -> None:
    """At the giver of a recycled ``key`` (``claim_node.on_give``): the handoffs opened during its contacts that stay
    (before the new holder held it, ``hand_over``'s ``since``) and carried ``key`` stand here, and the tracker's later
    events of them, which name ``key`` again, reach ``claimant`` first: tell it to send them here
    (``handoff_moves.on_placed``, as a creation placed on a customer not holding its identifiers does). So for its
    contacts that stay and carried ``key``: a case opened during one, naming ``key`` alone, that reaches the claimant
    later comes here (``handoff_moves.contact_placed``)."""
    gone = {record.event_id for record in going}
    load = ctx.graph.load_event
    for record in split_contacts.kept(ctx):
        if record.event_id in gone or key not in record.ids:
            continue
        if record.event.schema in split_contacts.CONTACT_SCHEMAS and ctx.graph.book.reads(STATUS_CHANGED):
            tell_contact(ctx, [claimant], record.event_id, contact_id(load(record.event)), f"~{ctx.key}")
        if not handoff_records.is_handoff(record) or record.event.schema != CREATED:
            continue
        event = load(record.event)
        if handoff_records.origin(event) is not None:
            ctx.send(claimant, HandoffPlaced(handoff_records.handoff_id(event), ctx.key,
                                             f"{record.event_id}~{PLACED}~{ctx.key}"))
