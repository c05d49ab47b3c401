"""A call's contact events take the caller's IVR traits from their sibling record (issue #8, "a housemate's call").

The call-center adapters publish a call as contact events (``CallCompleted``, ``InteractionRecorded``: the caller's
identifiers only, what every subscriber of ``contact.events.v1`` reads) and one ``IdentifiersObserved`` with the
same ``correlation_id`` that also carries the traits the caller gave the IVR (name, birth date). A contact names
that record in ``traits_event_id`` (``adapters/call_center/mapper.py``); the traits never go on contact events
(data protection). A branch's counter transaction and a legacy business event (a billing line with the holder's
name: one line per holder of a joint account) name theirs the same way (``intake.CALLER_RECORDS``). Identity joins
the two inside the graph, at the caller's identifier nodes, in either order:

* the record (``Saga.leaves_traits``: an ``IdentifiersObserved`` of the call center with traits) leaves its traits at
  every identifier it visits (``Housemates.traits``: the latest ``MAX_CALLER_TRAITS`` by event time) and lets the
  contacts waiting there for them go on; a record whose traits none compare (a call flow's ``language`` alone) leaves
  an empty summary, and its contacts go on as without traits (tester32 F5: they waited, on no customer);
* a contact (``Saga.traits_from``) visits its first identifier with its traits if they are there, else waits there
  (``Housemates.awaiting``). It goes on with them as if they were its own: counted on the identifier's evidence,
  weighed, and sent to the housemate they fit (``seek.py``), never on the keeper's screen pop.

State, not timers; bounded per identifier, cleaned up by event time: traits beyond ``MAX_CALLER_TRAITS`` fall off,
the oldest by ``(event time, event id)`` first (a contact and its record share the call's event time, so a contact
whose record ranks below every kept one while the list is full will not find its own: it goes on without, as today,
``fell_off``); a contact waiting beyond
``MAX_AWAITING`` goes on without traits, the oldest first; and the visit of any event that occurred more than
``JOIN_HORIZON_MICROS`` (24 h) after a call drops that call's traits and sends its waiting contacts on without them.
A record that never comes holds its contacts only until then, and no contact is lost.
At-least-once: traits are kept once per record (a copy changes nothing), a copy of a waiting contact waits once,
and a copy that goes on is dropped by the graph's usual dedupe (``identifier_node.on_visit``). The node's partition
holds the state, as every node's (``IdentifierState.housemates``).
"""

from __future__ import annotations

import msgspec

from processors.identity.graph.context import Ctx
from processors.identity.graph.messages.base import Saga, Summary
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.state import IdentifierState
from processors.identity.graph.state_parts import CallerTraits, Housemates

MAX_CALLER_TRAITS = 4  # calls with IVR traits whose contacts may still come, per identifier
MAX_AWAITING = 4  # contacts waiting for their call's IVR traits, per identifier
# Event time after which a call's IVR traits and its contacts stop waiting for each other: an adapter publishes a
# contact and its record together, with the call's own event time, so a visit by an event this much later means
# the other half is not coming (or came and went): the traits are dropped, a waiting contact goes on without them.
JOIN_HORIZON_MICROS = 24 * 3_600 * 1_000_000

Node = Ctx[IdentifierState]


def join(ctx: Node, message: Visit) -> Visit | None:
    """The visit to go on with (the contact's, with its caller's traits), or None: it waits here for them."""
    saga = message.saga
    if ctx.state.housemates is not None:
        _expire(ctx, saga.occurred_micros - JOIN_HORIZON_MICROS)
        _release_fallen(ctx)
    if saga.leaves_traits:  # its traits may summarise to nothing compared (a language alone): its contacts go on
        _leave(ctx, saga, saga.traits or {})
        return message
    if saga.traits_from is None:
        return message
    box = ctx.state.housemates or Housemates()
    left = next((item for item in box.traits if item.event_id == saga.traits_from), None)
    if left is not None:
        return Visit(_with_traits(saga, left.traits or None))
    if fell_off(box, saga):
        return Visit(_with_traits(saga, None))  # its record's traits fell off (or will on arrival): as today
    if any(waiting.saga.event_id == saga.event_id for waiting in box.awaiting):
        return None  # a copy of a contact already waiting
    awaiting = sorted([*box.awaiting, message], key=lambda visit: (visit.saga.occurred_micros, visit.saga.event_id))
    for released in awaiting[:-MAX_AWAITING]:  # too many wait here: the oldest go on without traits
        ctx.send(ctx.key, Visit(_with_traits(released.saga, None)))
    ctx.state.housemates = msgspec.structs.replace(box, awaiting=awaiting[-MAX_AWAITING:])
    return None


