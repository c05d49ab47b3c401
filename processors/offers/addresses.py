"""An address a customer no longer holds gets none of their offers.

Telecoms give a churned subscriber's mobile number to a new one after a quarantine; identity then links the number to
the new holder (``CustomerLinked`` of a recycle's claim, ``processors/identity/graph/recycle.py``; a claim of another
customer's e-mail likewise), and the offer processor's directory of identifiers (``Stores.directory``: key
``TYPE:value`` -> customer, from ``customer.events.v1``) still says who held it before. ``relinquish`` takes the keys
off that customer (a released number, ``LinkRefused`` ``evicted``, is taken off the same way:
``identity_events.evicted``); ``lost_pushes`` names the outbound pushes (SMS, EMAIL) already instructed to an address
now gone, which ``identity_events.lost`` withdraws (reason ``ADDRESS_LOST``, to the addresses they were sent to)
before ``push.sync`` shows them again at the addresses the customer still holds, if any: a push a gateway holds until
quiet hours end never goes out to the number's new holder. The decision is the directory's state when the
announcement is handled, never a timer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from processors.offers.definition import OUTBOUND
from processors.offers.outputs import address_keys
from processors.offers.state import CustomerState

ADDRESS_LOST = "ADDRESS_LOST"  # the WITHDRAW reason: the customer no longer holds the address the push went to


def relinquish(holder_of: Callable[[str], str | None], keys: Iterable[str], customer_id: str,
               customer: Callable[[str], CustomerState]) -> list[tuple[CustomerState, tuple[str, ...]]]:
    """The customers other than ``customer_id`` (through merges: ``customer``) whose identifiers held one of ``keys``
    (``TYPE:value``) that ``holder_of`` (the directory's lookup) names them holder of, each with those keys taken off
    (not saved) and its identifiers before."""
    found: dict[str, tuple[CustomerState, tuple[str, ...]]] = {}
    for key in keys:
        holder = holder_of(key)
        if holder is None:
            continue
        previous = found[holder][0] if holder in found else customer(holder)
        if previous.customer_id == customer_id or key not in previous.identifiers:
            continue
        before = found.get(previous.customer_id, (previous, tuple(previous.identifiers)))[1]
        previous.identifiers = [i for i in previous.identifiers if i != key]
        found[previous.customer_id] = (previous, before)
    return list(found.values())


def lost_pushes(state: CustomerState, before: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(channel, offer id)`` of the outbound pushes ``state`` has instructed on a channel one of whose addresses
    (``outputs.address_keys``) it held in ``before`` and no longer holds."""
    lost = {channel.value for channel in OUTBOUND
            if set(address_keys(channel.value, before)) - set(address_keys(channel.value, tuple(state.identifiers)))}
    return sorted((channel, offer_id) for offer_id, offer in state.offers.items()
                  for channel in offer.pushed if channel in lost)
