"""Identifiers a customer's events carried that another customer keeps, and whose events carried them (tester22 F6).

``CustomerState.elsewhere`` lists the identifiers a customer's events carried while another customer kept them (a
flat's landline on three tenants' billing lines: the keeper holds it, the others are kept apart through it); the
identifier's ``IdentifierState.kept_apart`` names the customer back, and both screen pops say the identifier is
shared (``web.py``). ``CustomerState.elsewhere_with`` records, per such identifier, the members the events that
carried it carried too (``note``: at most ``MAX_WITH`` each, sorted), so that the placement survives a wrong merge
and its split:

* **A merge** joins the loser's record to the survivor's (``merge``), also for an identifier the survivor holds (a
  couple's e-mail the husband keeps, the wife merged into him by mistake): the survivor's members do not say whose
  events carried it.
* **A split** (``customer_node.on_split``, ``omnibus identity split`` and ``unmerge``) gives the new customer every
  such identifier whose events carried one of the moved members (``at_split``), as if the merge had never
  happened: the new customer lists it in ``elsewhere`` and the identifier names it in ``kept_apart`` (``taken``:
  a ``Note``), so the landline's pop counts the split-off tenant among its customers, not "without a customer of
  their own", and her pop shows the landline. The source keeps its own part, and is kept apart through a moved
  identifier its remaining members came with (the keeper of a couple's e-mail split off). An identifier no record
  attributes (noted by an earlier version) stays with the source.
* **A claim** (``claim_node.on_give``) that takes an identifier from a customer whose own events carried it (a
  housemate's billing line on the family mobile, an earlier-ranked line claiming it) records at the giver which of
  its members they carried (``given_up``): those its contact records name beside it, and those the identifier's node
  knows events carried with it (``Give.carried_with``: the identifiers limited to one of its evidence, the accounts of
  the records that gave it). An operator's move of one of its contacts (``release.moved_away``) then leaves it one of
  the identifier's users while another of its events carried it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from processors.identity.graph.context import Ctx
from processors.identity.graph.evidence import note_kept_apart
from processors.identity.graph.messages.base import ContactRecord
from processors.identity.graph.messages.steps import Note
from processors.identity.graph.state import CustomerState

MAX_WITH = 8  # members recorded per identifier (the customer's own identifiers of its events that carried it)

CarriedWith = dict[str, list[str]]  # identifier key -> the members its events carried too (``elsewhere_with``)


def note(state: CustomerState, key: str, carried: Iterable[str]) -> None:
    """Record that an event which carried ``key`` (kept by another customer: already in ``state.elsewhere``) carried
    the identifier keys ``carried`` too; only this customer's members count, ``key`` left out."""
    held = {other for other in carried if other in state.members and other != key}
    if key in state.elsewhere and held:
        _join(state, {key: sorted(held)})


def given_up(state: CustomerState, key: str, records: Iterable[ContactRecord], carried_with: Iterable[str]) -> None:
    """At a claim's giver (``claim_node.on_give``), ``key`` given up (off its members, in ``elsewhere``): record
    which of its members its events that carried ``key`` carried too: those its contact records name beside it
    (``records``), and those the identifier's node knows events carried with it (``carried_with``,
    ``Give.carried_with``: a billing line's account and customer number), the members among them only."""
    note(state, key, {other for record in records if key in record.ids for other in record.ids}.union(carried_with))


def merge(state: CustomerState, elsewhere: Iterable[str], carried_with: Mapping[str, list[str]]) -> None:
    """At a merge's survivor: the loser's ``elsewhere`` (those the survivor does not hold) and its record of them
    (``carried_with``, kept for the survivor's members too: a later split reads it)."""
    for key in elsewhere:
        if key not in state.members:
            note_kept_apart(state.elsewhere, key)
    _join(state, carried_with)


def at_split(ctx: Ctx[CustomerState], moving: Iterable[str]) -> CarriedWith:
    """At a split's source moving the members ``moving`` (already off its members): the new customer's part of the
    record, each identifier whose events carried one of them with those moved members, taken off the source's
    record. An identifier that moves itself while the source's remaining members came with it too (the keeper of a
    couple's e-mail split off the wife) is one the source is kept apart through now: in its ``elsewhere``, and the
    identifier told (``Note``)."""
    state, moved, part = ctx.state, set(moving), {}
    for key, carried in sorted(state.elsewhere_with.items()):
        going = sorted(moved.intersection(carried))
        rest = [other for other in carried if other not in moved]
        if going and (key in moved or key in state.members or key in state.elsewhere):
            part[key] = going
        if rest and key in moved:
            note_kept_apart(state.elsewhere, key)
            ctx.send(key, Note(ctx.key))
        if rest:
            state.elsewhere_with[key] = rest
        else:
            del state.elsewhere_with[key]
    return part


def taken(ctx: Ctx[CustomerState], part: Mapping[str, list[str]]) -> None:
    """At a split's new customer: its ``part`` (``at_split``) recorded; each identifier of it another customer keeps
    in its ``elsewhere``, told that this customer is kept apart through it (``Note``: its screen pop names it)."""
    state = ctx.state
    for key in sorted(part):
        if key not in state.members:
            note_kept_apart(state.elsewhere, key)
            ctx.send(key, Note(ctx.key))
    _join(state, part)


def _join(state: CustomerState, more: Mapping[str, list[str]]) -> None:
    """Add ``more`` to the record, then keep only the identifiers ``elsewhere`` names or the customer holds (both
    bounded: ``elsewhere`` by ``evidence.MAX_KEPT_APART``)."""
    record = state.elsewhere_with
    for key, carried in more.items():
        record[key] = sorted({*record.get(key, ()), *carried})[:MAX_WITH]
    for key in [key for key in record if key not in state.members and key not in state.elsewhere]:
        del record[key]
