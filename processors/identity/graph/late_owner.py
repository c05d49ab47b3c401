"""A contact placed on a household's keeper because its own identifier was nobody's yet follows that identifier to its
first owner (issue #8 point 5, tester20 F1).

A call from the family landline whose IVR took the housemate's account, after another call had made the landline two
people's (``saga.households``) and before the housemate's own line made the account his: it tells no person and reaches
a customer only through the landline, so it lands on the landline's keeper and leaves the account unowned
(``deciding.untold_through_shared``: nothing says the account is the keeper's). Had the line come first, the account
would have been the housemate's at the call's visit and the call his (``deciding.unshared_first``). So the order of
arrival decided; now the placement waits on the identifier:

* the customer that applies such a contact (``Apply.unowned``: the new identifiers its saga left unowned, in plan
  order) sends ``AwaitOwner`` (its screen-pop id, the customer) to the first of them (``await_owner``);
* that identifier keeps it while it belongs to nobody (``IdentifierState.awaiting_owner``, at most ``MAX_AWAITING``,
  the latest) and, once it has an owner (``on_owner``, from ``identifier_node.on_assign``; at once if it has one
  already), moves the contact from the keeper to the owner as an operator's ``move-contact`` does
  (``move_contact.py``: ``ContactMoved`` with rule ``late-owner`` and operator ``omnibus-identity``, the contact's
  events re-published under the owner, its events still on their way to the keeper following, ``moved_off.py``).
  Nothing moves when the owner is the keeper (or merged with it). A ``HandoffCreated`` opened during such a contact
  asks for the same move (the contact's id: one token), so the handoff follows the contact to the owner also when the
  contact itself reached the owner directly (``handoff_moves.py``).

Idempotent: a move's id derives from the contact, the keeper and the owner, so the call's two contact events, a
redelivery and a copy ask for one move (the keeper drops a copy by its step token). Not covered: a contact that left
several new identifiers unowned follows the first by priority only; one whose later version lands on the keeper again
after the move (its saga read the identifier unowned) is moved back by the latest version's rule
(``versions.py``) and asks again under the same id, which the keeper may still recall and drop.
"""

from __future__ import annotations

from bus.envelope import IDENTITY_DECISION_IDS
from bus.serde import Event
from processors.handoffs.outputs import CREATED
from processors.identity.graph import handoff_records
from processors.identity.graph.context import Ctx
from processors.identity.graph.messages import Apply, AwaitOwner, MoveContact
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.graph.versions import OPERATOR
from processors.identity.rules import LATE_OWNER
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id

MAX_AWAITING = 8  # contacts an unowned identifier keeps for its first owner
REASON = "placed on a household's keeper while an identifier it carried was nobody's; that identifier has an owner now"


def await_owner(ctx: Ctx[CustomerState], message: Apply, event: Event | None) -> None:
    """After the contact event ``message`` (``event``: its record decoded, if it was) was applied to this customer
    with new identifiers its saga left unowned: ask the first of them to move the contact to its owner."""
    ref = message.event
    if not message.unowned or ref is None:
        return
    if ref.schema in RecentContactsSection.schemas:
        own_id: str | None = contact_id(event or ctx.graph.load_event(ref))
    else:  # a handoff opened during a contact asks for the same move (one token): it follows (handoff_moves.py)
        own_id = handoff_records.origin(event or ctx.graph.load_event(ref)) if ref.schema == CREATED else None
    if own_id is not None:
        ctx.send(message.unowned[0], AwaitOwner(own_id, ctx.key))


def on_await_owner(ctx: Ctx[IdentifierState], message: AwaitOwner) -> None:
    """At the identifier: move the contact to its owner, or keep it until it has one."""
    state = ctx.state
    if state.owner is not None:
        _move(ctx, message.contact_id, message.customer, state.owner)
        return
    entry = (message.contact_id, message.customer)
    if entry not in state.awaiting_owner:
        state.awaiting_owner = [*state.awaiting_owner, entry][-MAX_AWAITING:]


def on_owner(ctx: Ctx[IdentifierState]) -> None:
    """The identifier has an owner (``state.owner``): the contacts kept for it move there."""
    state = ctx.state
    if state.owner is None:
        return
    for contact, customer in state.awaiting_owner:
        _move(ctx, contact, customer, state.owner)
    state.awaiting_owner = []


def _move(ctx: Ctx[IdentifierState], contact: str, source: str, owner: str) -> None:
    if owner == source:
        return
    token = IDENTITY_DECISION_IDS.derive(LATE_OWNER, contact, source, owner)
    ctx.send(source, MoveContact(contact, owner, OPERATOR, REASON, token, rule=LATE_OWNER))
