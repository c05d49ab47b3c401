"""Contacts follow an operator's split (#8 point 7): the contact -> identifiers record of a customer, and its split.

A customer keeps, beside its members, a ``ContactRecord`` for each contact event applied to it (a call, a counter
visit, a web interaction: the schemas ``customer.contacts.v1`` re-publishes, ``bus.topics.CONTACT_EVENTS``): the
event's id, instant, channel, record and the identifier keys it carried (look-up-only keys left out).

* **Bounded like the screen pop** (``CustomerState.contact_records``): per channel the latest ``kept_per_channel``
  events by (instant, event id), the recent-contacts limit (``ProfileLimits.recent_contacts_per_channel``) times
  ``EVENTS_PER_CONTACT`` (a call comes as its ``CallCompleted`` and its ``InteractionRecorded``). What counts
  depends on the events, not on their arrival order; a re-delivered event counts once.
* **One record written per contact** (#9, the node changelog took ~3.5 KB a repeat contact when the state held the
  records): each record is its own entry of the contacts table (``NodeStore.get_contact``, key ``contact_key``:
  the customer's id, ``/``, the 6-byte hash of the event id; on the customer's partition, ``partition_key``), and
  the state keeps per channel only those hashes (``CustomerState.contact_index``). A contact writes its record and
  6 bytes of index (``note``); a channel is cut back to the latest ``kept_per_channel`` (``latest``, its records
  read then) only once it holds twice as many, the records cut deleted. A reader takes the latest of what is there
  (``kept``), which is the latest of every event recorded, as if each contact had cut it. A state saved before the
  index (``CustomerState.contact_records``, per channel a msgpack array) is read with the table and moved to it at
  the customer's next contact or change of its records (``keep``).
* **Carried through merges**: the loser's records travel in ``Offer.contacts`` and join the survivor's (``join``);
  the loser deletes its own when the merge is done.
* **At a split** (``leaving``: ``processors.profile.book.follows``) a contact follows the moved identifiers when it
  carried at least one of them and none that the source keeps: it carried only identifiers that moved (or that
  belong to no one here: shared, refused).
  **A contact that carried both a moved and a kept identifier follows its highest-priority one** (NATIONAL_ID >
  USER_ID > ACCOUNT > ... , ``LinkPolicy.plan_order``): where the same contact goes when it arrives after the split
  (``apart_side.belongs``: the customer it reaches first), so it ends on one screen pop in either order
  (tester10 #1; it stayed with the source before). Products and handoffs record only digests of the identifiers
  they came through (``book.via_key``), so one that came through both stays with the source; a billing event
  that came through its account number came through that alone (``processors.profile.about``, tester17 M1).
  The source drops those records and their entries from its profile (``ProfileBook.split``); the new customer takes
  both and re-publishes each contact on ``customer.contacts`` under its own key (``Resolved.moved_by``), with an
  event id derived from the split's announcement and the contact (``outputs.moved_contact_id``): a redelivered split
  publishes the same ids. The products and handoffs of the source's profile that came through moved identifiers
  only go with them (``ProfileBook.split``), whether or not a contact does.
* **An event still on its way**: a saga that read the moved identifiers' owner before the split sends its ``apply``
  to the source, which gets it after the split (Kafka orders nothing across partitions). The source notes where its
  split-off identifiers went and sends such an event on by the rule above (``goes``), as if it had been applied
  before the split: a contact that carried only moved identifiers is the new customer's in every arrival order
  (``moved_off.py``, shared with claims and moved contacts; ``test_split_contacts_order.py``).
* **At a claim** (``claim_node.on_give``, issue #8 point 5): an identifier that moves to the customer of its earliest
  login takes the giver's contacts the same way (``hand_over`` of the one identifier, with the giver's remaining
  members kept; a contact that carried its person's traits stays: the matcher placed it by them, ``seek.py``; so does
  one that carried a kept identifier too, whatever the priorities: the claimed one is two people's, the kept one
  decides, ``deciding.py``, tester F2's call with the family account from the caller's own line); the
  claimant joins them to its own (``take_claimed``) and re-publishes them with ids derived from
  the claim's ``Linked`` announcement. A page view applied while a later login held the anonymous id ends on the
  earliest login's screen pop, as if the events had arrived in time order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

import msgspec

from processors.identity.graph import browser_login, handoff_records, versions
from processors.identity.graph.context import TOKEN_HASH_BYTES, Ctx, recalls_hash, token_hash
from processors.identity.graph.limits import HASH_BITS
from processors.identity.graph.messages.base import ContactRecord, EventRef
from processors.identity.graph.messages.commands import SplitInit
from processors.identity.graph.messages.steps import Apply
from processors.identity.graph.outputs import Resolved
from processors.identity.graph.profile_codec import decode_profile, encode_profile
from processors.identity.graph.state import CustomerState
from processors.identity.rules import household_line
from processors.profile.book import ProfileBook, follows
from processors.profile.limits import ProfileLimits
from processors.profile.sections.recent_contacts import RecentContactsSection

CONTACT_SCHEMAS = versions.CONTACT_SCHEMAS
# A contact's events on one channel: its channel's own (CallCompleted, CounterTransaction) and InteractionRecorded.
EVENTS_PER_CONTACT = 2
ChannelRecords = dict[str, bytes]  # channel -> msgpack array of ContactRecord (``CustomerState.contact_records``)

KEY_SEPARATOR = "/"  # a contacts-table key: <customer id>/<12 hex digits> (customer ids are "cus_" + hex)

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(list[ContactRecord])


def contact_key(customer: str, entry: bytes) -> str:
    """The contacts-table key of ``customer``'s record whose event id hashes to ``entry`` (``token_hash``)."""
    return f"{customer}{KEY_SEPARATOR}{entry.hex()}"


