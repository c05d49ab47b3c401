"""An operator releases an identifier from its customer (``omnibus identity release``, tester F1).

Prepaid phone numbers are recycled: after a quarantine the operator gives a churned subscriber's number to someone
else. Without a release the earliest event's customer keeps it for ever (``claim_node.py``): the new subscriber's
calls pop the old one. The release travels like a split (a command keyed by the customer, ``release_cli.py``):

* ``release_identifier`` at the customer's root (a merged-away id forwards to its survivor): the member leaves
  (with its ``shared`` and ``elsewhere`` marks, so the screen pop no longer lists it); its contacts, products and
  name stay (its history); ``relinquish`` goes to the identifier's node with the next assignment version. A root
  that does not hold it (a newer claim or split moved it, or one of its users: tester24 F13, a keypad typo's call
  whose wrong link an operator undid) drops it from ``elsewhere`` and sends ``disown`` to its node.
* ``disown`` at the identifier's node: the customer is no longer one of its users (``on_disown``), else nothing
  changes and ``LinkRefused`` rule ``manual-release`` without ``evicted`` says so.
* ``relinquish`` at the identifier's node: it belongs to nobody (``LinkRefused`` ``evicted`` with the operator,
  and a tombstone on ``customer.identifiers.v1``, as an eviction by a limit), and starts afresh: no first rank, no
  people, no customers kept apart, no shared flag, no refusals remembered. It keeps the release's rank
  (``IdentifierState.released_below``): an event that occurred before the release carried it for the previous
  holder (an offline counter's late upload, a replay) and no longer ranks, counts or claims it (``stale``), so it
  never takes the number back. It leads the event only to the customer that held it at the event's instant: the
  node keeps who held it until each release (``IdentifierState.released_from``, ``holder``), and phase 2 reads it as
  that customer's, as it was then (``saga.held_then``): a late call from the number lands on the previous
  subscriber's history, never on nobody's (tester18 F5), and the identifiers nobody held a late event brings join
  that customer. The next event that occurred after the release
  and carries it makes or joins the customer its other identifiers lead to (the new subscriber's identify), and
  ranks first on it from then on. A move that reserved the node (a claim) ends first; a release whose version a newer
  assignment superseded is dropped, so a stale command never undoes a newer claim.

Idempotent: the command id is the step token at the root, and the node drops a version it has seen.
"""

from __future__ import annotations

from collections.abc import Iterable

from processors.identity.graph.context import Ctx, node_digest, recalls_hash, remember_hash, token_hash
from processors.identity.graph.customer_steps import Node, done, route
from processors.identity.graph.evidence import file_blocking, revoke_unsupported
from processors.identity.graph.limits import HASH_BITS, member_version, saga_rank
from processors.identity.graph.messages.base import ContactRecord, Saga
from processors.identity.graph.messages.commands import Disown, ReleaseIdentifier, Relinquish
from processors.identity.graph.outputs import Lineage, Refused, Unassigned
from processors.identity.graph.recycle import MAX_HOLDERS, held_then
from processors.identity.graph.state import IdentifierState
from processors.identity.graph.tenancy import closures_with
from processors.identity.rules import MANUAL_RELEASE, kind_of


def on_release_identifier(ctx: Node, message: ReleaseIdentifier) -> None:
    """At the customer's root: drop the member and tell its node; nothing when it does not hold it."""
    if not route(ctx, message, message.token):
        return
    done(ctx, message.token)
    state, key = ctx.state, message.identifier
    if key not in state.members:  # one of its users, not its holder: it stops being one (``on_disown``)
        disown(ctx, key, message.operator, message.reason, message.token, message.channel)
        return
    value = state.members.pop(key)
    state.shared = [other for other in state.shared if other != key]
    state.elsewhere = [other for other in state.elsewhere if other != key]
    if all(kind_of(other) != kind_of(key) for other in state.members):
        file_blocking(ctx)  # its blocking entries name the types it holds (claim_node.on_give)
    ctx.send(key, Relinquish(ctx.key, member_version(value) + 1, message.at, message.operator, message.reason,
                             message.token, message.channel))


def disown(ctx: Node, key: str, operator: str, reason: str | None, token: str, channel: str, *,
           moved: list[str] | None = None) -> None:
    """At a customer's root that does not hold ``key``: it is no longer one of its users (an operator's command): off
    its ``elsewhere`` marks (its screen pop no longer lists it), and ``disown`` to the identifier's node with its
    members of types limited to one; ``moved``: as ``Disown.moved`` (a contact move's)."""
    state = ctx.state
    state.elsewhere = [other for other in state.elsewhere if other != key]
    state.elsewhere_with.pop(key, None)
    ctx.send(key, Disown(ctx.key, _limited(ctx, state.members), operator, reason, token, channel, moved))


def moved_away(ctx: Node, going: Iterable[ContactRecord], staying: Iterable[ContactRecord], operator: str,
               reason: str | None, token: str, channel: str) -> None:
    """After an operator moved a contact (its records ``going``) off this customer (``move_contact.py``): each
    identifier it carried that the customer does not hold came to it through that contact (a keypad typo's call
    placed by the typed number) unless one of its other contacts (``staying``) carried it, or its record of the events
    that carried it (``CustomerState.elsewhere_with``) names a member the moved contact did not carry (its billing
    line on a household's phone, also one it gave up at a claim: ``elsewhere.given_up``): ``disown`` it, with the
    token ``{token}~{node_digest(key)}`` (``token``: the move's announcement id; the lineage of the ``LinkRefused`` it
    may announce, so no identifier value: tester28 F1)."""
    going = list(going)
    state = ctx.state
    carried = {key for record in going for key in record.ids}
    still = {key for record in staying for key in record.ids}
    for key in sorted(carried - still - set(state.members)):
        if not carried.issuperset(state.elsewhere_with.get(key, ())):
            continue  # another of its events carried it too
        disown(ctx, key, operator, reason, f"{token}~{node_digest(key)}", channel,
               moved=_limited(ctx, (other for other in carried if other != key)))


