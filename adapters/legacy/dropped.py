"""What a batch file's published lines lost, counted once for ``import-batch`` and ``check-layout``.

A line is published without an identifier its normaliser refuses (a DNI that is a digit run, an e-mail without a
domain: ``rejected_identifiers`` on ``identity.observed.v1``) and without a trait that does not read as its layout
type (a birth date ``31/02/1980``). The import's summary line counts both per type (identifiers also by why:
placeholder or malformed) with their line numbers (``adapters.base.identifiers.DroppedTally``); the dry run counts
them with the same code, so a layout that drops a national ID on every line is seen before the import
(``check-layout`` said "5 would be published, 0
rejected", the import then "5 identifiers dropped (NATIONAL_ID 5) on lines 2, 3, 4, 5, 6").

A card or order status word no list knows is not lost (the event carries it as ``source_status``) but is published
as ``UNKNOWN``: both count it by word, as written (a status word is no identifier), so the layout's ``status_words``
can map it (``BLOQUEO POR FRAUDE`` was imported as UNKNOWN without a word; ``executada``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from adapters.base.identifiers import SHOWN_LINES, DroppedTally
from adapters.base.mapper import MappedRecord
from adapters.base.status_words import UNKNOWN_STATUS
from adapters.legacy.statuses import STATUS_FIELDS, StatusField
from bus.plural import counted, noun_for


def trait_tally() -> DroppedTally:
    """An empty tally of traits left out (``1 trait dropped (birth_date 1) on line 2``)."""
    return DroppedTally(noun="trait")


def count_dropped(
    identifiers: DroppedTally, traits: DroppedTally, accepted: Sequence[tuple[int, MappedRecord]],
    line_of: Callable[[int], int], left_out: Mapping[int, Mapping[str, str]],
) -> list[str]:
    """Count what the ``accepted`` lines (``ChunkOutcome.accepted``: (index, record) pairs) were published without:
    their refused identifiers in ``identifiers``, their traits left out (``left_out``: line number -> trait key ->
    reason, as ``Layout.parse`` fills it) in ``traits``. ``line_of(index)``: the item's line number. Returns the trait
    keys counted, one per line that lost it (for ``omnibus_traits_rejected_total``)."""
    identifiers.add(accepted, line_of)
    counted = []
    for index, _ in accepted:
        number = line_of(index)
        for trait in left_out.get(number, {}):
            traits.note(trait, number)
            counted.append(trait)
    return counted


def with_dropped(text: str, identifiers: DroppedTally, traits: DroppedTally, *more: str) -> str:
    """A file's summary line: ``text`` (its counts), then what its published lines lost and ``more``, each only
    when not empty: ``accounts.csv: 1 line, ..., 0 rejected, 2 identifiers dropped (EMAIL 1 malformed, PHONE 1
    placeholder) on line 2, 1 trait dropped (birth_date 1) on line 3``. Types and line numbers, never a value."""
    return ", ".join(part for part in (text, identifiers.summary(), traits.summary(), *more) if part)


@dataclass
class UnknownStatuses:
    """Status words published as ``UNKNOWN`` (a card's or an order's: no built-in word, none of the layout's
    ``status_words``): how many lines gave each word, as written, and on which lines."""

    words: Counter[str] = field(default_factory=Counter)
    lines: set[int] = field(default_factory=set)
    owner: StatusField | None = None  # whose status the words are (a file has one event)

    def add(self, accepted: Iterable[tuple[int, MappedRecord]], line_of: Callable[[int], int]) -> None:
        """Count the ``CardStatusChanged`` and ``OrderStatusChanged`` events of ``accepted`` ((index, record) pairs)
        whose status is UNKNOWN."""
        schemas = {owner.schema: owner for owner in STATUS_FIELDS.values()}
        for index, record in accepted:
            for outgoing in record.events:
                value, owner = outgoing.event.value, schemas.get(outgoing.event.schema)
                if owner is not None and value["status"] == UNKNOWN_STATUS:
                    self.words[str(value["source_status"])] += 1
                    self.lines.add(line_of(index))
                    self.owner = owner

    def summary(self) -> str:
        """``""`` when every word was known, else ``2 card status words unknown (BLOQUEO POR FRAUDE 1, robo 1) on
        lines 2, 5: published as UNKNOWN; map them in the card_status field's status_words`` (``1 order status word
        unknown (executada 1) on line 2: ...; map them in the status field's status_words``)."""
        total = sum(self.words.values())
        if not total or self.owner is None:
            return ""
        words = ", ".join(f"{word} {count}" for word, count in sorted(self.words.items()))
        where = (f"on {len(self.lines)} lines" if len(self.lines) > SHOWN_LINES else
                 f"on {noun_for(len(self.lines), 'line')} {', '.join(map(str, sorted(self.lines)))}")
        return (f"{counted(total, f'{self.owner.noun} status word')} unknown ({words}) {where}: "
                f"published as {UNKNOWN_STATUS}; map them in the {self.owner.field} field's status_words")