def fell_off(box: Housemates, saga: Saga) -> bool:
    """Whether the traits of the record ``saga`` (a contact) waits for are not kept here and never will be: the list is
    full and the record's key, ``(event time, event id)``, the contact's time and ``traits_from`` (a contact and its
    record share the call's event time), is below every kept one's: ``_leave`` keeps the largest keys, so that record
    fell off or falls off on arrival. Compared on the whole key, not the time alone: calls of one instant (a burst of
    CTRs with one ``InitiationTimestamp``) tie on time, and a contact whose record fell off on its event id waited
    for ever, on no customer (tester19 F11)."""
    if saga.traits_from is None or len(box.traits) < MAX_CALLER_TRAITS:
        return False
    return (saga.occurred_micros, saga.traits_from) < min((item.at, item.event_id) for item in box.traits)


def _release_fallen(ctx: Node) -> None:
    """Send on without traits the waiting contacts whose record fell off or will on arrival (``fell_off``), as a
    contact arriving now would go: once the list fills above their record, and on any visit for a state written
    before that test was exact (tester19 F11: such contacts waited for ever)."""
    box = ctx.state.housemates
    if box is None or not box.awaiting or len(box.traits) < MAX_CALLER_TRAITS:
        return
    fallen = [visit for visit in box.awaiting if fell_off(box, visit.saga)]
    if not fallen:
        return
    for visit in fallen:
        ctx.send(ctx.key, Visit(_with_traits(visit.saga, None)))
    ctx.state.housemates = msgspec.structs.replace(
        box, awaiting=[visit for visit in box.awaiting if visit not in fallen])


def _leave(ctx: Node, saga: Saga, traits: Summary) -> None:
    """Keep the record's traits here and send the contacts waiting for them on their way."""
    box = ctx.state.housemates or Housemates()
    kept = [item for item in box.traits if item.event_id != saga.event_id]
    kept = sorted([*kept, CallerTraits(saga.event_id, saga.occurred_micros, traits)],
                  key=lambda item: (item.at, item.event_id))[-MAX_CALLER_TRAITS:]
    waiting = [visit for visit in box.awaiting if visit.saga.traits_from == saga.event_id]
    for visit in waiting:
        ctx.send(ctx.key, Visit(_with_traits(visit.saga, traits or None)))
    ctx.state.housemates = msgspec.structs.replace(
        box, traits=kept, awaiting=[visit for visit in box.awaiting if visit not in waiting])
    _release_fallen(ctx)  # the list may have filled above a waiting contact's record: it would fall off on arrival


def _expire(ctx: Node, before: int) -> None:
    """Drop the traits of calls that occurred before ``before`` (µs) and send their waiting contacts on without."""
    box = ctx.state.housemates
    if box is None or not any(item.at < before for item in box.traits) and not any(
            visit.saga.occurred_micros < before for visit in box.awaiting):
        return
    for visit in box.awaiting:
        if visit.saga.occurred_micros < before:
            ctx.send(ctx.key, Visit(_with_traits(visit.saga, None)))
    ctx.state.housemates = msgspec.structs.replace(
        box, traits=[item for item in box.traits if item.at >= before],
        awaiting=[visit for visit in box.awaiting if visit.saga.occurred_micros >= before])


def _with_traits(saga: Saga, traits: Summary | None) -> Saga:
    """The contact ``saga`` with its caller's ``traits`` (None: released without them), no longer waiting; it keeps
    the id of the record they came from (``Saga.traits_of``: its events' one own customer, ``seek.own_customer``)."""
    traits_of = saga.traits_from if traits is not None else None
    return msgspec.structs.replace(saga, traits=traits, traits_from=None, traits_of=traits_of)