def _limited(ctx: Node, keys: Iterable[str]) -> list[str]:
    return sorted(key for key in keys if ctx.policy.limit(kind_of(key)) == 1)


def on_relinquish(ctx: Ctx[IdentifierState], message: Relinquish) -> None:
    """At the identifier's node: nobody's from ``message.version`` on, its history of holders forgotten."""
    state = ctx.state
    if state.reserved_by:
        ctx.defer(message)  # a move in progress (a claim): its assignment decides whether this is stale
        return
    if message.version <= state.version:
        return  # a copy, or a newer assignment (a claim, a split) superseded it
    # Afresh: what it kept of its holders' events (first rank, people, customers kept apart, a household's records,
    # refusals, the shared flag) was the previous holder's. The dedupe window stays: copies are still copies. So do
    # the system of record's facts (the records that gave it, their accounts' closures; an account's own lines):
    # a tenant change or a recycle they tell later still gives it to the records' holder (recycle.py, tester33 F3).
    # The release ends the gifts of the records before it as a closure would: a later record takes it from there.
    rank = max(message.at, 0) << HASH_BITS
    # (no customer: a recomputation's release of a number its grouping gave nobody, ``replay.releases.apply_release``)
    holders = sorted({*state.released_from, (rank, message.customer)} if message.customer else state.released_from
                     )[-MAX_HOLDERS:]
    closures = state.closures
    for account in sorted({account for gift in state.records for account in gift.accounts}):
        closures = closures_with(closures, (account, max(message.at, 0)))
    ctx.state = IdentifierState(version=message.version, recent=state.recent, released_below=rank,
                                released_from=holders, closed_at=state.closed_at, gave=state.gave,
                                records=state.records, closures=closures, account=state.account)
    reason = f"released by an operator{': ' + message.reason if message.reason else ''}"
    ctx.emit(Refused(ctx.key, reason, _lineage(message), customer_id=message.customer, evicted=True,
                     operator=message.operator), Unassigned(ctx.key, message.version))


def on_disown(ctx: Ctx[IdentifierState], message: Disown) -> None:
    """At the identifier's node: customer ``message.customer`` (not its holder) is no longer one of its users.

    A release's (``moved`` None): off ``kept_apart``, and the evidence (``people``) of every event that named one of
    its identifiers limited to one forgotten. A contact move's: the evidence that move took away (no traits, the
    moved contact's identifiers limited to one: a keypad call that carried the typed customer number) forgotten,
    and the customer off ``kept_apart`` once no evidence left names one of its identifiers (its billing line that
    carried the identifier still does). A shared flag the rest no longer supports is revoked (``SharedRevoked``,
    ``evidence.revoke_unsupported``). Announced as ``LinkRefused`` rule ``manual-release`` without ``evicted``
    naming the customer and the operator; a release that changes nothing (a customer it did not count: a second
    command, a release since) is told so, a move's is not announced. A copy of the message (its token in the dedupe
    window, ``IdentifierState.recent``) does nothing: a redelivery never announces "not released" under the id of the
    change it made."""
    state, named = ctx.state, set(message.ids)
    hashed = token_hash(message.token)
    if recalls_hash(state.recent, hashed):
        return  # a copy (the graph topic redelivers): announced once, under one id
    state.recent = remember_hash(state.recent, hashed, ctx.graph.dedupe_window)
    if message.moved is None:
        people = [person for person in state.people if named.isdisjoint(person.ids)]
    else:
        people = [person for person in state.people if person.traits is not None or person.ids != message.moved]
    if message.moved is None or (named and all(named.isdisjoint(person.ids) for person in people)):
        kept = [other for other in state.kept_apart if other != message.customer]
    else:
        kept = state.kept_apart
    lineage = Lineage(message.token, message.channel, MANUAL_RELEASE)
    if people == state.people and kept == state.kept_apart:
        if message.moved is None:
            ctx.emit(Refused(ctx.key, "not released: the customer neither holds it nor is counted among its users "
                             "(moved or released since)", lineage, customer_id=message.customer,
                             operator=message.operator))
        return
    state.people, state.kept_apart = people, kept
    reason = f"no longer counted among its users by an operator{': ' + message.reason if message.reason else ''}"
    ctx.emit(Refused(ctx.key, reason, lineage, customer_id=message.customer, operator=message.operator))
    revoke_unsupported(ctx)


def stale(state: IdentifierState, saga: Saga) -> bool:
    """Whether the event of ``saga`` occurred before the identifier was released, or before a system of record's
    recycle gave it another holder (``recycle.held_then``): it carried it for the previous holder. A command saga (a
    review decision, a blocking proposal) carries no event and is never stale."""
    if saga.proposal:
        return False
    return (state.released_below is not None and saga_rank(saga) < state.released_below) or held_then(state, saga)


def holder(state: IdentifierState, saga: Saga) -> str | None:
    """The customer that held the identifier when the event of ``saga`` occurred: the one the first release after
    that instant took it from (None: none known, a state written before holders were kept, or one dropped from
    the last ``MAX_HOLDERS``). Only for a ``stale`` event."""
    rank = saga_rank(saga)
    return next((customer for below, customer in state.released_from if rank < below), None)


def _lineage(message: ReleaseIdentifier | Relinquish) -> Lineage:
    return Lineage(message.token, message.channel, MANUAL_RELEASE)