def partition_key(key: bytes) -> bytes:
    """The part of a contacts-table key (UTF-8) its partition is computed from: its customer's id, so the record
    lives, is restored and is dropped with its customer's node (``bus.key_partitioned_store``)."""
    return key.split(KEY_SEPARATOR.encode(), 1)[0]


@lru_cache(maxsize=16)  # a worker has one book, its sections fixed and their limits frozen: asked at every contact
def kept_per_channel(book: ProfileBook) -> int:
    """How many contact events a customer records per channel: as many as its screen pop shows contacts, for each
    of a contact's events."""
    for section in book.sections:
        if isinstance(section, RecentContactsSection):
            return EVENTS_PER_CONTACT * section.limits.recent_contacts_per_channel
    return EVENTS_PER_CONTACT * ProfileLimits().recent_contacts_per_channel


def carried(ref: EventRef | None, keys: list[str]) -> list[str]:
    """What an ``Apply`` of the event ``ref`` carries for the record: its keys ``keys`` if it is a contact or feeds
    the screen pop (an event with a record is one of the two: ``ProfileBook``'s ``VIA`` notes them per entry)."""
    return keys if ref is not None else []


def contact_record(event_id: str, ref: EventRef | None, rank: int, channel: str,
                   carried: list[str], told: bool = False) -> ContactRecord | None:
    """The record of a contact event applied with ``carried`` identifier keys (``rank``: ``limits.event_rank``;
    ``told``: it carried its person's traits), or None for an event no split moves (not a contact, or no identifier
    of its own)."""
    if ref is None or ref.schema not in CONTACT_SCHEMAS or not carried:
        return None
    return ContactRecord(event_id, rank >> HASH_BITS, channel, sorted(carried), ref, told)


def _order(record: ContactRecord) -> tuple[int, str]:
    return record.at, record.event_id


