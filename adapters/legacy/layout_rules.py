"""What a layout's fields must be for its event, checked when it is loaded (``Layout``'s validation): every fault at
once, before a line is read.

``unknown_fields``: a field the event does not read; ``missing_fields``: a field the event requires that the layout
does not give; ``unreadable_types``: a declared type the event's reader of the field cannot take; each returns its
problems as sentences (``[]`` for none). ``check_status_words`` raises ``ValueError`` for ``status_words`` on a field
that holds no status word or mapping a word to no status of the event's. The event's reads come from
``adapters.legacy.reads``, the status fields from ``adapters.legacy.statuses``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.legacy.layout_fields import FIELD_TYPES, TIME_TYPES, FieldType
from adapters.legacy.reads import event_fields, event_reads
from adapters.legacy.statuses import STATUS_FIELDS
from bus.identifiers.traits import TRAIT_KEYS, standard_key
from bus.references import squashed

if TYPE_CHECKING:
    from adapters.legacy.layout import Layout

OCCURRED_AT = "occurred_at"  # the top-level key naming the field that holds when a line's fact happened
# The layout types each reader of ``adapters.legacy.values`` takes (``reads.EventReads.kinds``); ``text`` takes all.
READER_TYPES: dict[str, tuple[FieldType, ...]] = {
    "day": ("string", *TIME_TYPES), "moment": ("string", *TIME_TYPES),
    "money": ("string", "int", "decimal"), "whole": ("string", "int", "decimal"),
}


def unknown_fields(layout: Layout, references: frozenset[str]) -> list[str]:
    """A field the event does not read (``iban:``, a typo ``ibann:`` and ``whatever_field:``
    were ignored without a word, their columns lost): the event's own fields (``reads.event_fields``), a person's
    traits under a spelling ``bus.identifiers.traits`` knows, the fields named as key or occurred_at, and, for an
    event that carries them (``EventReads.references``: ``HandoffCreated``), the declared business references
    ``references`` (``load_layout``'s, ``references.squashed``: any spelling; a billing export's
    meter point column)."""
    known = event_fields(layout.event) | {*layout.key, *([layout.occurred_at] if layout.occurred_at else [])}
    carried = event_reads(layout.event).references
    unknown = [name for name in layout.fields if name not in known and standard_key(name) is None
               and not (carried and squashed(name) in references)]
    if not unknown:
        return []
    problem = (f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: {layout.event} "
               f"reads {', '.join(sorted(event_fields(layout.event)))}, and a person's traits "
               f"({', '.join(TRAIT_KEYS)} or their usual spellings)")
    if OCCURRED_AT in unknown:  # the natural first try, whose fix was only in the Cards example
        spec = layout.fields[OCCURRED_AT]
        column = f"{spec.column!r}" if spec.column is not None else "its column"
        problem += (f"; {OCCURRED_AT} is a top-level key naming one of the fields, not a field: give the time its "
                    f"own field under fields (e.g. changed_at, reading {column} as type {spec.type}) and write "
                    f"{OCCURRED_AT}: changed_at at the top level (docs/legacy-batch.md, occurred_at)")
    return [problem]


def missing_fields(layout: Layout) -> list[str]:
    """A field the event requires that the layout does not give (a ``BillIssued`` layout without
    ``period_start_date`` was accepted, then every line of the file was dead-lettered): the required reads of the
    event's builder (``reads.event_reads``)."""
    missing = [f"{group[0]}{''.join(f' (or {other})' for other in group[1:])}"
               for group in event_reads(layout.event).required if not any(name in layout.fields for name in group)]
    if not missing:
        return []
    several = len(missing) > 1
    return [f"{layout.event} requires field{'s' if several else ''} {', '.join(missing)}, missing from the layout: "
            f"every line would be rejected; map {'each' if several else 'it'} to a column, or give a constant "
            "(value:)"]


def unreadable_types(layout: Layout) -> list[str]:
    """A field whose declared ``type`` the event's reader of it cannot take (a ``due_date`` declared ``int``, an
    ``amount`` declared ``date``), and an ``occurred_at`` that is no date or timestamp (it would be ignored for
    the file's modification time)."""
    kinds = event_reads(layout.event).kinds
    problems = []
    for name, spec in layout.fields.items():
        accepted = READER_TYPES.get(kinds.get(name, "text"), FIELD_TYPES)
        if standard_key(name) is None and spec.type not in accepted:
            problems.append(f"field {name} of {layout.event} cannot be read from type {spec.type} (it is a "
                            f"{kinds[name]}: type {' or '.join(accepted)})")
    if layout.occurred_at and layout.fields[layout.occurred_at].type not in TIME_TYPES:
        problems.append(f"occurred_at field {layout.occurred_at} has type {layout.fields[layout.occurred_at].type}: "
                        f"it must be a time (type {' or '.join(TIME_TYPES)})")
    return problems


def check_status_words(layout: Layout, name: str, words: dict[str, str]) -> None:
    """``ValueError`` when ``status_words`` are on a field that holds no status word, or map a word to no status
    of the event's (``statuses.StatusField.own``)."""
    owner = STATUS_FIELDS.get(layout.event)
    if owner is None or name != owner.field:
        places = " or ".join(f"the {s.field} field of a{'n' if s.event[0] in 'AO' else ''} {s.event} layout"
                             for s in STATUS_FIELDS.values())
        raise ValueError(f"field {name}: status_words maps a system's own status words to the common statuses: "
                         f"only on {places}")
    try:
        owner.own(words)
    except ValueError as exc:
        raise ValueError(f"field {name}: {exc}") from None
