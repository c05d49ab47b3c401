"""A system of record's line that stops giving an identifier ends its gift, as a closure of its account does
(tester29 F4).

A customer-master export publishes every customer's line each night; a line whose key was published before with
other content is a newer revision of that line (``adapters.legacy.revisions``: its ``source_event_id`` is the line's
id and ``@`` a revision digest; a polled row's version is its primary key and ``@`` its update time). Jorge's line
gave the mobile M1, the next night's revision of his own line gives M2 instead: from that revision's instant his line
no longer gives M1, and a later record of another account that gives M1 (Elena's new line) is the newer assignment,
exactly as after his account's closure (``recycle.py``). The rule, order-independent, at the account's node:

* it keeps the latest revision of each of its lines (``AccountLines.lines``: the line's 6-byte hash, the
  revision's rank and whether it was dated, the identifiers it gave that ``recycle.recyclable`` names; at most
  ``MAX_LINES``, the latest kept); revisions rank as the screen pop ranks an account's facts: a dated one above an
  undated one (the business events' ``undated``: an export without ``occurred_at`` stamps its lines with the file's
  time), then the later instant (``newer``);
* a revision newer than the kept one withdraws what the kept one gave and it does not, at its own instant; an older
  one that arrives late withdraws what it gave and the kept one does not, at the kept one's instant;
* a withdrawn identifier that another line of the account still gives (a joint account's holders' lines, a family
  plan's) is held alongside and nothing ends; else the account tells the identifier ``Closed`` at that instant: its
  records of this account gave it until then (``recycle._chain``).

A line is named by its source system and its ``source_event_id`` up to ``@``: a key-less batch line, an outbox row or
another channel's event is a line of its own, which no revision follows, so nothing is ever withdrawn from it.

Left: a line that gives the identifier again after another account's record took it (Jorge's line names M1 once
more) shares it, and the holder stays the one the records named first after the withdrawal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from bus.serde import Event
from processors.identity.graph.context import Ctx, token_hash
from processors.identity.graph.limits import saga_rank
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.state import IdentifierState
from processors.identity.graph.state_parts import AccountLines, RecordLine
from processors.identity.rules import RECORD_CHANNEL
from processors.profile.sections.products import NS, UNDATED

Node = Ctx[IdentifierState]

MAX_LINES = 8  # lines of one account kept on its node: a joint account's holders, a family plan's lines
REVISION = "@"  # ``adapters.legacy.revisions`` and the poller: a line's id, then ``@`` and its revision


def line_of(source_system: str, source_event_id: str | None) -> bytes:
    """The 6-byte hash naming the line of a system of record's event: its source system and its source event id up to
    its revision (``REVISION``); empty without a source event id."""
    if not source_event_id:
        return b""
    return token_hash(f"{source_system}|{source_event_id.split(REVISION, 1)[0]}")


def revises(saga: Saga, envelope: Mapping[str, Any]) -> bool:
    """Whether ``saga``'s event is a system of record's revision of a line (its ``source_event_id`` names one,
    ``REVISION``): its account's node must see it (never the fast path), even where it brings no new identifier."""
    source = envelope.get("source_event_id") or ""
    return saga.channel == RECORD_CHANNEL and REVISION in source


def newer(one: RecordLine, other: RecordLine) -> bool:
    """Whether revision ``one`` is the newer fact of its line: dated above undated, then the later rank."""
    return (one.dated, one.rank) > (other.dated, other.rank)


def undated(ctx: Node, saga: Saga) -> bool | None:
    """Whether a system of record's business event is undated (its source gave no time: ``UNDATED``); None for another
    event (a record's ``IdentifiersObserved`` says nothing of it)."""
    event = _business_event(ctx, saga)
    return None if event is None else bool(event.value.get(UNDATED))


def _business_event(ctx: Node, saga: Saga) -> Event | None:
    if saga.event is None or not saga.event.schema.startswith(NS):
        return None
    return ctx.graph.load_event(saga.event)


def withdrawn(ctx: Node, saga: Saga, given: list[str]) -> list[tuple[str, int]]:
    """At an account's node, a record's visit (its ``given`` identifiers, ``recycle.recyclable``): note the revision of
    its line and answer what its line no longer gives, each with the instant (epoch µs) it stopped (see the module).
    Only a business event names a line (``undated`` is on it)."""
    event = _business_event(ctx, saga)
    envelope = event.value.get("envelope") if event is not None else None
    if event is None or not envelope:
        return []
    source = envelope.get("source_event_id")
    line = line_of(str(envelope.get("source_system") or ""), source)
    if not line:
        return []
    state = ctx.state
    revision = RecordLine(line, saga_rank(saga), not event.value.get(UNDATED), sorted(given))
    facts = state.account or AccountLines()
    kept = {entry.line: entry for entry in facts.lines}
    known = kept.get(line)
    if known is None and not given and REVISION not in str(source):
        return []  # a line's first revision that gave nothing (a bill, an outbox row): nothing to keep
    if known is None or newer(revision, known):
        kept[line] = revision
    lines = sorted(kept.values(), key=lambda entry: entry.rank)[-MAX_LINES:]
    state.account = msgspec.structs.replace(facts, lines=lines)
    if known is None or known.rank == revision.rank:
        return []
    later, earlier = (revision, known) if newer(revision, known) else (known, revision)
    still = {key for entry in lines if entry.line != line for key in entry.gave}
    return [(key, later.rank) for key in earlier.gave if key not in later.gave and key not in still]