def kept_in(channel: str, limit: int) -> int:
    """How many records the bucket ``channel`` keeps when a channel keeps ``limit``: the handoffs' bucket
    (``handoff_records.CHANNEL``) as many handoffs as a channel contacts, each with its events."""
    if channel != handoff_records.CHANNEL:
        return limit
    return max(1, limit // EVENTS_PER_CONTACT) * handoff_records.EVENTS_PER_HANDOFF


def latest(records: Iterable[ContactRecord], limit: int) -> list[ContactRecord]:
    """Each event once, the latest ``limit`` per channel (``kept_in``) by (instant, event id), newest first per
    channel, channels in name order: the same whatever order ``records`` come in."""
    by_channel: dict[str, dict[str, ContactRecord]] = {}
    for record in records:
        by_channel.setdefault(record.channel, {})[record.event_id] = record
    return [record for channel in sorted(by_channel)
            for record in sorted(by_channel[channel].values(), key=_order, reverse=True)[:kept_in(channel, limit)]]


def records(kept: Mapping[str, bytes], limit: int) -> list[ContactRecord]:
    """Every channel's records, the ``latest`` ``limit`` per channel."""
    return latest((record for array in kept.values() for record in _DECODER.decode(array)), limit)


def encoded(kept: Iterable[ContactRecord]) -> ChannelRecords:
    """Records as ``CustomerState.contact_records`` keeps them (one array per channel)."""
    by_channel: dict[str, list[ContactRecord]] = {}
    for record in kept:
        by_channel.setdefault(record.channel, []).append(record)
    return {channel: _ENCODER.encode(items) for channel, items in sorted(by_channel.items())}


def leaving(kept: Iterable[ContactRecord], moved: Iterable[str], held: Iterable[str],
            plan_order: Callable[[Iterable[str]], list[str]] | None = None) -> list[ContactRecord]:
    """The records of the contacts that follow a split moving ``moved`` keys while the source keeps ``held``: each
    carried a moved identifier and no kept one. A contact with both follows its highest-priority identifier of the
    two sides (``plan_order``: ``LinkPolicy.plan_order``), where the same contact arriving after the split goes
    (``apart_side.belongs``, tester10 #1); without ``plan_order`` it stays."""
    moved_keys, held_keys = set(moved), set(held)
    return [record for record in kept if goes(record.ids, moved_keys, held_keys, plan_order)]


def held_at_claim(moved: Iterable[str], held: Iterable[str]) -> set[str]:
    """The ``held`` keys that keep a contact on a claim's giver when the claim moves ``moved``: all of them but the
    fixed lines (``rules.household_line``) when ``moved`` has none: every housemate's call carries the home's line, so
    the claimed identifier (his account, that his record ranks first on) says whose call it was, not the landline
    (tester20 F2: Bob's call with his own account, placed on Alice's customer before his record came, stayed on her
    screen pop when his record claimed the account)."""
    moved, held = list(moved), set(held)
    if any(household_line(key) for key in moved):
        return held
    return {key for key in held if not household_line(key)}


def goes(ids: Iterable[str], moved: set[str], held: set[str],
         plan_order: Callable[[Iterable[str]], list[str]] | None = None) -> bool:
    """Whether a contact that carried ``ids`` follows a split moving ``moved`` while the source keeps ``held``: it
    carried a moved identifier and no kept one (``book.follows``), or, with ``plan_order``, both, and its
    highest-priority one of the two sides moved. Without ``plan_order`` (an event that is no contact: a product, a
    handoff) one that came through both stays."""
    ids = list(ids)
    if follows(ids, moved, held):
        return True
    if plan_order is None or moved.isdisjoint(ids) or held.isdisjoint(ids):
        return False
    sides = moved | held
    return plan_order(key for key in ids if key in sides)[0] in moved


def _entries(index: bytes) -> list[bytes]:
    return [index[i:i + TOKEN_HASH_BYTES] for i in range(0, len(index), TOKEN_HASH_BYTES)]


def keys_of(customer: str, index: Mapping[str, bytes]) -> list[str]:
    """The contacts-table keys of the records ``customer``'s ``contact_index`` names."""
    return [contact_key(customer, entry) for entries in index.values() for entry in _entries(entries)]


def _stored(ctx: Ctx[CustomerState], index: Mapping[str, bytes]) -> list[ContactRecord]:
    found = (ctx.store.get_contact(key) for key in keys_of(ctx.key, index))
    return [record for record in found if record is not None]


def _replace(ctx: Ctx[CustomerState], old: Mapping[str, bytes], chosen: list[ContactRecord]) -> dict[str, bytes]:
    """Write the records of ``chosen`` that ``old`` (channel -> entries) has not to the contacts table, delete
    those of ``old`` not chosen; returns ``chosen``'s index."""
    before = {entry for entries in old.values() for entry in _entries(entries)}
    index: dict[str, bytes] = {}
    for record in chosen:
        entry = token_hash(record.event_id)
        index[record.channel] = index.get(record.channel, b"") + entry
        if entry not in before:
            ctx.store.put_contact(contact_key(ctx.key, entry), record)
    after = {entry for entries in index.values() for entry in _entries(entries)}
    for entry in before - after:
        ctx.store.put_contact(contact_key(ctx.key, entry), None)
    return index


def kept(ctx: Ctx[CustomerState]) -> list[ContactRecord]:
    """This customer's records: the latest ``kept_per_channel`` per channel (``latest``), from the contacts table
    and, for a state saved before ``contact_index``, its ``contact_records``."""
    limit = kept_per_channel(ctx.graph.book)
    return latest([*_stored(ctx, ctx.state.contact_index), *records(ctx.state.contact_records, limit)], limit)


def keep(ctx: Ctx[CustomerState], chosen: Iterable[ContactRecord]) -> None:
    """This customer's records become the ``latest`` of ``chosen``: those new to it are written to the contacts
    table, those it no longer keeps deleted, ``contact_records`` (a state saved before the index) emptied."""
    state = ctx.state
    state.contact_index = _replace(ctx, state.contact_index, latest(chosen, kept_per_channel(ctx.graph.book)))
    state.contact_records = {}


def join(ctx: Ctx[CustomerState], contacts: Iterable[ContactRecord]) -> None:
    """``contacts`` (a merge's loser's, a split's, a claim's or a moved contact's) join this customer's records."""
    keep(ctx, [*kept(ctx), *contacts])


def note(ctx: Ctx[CustomerState], message: Apply) -> None:
    """Record the contact ``message`` applies to this customer (a no-op for an event that is no contact: ``add``)."""
    record = contact_record(message.event_id, message.event, message.rank, message.channel, message.carried,
                            bool(message.traits))
    if record is not None:
        add(ctx, record)


def add(ctx: Ctx[CustomerState], record: ContactRecord) -> None:
    """Record one contact event: its record and its 6-byte index entry written (nothing more for an event recorded
    before: a re-delivery), a channel holding twice ``kept_per_channel`` cut back to the latest that many."""
    state = ctx.state
    if state.contact_records:  # saved before the index: every record moves to the table now
        join(ctx, [record])
        return
    entry, channel = token_hash(record.event_id), record.channel
    key, entries = contact_key(ctx.key, entry), state.contact_index.get(channel, b"")
    if recalls_hash(entries, entry):
        if ctx.store.get_contact(key) != record:  # as a record array kept it: the last record of an event
            ctx.store.put_contact(key, record)
        return
    limit = kept_per_channel(ctx.graph.book)
    if len(entries) // TOKEN_HASH_BYTES < 2 * kept_in(channel, limit):
        ctx.store.put_contact(key, record)
        state.contact_index[channel] = entries + entry
        return
    old = {channel: entries}
    state.contact_index[channel] = _replace(ctx, old, latest([*_stored(ctx, old), record], limit))[channel]


def hand_over(ctx: Ctx[CustomerState], moved: Iterable[str], untold_only: bool = False,
              since: int | None = None, browsers_follow: bool = False) -> tuple[list[ContactRecord], bytes | None]:
    """At the source of a split (or the giver of a claim) moving ``moved`` (already taken off its members): the records
    of the contacts that follow, and the part of its profile that follows (theirs, and the products and handoffs that
    came through moved identifiers only: ``ProfileBook.split``), encoded; both taken off this customer.
    ``untold_only`` (a claim): a contact that carried its person's traits stays (the matcher placed it by them), and
    so does every name observation (``ProfileSection.personal``: tester12 S1, a housemate's IVR name followed the
    family phone to its keeper). ``since`` (epoch µs; a recycled number's claim, ``recycle.py``): a contact before it
    stays. ``browsers_follow`` (a displaced resident user id, ``displace.split_off``): the browsers left here hold
    nothing back (``browser_login.not_held``): the resident's logins on them go with it, its names too."""
    state, book = ctx.state, ctx.graph.book
    records_now = kept(ctx)
    moved = list(moved)
    held: Iterable[str] = held_at_claim(moved, state.members) if untold_only else state.members
    if browsers_follow:
        held = browser_login.not_held(held)
    contacts = [record for record in records_now if not handoff_records.is_handoff(record)]

    def follow(chosen: list[ContactRecord]) -> list[ContactRecord]:
        return [record for record in leaving(chosen, moved, held, None if untold_only else ctx.policy.plan_order)
                if not (untold_only and record.told) and (since is None or record.at >= since)]

    going = follow(contacts)
    if untold_only and going:  # nor one whose later version told its person (``versions.told``)
        told = versions.told(ctx, [r for r in records_now if r.event.schema in versions.CONTACT_SCHEMAS])
        going = [record for record in going if record.event_id not in told]
    if untold_only and going:  # a contact's versions go where its earliest goes (``versions.with_first_version``)
        going = versions.with_first_version(ctx, contacts, going)
    load = ctx.graph.load_event  # the handoffs opened during those contacts go with them (``handoff_moves.py``)
    going += handoff_records.following(load, records_now, going, follow)
    if going:
        gone = {record.event_id for record in going}
        keep(ctx, [record for record in records_now if record.event_id not in gone])
    profile = ctx.store.get_profile(ctx.key)
    if not profile:
        return going, None
    events = [ctx.graph.load_event(record.event) for record in going if book.reads(record.event.schema)]
    stays, taken = book.split(profile, events, list(moved), list(held if browsers_follow else state.members),
                              claim=untold_only,
                              also=handoff_records.entries(load, going), since=since,
                              stay=handoff_records.staying(load, records_now, going))
    if not taken:
        return going, None
    ctx.store.put_profile(ctx.key, stays or None)
    return going, encode_profile(taken)


def take_over(ctx: Ctx[CustomerState], message: SplitInit) -> None:
    """At the new customer of a split: the contacts that followed, on its profile and re-published under its key
    (``Resolved.moved_by``: ids derived from the split's announcement and each contact)."""
    if message.profile:
        ctx.store.put_profile(ctx.key, decode_profile(message.profile))
    if not message.contacts:
        return
    keep(ctx, message.contacts)
    source = message.do_not_merge[0] if message.do_not_merge else ""  # a split's new customer: [its source]
    for record in sorted(message.contacts, key=_order):
        ctx.emit(Resolved(ctx.key, record.event, record.event_id, moved_by=message.split_event_id, moved_from=source))
    versions.placed_together(ctx, message.contacts)


def take_claimed(ctx: Ctx[CustomerState], contacts: list[ContactRecord], profile: bytes | None, moved_by: str,
                 giver: str = "") -> None:
    """At the customer a claim moved an identifier to (``claim_node.on_adopt``): the giver's contacts that followed it
    (``hand_over`` at the giver), joined to this customer's records and profile and re-published under its key
    (``Resolved.moved_by``: ids derived from the claim's announcement ``moved_by`` and each contact; ``moved_from``:
    ``giver``, so the KPI processor counts each once, under this customer)."""
    book = ctx.graph.book
    if profile:
        ctx.store.put_profile(ctx.key, book.merge(ctx.store.get_profile(ctx.key), decode_profile(profile)))
    if not contacts:
        return
    join(ctx, contacts)
    for record in sorted(contacts, key=_order):
        ctx.emit(Resolved(ctx.key, record.event, record.event_id, moved_by=moved_by, moved_from=giver))
    versions.placed_together(ctx, contacts)
