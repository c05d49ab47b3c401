"""Operators' commands and the messages they start (``omnibus identity split``, ``move-contact``, ``release``):
a split and the new customer's initialisation, a contact's move and its hand-over, an identifier's release and its
node's relinquishing. Every id a command announces derives from its command id (``token``). See ``protocol.md``.
"""

from __future__ import annotations

from processors.identity.graph.messages.base import ContactRecord, Member, Message, MovedTo


class SplitCustomer(Message, tag="split", frozen=True):
    ids: list[str]
    reason: str | None
    token: str
    at: int  # epoch microseconds: the new customer's birth
    channel: str = "BACK_OFFICE"
    operator: str | None = None  # who split (``--by``); last and optional: a command queued before it still reads


class SplitInit(Message, tag="split_init", frozen=True):
    members: dict[str, Member]
    do_not_merge: list[str]
    at: int
    shared: list[str] = []  # the moved members marked shared (fast_node.py)
    # The contacts whose identifiers all moved (``split_contacts.py``), their part of the source's profile
    # (``profile_codec.encode_profile``) and the split's announcement id, from which their re-published ids derive.
    contacts: list[ContactRecord] = []
    profile: bytes | None = None
    split_event_id: str = ""
    traits: dict[str, list[str]] | None = None  # the moved person's part of the trait summary (``split_traits.py``)
    # Identifiers another customer keeps that the moved members' events carried, each with those members
    # (``elsewhere.at_split``): the new customer is kept apart through them as its events were before a merge.
    elsewhere: dict[str, list[str]] = {}
    # The source's notes of the contacts an operator moved off it (``moved_off.by_hand``): an event of such a contact
    # that reaches the new customer through the moved identifiers follows the move, as it does at the source.
    moved_off: dict[str, MovedTo] = {}


class MoveContact(Message, tag="move_contact", frozen=True):
    """An operator moves one contact from this customer's screen pop to customer ``to`` (``omnibus identity
    move-contact``, ``move_contact.py``): ``contact_id`` as the screen pop shows it (a call's contact id, an
    interaction id, a transaction id); ``token``: the command id, from which every id of the move derives."""

    contact_id: str
    to: str
    operator: str
    reason: str
    token: str
    channel: str = "BACK_OFFICE"
    rule: str = ""  # the lineage rule of the move: empty for an operator's (``manual-move``); ``latest-version``


class TakeContact(Message, tag="take_contact", frozen=True):
    """The contact a ``MoveContact`` took off its source: its records, its part of the source's profile (encoded)
    and the move's announcement id, from which the re-published ids derive (``outputs.moved_contact_id``)."""

    contacts: list[ContactRecord]
    profile: bytes | None
    move_event_id: str
    # The step token when it is not ``move_event_id``: the hand-over of one event of the contact that reached the
    # source after the move (``move_contact.follow``), derived from the move and the event.
    token: str = ""
    # The customer the contact left (``Resolved.moved_from``: the ``omnibus-moved-from`` header on its re-published
    # events); last and optional: a hand-over queued before it still reads, its copies without the header.
    source: str = ""


class ReleaseIdentifier(Message, tag="release_identifier", frozen=True):
    """An operator releases ``identifier`` (``TYPE:value`` key) from this customer (``omnibus identity release``,
    ``release.py``): a recycled phone number, a closed e-mail. ``at``: the command's instant (epoch µs); events that
    occurred before it no longer link the identifier. ``token``: the command id, from which every id derives."""

    identifier: str
    operator: str
    reason: str | None
    token: str
    at: int
    channel: str = "BACK_OFFICE"


class Relinquish(Message, tag="relinquish", frozen=True):
    """Customer ``customer`` released this identifier on an operator's command (``release.py``): it belongs to
    nobody from assignment ``version`` on; events that occurred before ``at`` (epoch µs) no longer link it."""

    customer: str
    version: int
    at: int
    operator: str
    reason: str | None
    token: str
    channel: str = "BACK_OFFICE"


class Disown(Message, tag="disown", frozen=True):
    """Customer ``customer``, which does not hold this identifier, is no longer one of its users on an operator's
    command (``release.py``): ``omnibus identity release`` of that customer (``moved`` None: the node forgets it
    among its customers kept apart and the evidence of every event that named one of ``ids``, the customer's
    identifiers of types limited to one, ``TYPE:value`` keys), or ``move-contact`` of the contact that brought it
    (``moved``: the identifiers limited to one that contact carried; the node forgets the evidence of such an event
    that told no traits, and the customer once no evidence left names one of ``ids``)."""

    customer: str
    ids: list[str]
    operator: str
    reason: str | None
    token: str
    channel: str = "BACK_OFFICE"
    moved: list[str] | None = None
