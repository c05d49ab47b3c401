"""Layouts of nightly export files: which columns a line has, their types, and the event it becomes.

A layout file (YAML or JSON) declares one file kind::

    name: bills                  # names checkpoints and dedupe ids
    format: csv                  # or fixed-width
    event: BillIssued
    delimiter: ";"               # csv only
    header: true                 # csv: the first line names the columns
    skip_prefixes: ["HDR", "TRL"]  # header/trailer records to ignore
    key: [bill_id]               # business key: the same bill in another file is a duplicate
    on_change: dead-letter       # the same key with other content: dead-lettered (default publish: a newer fact)
    current_holder: true         # a line names its account's one holder: a new national ID is a tenant change
    snapshot: true               # every file lists every account: one a previous file listed and this one does not
                                 # is closed (``adapters.legacy.snapshot``; AccountOpened with a key only)
    phone_region: FR             # phone numbers written without +country are French (default: the adapter's)
    timezone: Europe/Madrid      # times written without a zone are this zone's wall-clock time (default: UTC;
                                 # ``adapters.legacy.wall_clock`` for summer time); a field may name its own
    number_locale: pt_BR         # decimals written 1.234,56 (or decimal_separator / thousands_separator; a field
                                 # may declare its own); undeclared: ``adapters.legacy.numbers`` (1.500 is refused)
    fields:                      # event field -> where it is in the line
      account_number: {column: ACCOUNT_NO}          # csv: header name, or a 0-based index
      amount: {column: AMOUNT, type: decimal}
      due_date: {column: DUE, type: date, format: "%d/%m/%Y"}
      currency: {value: EUR}                         # a constant
      bill_id: {start: 1, width: 12}                 # fixed-width: 1-based start, width in characters
      amount_due: {start: 13, width: 11, type: decimal, implied_decimals: 2}   # 00000012345 = 123.45
      fee: {column: TAXA, type: decimal, decimal_separator: ","}   # this field's own number format
      card_status: {column: ESTADO, status_words: {"BLOQ FRAUDE": BLOCKED}}   # a CardStatusChanged's own codes
                                                   # (an OrderStatusChanged's status field takes them too)

With ``key``, a line whose key was published before with other content (a customer who moved, in a
customer-master export) is no duplicate: ``on_change: publish`` (the default) publishes it as a newer fact under an
event id of its own, ``dead-letter`` refuses it (``adapters.legacy.revisions``).
Without ``key``, a line's id is the file's SHA-256 plus its line number: importing the same file again
is a duplicate, a corrected file is not.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import InvalidOperation
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from adapters.base.errors import RejectedInput
from adapters.legacy.errors import LayoutError
from adapters.legacy.mapper import canonical_event_type
from adapters.legacy.numbers import UNDECLARED, DecimalFormat, declared_format, read_decimal
from adapters.legacy.reads import event_fields, event_reads
from adapters.legacy.statuses import STATUS_FIELDS
from adapters.legacy.wall_clock import day_start, local_instant
from bus.config import TimeZoneName, describe_validation_error
from bus.identifiers.settings import PhoneRegion
from bus.identifiers.traits import TRAIT_KEYS, standard_key
from bus.references import squashed

OCCURRED_AT = "occurred_at"  # the top-level key naming the field that holds when a line's fact happened
REFERENCES = "references"  # the validation context's declared business references (``load_layout``)
FieldType = Literal["string", "int", "decimal", "date", "timestamp"]
FIELD_TYPES: tuple[FieldType, ...] = get_args(FieldType)
TIME_TYPES: tuple[FieldType, ...] = ("date", "timestamp")
# The layout types each reader of ``adapters.legacy.values`` takes (``reads.EventReads.kinds``); ``text`` takes all.
SNAPSHOT_EVENT = "AccountOpened"  # the one event a full snapshot lists (``snapshot``: its accounts)
READER_TYPES: dict[str, tuple[FieldType, ...]] = {
    "day": ("string", *TIME_TYPES), "moment": ("string", *TIME_TYPES),
    "money": ("string", "int", "decimal"), "whole": ("string", "int", "decimal"),
}


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str | int | None = None
    start: int | None = Field(None, ge=1)
    width: int | None = Field(None, ge=1)
    value: str | None = None
    type: FieldType = "string"
    format: str | None = Field(None, description="strptime format of a date/timestamp (default ISO-8601).")
    implied_decimals: int = Field(0, ge=0, description="Decimals implied by a decimal written without a point.")
    timezone: TimeZoneName | None = Field(
        None, description="IANA zone whose wall-clock time this date/timestamp field is written in (the layout's "
        "timezone for this field only).",
    )
    decimal_separator: str | None = Field(
        None, description="A decimal field's decimal separator (. or ,), over the layout's (adapters.legacy.numbers).")
    thousands_separator: str | None = Field(
        None, description="A decimal field's thousands separator (. , ' or a space), over the layout's.")
    status_words: dict[str, str] | None = Field(
        None, description="The card_status field of a CardStatusChanged layout, the status field of an "
        "OrderStatusChanged one: the system's own words -> a common status (ACTIVE, BLOCKED... for a card; CREATED, "
        "IN_PROGRESS, COMPLETED... for an order), before the built-in words (adapters.legacy.statuses).",
    )


class Layout(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(..., pattern=r"^[a-z0-9_-]+$")
    format: Literal["csv", "fixed-width"]
    event: str
    encoding: str = "utf-8"
    delimiter: str = Field(",", min_length=1, max_length=1)
    quotechar: str = Field('"', min_length=1, max_length=1)
    header: bool = True
    skip_lines: int = Field(0, ge=0, description="Lines before the data (banners), after any header.")
    skip_prefixes: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    on_change: Literal["publish", "dead-letter"] = Field(
        "publish", description="A line whose key was published before with other content: published as a newer "
        "fact (master data), or dead-lettered (a one-shot fact such as a bill). Only with a key.",
    )
    snapshot: bool = Field(
        False, description="Each file is a full snapshot (every account, every night): an account a previous snapshot "
        "listed and this one does not is closed (adapters.legacy.snapshot). AccountOpened with a key only.",
    )
    current_holder: bool = Field(
        False, description="Each line names its account's current single holder (a CIS keeping the contract account "
        "when the tenant changes): a dated line naming another national ID than the previous file's one holder of its "
        "key is a tenant change, published after the previous holder's AccountClosed (adapters.legacy.tenant_change)."
        " AccountOpened keyed by account_number, with national_id and occurred_at.",
    )
    occurred_at: str | None = Field(None, description="Field holding when the fact happened.")
    phone_region: PhoneRegion = Field(
        None, description="Region (e.g. FR) of the file's phone numbers written without +country; unset: the "
        "adapter's phone_region.",
    )
    timezone: TimeZoneName | None = Field(
        None, description="IANA zone (e.g. Europe/Madrid) whose wall-clock time the file's dates and timestamps "
        "written without a zone are; unset: UTC (adapters.legacy.wall_clock: summer time).",
    )
    number_locale: str | None = Field(
        None, description="Locale (e.g. pt_BR) whose decimal and thousands separators the file's decimals are written "
        "with (Babel's CLDR data: pt_BR 1.234,56, en_US 1,234.56); unset: adapters.legacy.numbers' rule, which refuses "
        "a number that reads two ways (1.500).",
    )
    decimal_separator: str | None = Field(
        None, description="The file's decimal separator (. or ,), over number_locale.")
    thousands_separator: str | None = Field(
        None, description="The file's thousands separator (. , ' or a space), over number_locale; with "
        "decimal_separator unset, the other of . and , is the decimal separator.")
    fields: dict[str, FieldSpec]

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r} (e.g. utf-8, latin-1, cp1252)") from None
        return value

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        try:
            return canonical_event_type(value)
        except RejectedInput as exc:
            raise ValueError(exc.reason) from exc

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Layout:
        declared_format(self.decimal_separator, self.thousands_separator, self.number_locale)  # refused at load
        for name, spec in self.fields.items():
            if spec.format is not None:
                _check_format(name, spec.format)
            if (spec.decimal_separator or spec.thousands_separator) and spec.type != "decimal":
                raise ValueError(f"field {name}: decimal_separator and thousands_separator are for a decimal field, "
                                 f"this one is {spec.type}")
            self.decimal_format(name)  # a separator or locale that cannot be: refused at load
            if spec.timezone is not None and spec.type not in TIME_TYPES:
                raise ValueError(f"field {name}: timezone is for a date or timestamp field, this one is {spec.type}")
            if spec.status_words is not None:
                self._check_status_words(name, spec.status_words)
            if spec.value is not None:
                continue
            if self.format == "fixed-width" and (spec.start is None or spec.width is None):
                raise ValueError(f"field {name}: a fixed-width field needs start and width")
            if self.format == "csv" and spec.column is None:
                raise ValueError(f"field {name}: a csv field needs a column (header name or 0-based index)")
            if self.format == "csv" and isinstance(spec.column, str) and not self.header:
                raise ValueError(f"field {name}: columns are named only when the file has a header")
        for name in (*self.key, *([self.occurred_at] if self.occurred_at else [])):
            if name not in self.fields:
                raise ValueError(f"{name} is used as key/occurred_at but is not a field")
        if self.snapshot and (self.event != SNAPSHOT_EVENT or not self.key or "account_number" not in self.fields):
            raise ValueError("snapshot: a full snapshot closes the accounts it no longer lists: only an "
                             f"{SNAPSHOT_EVENT} layout with a key and an account_number field can be one")
        if self.current_holder and (self.event != SNAPSHOT_EVENT or self.key != ("account_number",)
                                    or "national_id" not in self.fields or not self.occurred_at):
            raise ValueError("current_holder: a tenant change is read from a dated line naming the account's holder: "
                             f"only an {SNAPSHOT_EVENT} layout with key [account_number], a national_id field and "
                             "occurred_at can be one")
        references = frozenset(map(squashed, (info.context or {}).get(REFERENCES, ())))
        problems = [*self._unknown_fields(references), *self._missing_fields(), *self._unreadable_types()]
        if problems:  # every fault at once, before a line is read (tester24 F15)
            raise ValueError("; ".join(problems))
        return self

    def _unknown_fields(self, references: frozenset[str]) -> list[str]:
        """A field the event does not read (tester15 F5: ``iban:``, a typo ``ibann:`` and ``whatever_field:``
        were ignored without a word, their columns lost): the event's own fields (``reads.event_fields``), a person's
        traits under a spelling ``bus.identifiers.traits`` knows, the fields named as key or occurred_at, and, for an
        event that carries them (``EventReads.references``: ``HandoffCreated``), the declared business references
        ``references`` (``load_layout``'s, ``references.squashed``: any spelling; tester26 F11: a billing export's
        meter point column)."""
        known = event_fields(self.event) | {*self.key, *([self.occurred_at] if self.occurred_at else [])}
        carried = event_reads(self.event).references
        unknown = [name for name in self.fields if name not in known and standard_key(name) is None
                   and not (carried and squashed(name) in references)]
        if not unknown:
            return []
        problem = (f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: {self.event} "
                   f"reads {', '.join(sorted(event_fields(self.event)))}, and a person's traits "
                   f"({', '.join(TRAIT_KEYS)} or their usual spellings)")
        if OCCURRED_AT in unknown:  # tester33 F7: the natural first try, whose fix was only in the Cards example
            spec = self.fields[OCCURRED_AT]
            column = f"{spec.column!r}" if spec.column is not None else "its column"
            problem += (f"; {OCCURRED_AT} is a top-level key naming one of the fields, not a field: give the time its "
                        f"own field under fields (e.g. changed_at, reading {column} as type {spec.type}) and write "
                        f"{OCCURRED_AT}: changed_at at the top level (docs/legacy-batch.md, occurred_at)")
        return [problem]

    def _missing_fields(self) -> list[str]:
        """A field the event requires that the layout does not give (tester24 F15: a ``BillIssued`` layout without
        ``period_start_date`` was accepted, then every line of the file was dead-lettered): the required reads of the
        event's builder (``reads.event_reads``)."""
        missing = [f"{group[0]}{''.join(f' (or {other})' for other in group[1:])}"
                   for group in event_reads(self.event).required if not any(name in self.fields for name in group)]
        if not missing:
            return []
        several = len(missing) > 1
        return [f"{self.event} requires field{'s' if several else ''} {', '.join(missing)}, missing from the layout: "
                f"every line would be rejected; map {'each' if several else 'it'} to a column, or give a constant "
                "(value:)"]

    def _unreadable_types(self) -> list[str]:
        """A field whose declared ``type`` the event's reader of it cannot take (a ``due_date`` declared ``int``, an
        ``amount`` declared ``date``), and an ``occurred_at`` that is no date or timestamp (it would be ignored for
        the file's modification time)."""
        kinds = event_reads(self.event).kinds
        problems = []
        for name, spec in self.fields.items():
            accepted = READER_TYPES.get(kinds.get(name, "text"), FIELD_TYPES)
            if standard_key(name) is None and spec.type not in accepted:
                problems.append(f"field {name} of {self.event} cannot be read from type {spec.type} (it is a "
                                f"{kinds[name]}: type {' or '.join(accepted)})")
        if self.occurred_at and self.fields[self.occurred_at].type not in TIME_TYPES:
            problems.append(f"occurred_at field {self.occurred_at} has type {self.fields[self.occurred_at].type}: "
                            f"it must be a time (type {' or '.join(TIME_TYPES)})")
        return problems

    def _check_status_words(self, name: str, words: dict[str, str]) -> None:
        """``ValueError`` when ``status_words`` are on a field that holds no status word, or map a word to no status
        of the event's (``statuses.StatusField.own``)."""
        owner = STATUS_FIELDS.get(self.event)
        if owner is None or name != owner.field:
            places = " or ".join(f"the {s.field} field of a{'n' if s.event[0] in 'AO' else ''} {s.event} layout"
                                 for s in STATUS_FIELDS.values())
            raise ValueError(f"field {name}: status_words maps a system's own status words to the common statuses: "
                             f"only on {places}")
        try:
            owner.own(words)
        except ValueError as exc:
            raise ValueError(f"field {name}: {exc}") from None

    @property
    def status_words(self) -> dict[str, str]:
        """The layout's own status words (``status_words`` of its card_status or order status field, keyed as
        ``status_words.status_word`` spells them, each a common status); empty when it gives none."""
        owner = STATUS_FIELDS.get(self.event)
        spec = self.fields.get(owner.field) if owner else None
        return owner.own(spec.status_words) if owner and spec and spec.status_words else {}

    def decimal_format(self, name: str) -> DecimalFormat:
        """How field ``name``'s decimals are written: its own separators, else the layout's, else its
        ``number_locale``'s (``numbers.declared_format``; ``ValueError`` for one that cannot be)."""
        spec = self.fields[name]
        if spec.type != "decimal":
            return UNDECLARED
        if spec.decimal_separator or spec.thousands_separator:
            return declared_format(spec.decimal_separator, spec.thousands_separator)
        return declared_format(self.decimal_separator, self.thousands_separator, self.number_locale)

    def columns_from(self, header_line: str) -> dict[str, int]:
        names = next(csv.reader([header_line], delimiter=self.delimiter, quotechar=self.quotechar), [])
        positions = {name.strip(): index for index, name in enumerate(names)}
        wanted = {s.column for s in self.fields.values() if isinstance(s.column, str)}
        if not header_line.strip():  # tester21 F12: an empty file read "...; it has" and stopped
            raise LayoutError("the file has no header line (it is empty, or its first line is blank: a failed "
                              f"export?); the layout names the columns {', '.join(map(repr, sorted(wanted)))}")
        if missing := sorted(wanted - set(positions)):
            raise LayoutError(f"the header line has no column {', '.join(map(repr, missing))} (named in the layout); "
                              f"it has {', '.join(map(repr, positions))}")
        return positions

    def skips(self, line: str) -> bool:
        return not line.strip() or any(line.startswith(prefix) for prefix in self.skip_prefixes)

    def parse(self, line: str, columns: dict[str, int], left_out: dict[str, str] | None = None) -> dict[str, Any]:
        """The typed fields of one data line; ``RejectedInput`` names the first bad one. A person's trait that does not
        read as its type (a birth date 31/02/1980) is left out instead, its standard key and reason put in
        ``left_out``: the line's event still flows, as the other adapters drop a bad trait (tester15 F6)."""
        cells = (next(csv.reader([line], delimiter=self.delimiter, quotechar=self.quotechar), [])
                 if self.format == "csv" else None)
        self._check_length(line, cells, columns)
        fields: dict[str, Any] = {}
        for name, spec in self.fields.items():
            if spec.value is not None:
                raw: str | None = spec.value
            elif cells is not None:
                index = columns[spec.column] if isinstance(spec.column, str) else spec.column
                raw = cells[index] if index is not None and index < len(cells) else None
            elif spec.start is not None and spec.width is not None:  # fixed-width: both required at load
                raw = line[spec.start - 1: spec.start - 1 + spec.width]
            else:
                raw = None
            try:
                typed = _typed(raw.strip() if raw is not None else None, spec, name, self.decimal_format(name))
                fields[name] = self._in_zone(name, spec, typed)
            except RejectedInput as error:
                trait = standard_key(name)
                if trait is None or left_out is None:
                    raise
                fields[name] = None
                left_out[trait] = error.reason
        return fields

    def _in_zone(self, name: str, spec: FieldSpec, value: Any) -> Any:
        """``value`` as the instant it names in the field's or the layout's ``timezone`` (``wall_clock``): a
        timestamp written without a zone, and a date read as an instant (the ``occurred_at`` field, a field its event
        reads as a time); unchanged without a timezone (UTC, as before), or for a date that stays a day."""
        zone = spec.timezone or self.timezone
        if zone is None or value is None:
            return value
        if spec.type == "timestamp":
            return local_instant(value, ZoneInfo(zone), name)
        if spec.type == "date" and (name == self.occurred_at or event_reads(self.event).kinds.get(name) == "moment"):
            return day_start(value, ZoneInfo(zone))
        return value

    def _check_length(self, line: str, cells: list[str] | None, columns: dict[str, int]) -> None:
        """Refuse a line cut short or run on (``RejectedInput``, code ``field_count``): an unquoted newline in an
        export splits one record into two half lines, which would otherwise be published with their missing fields
        empty (tester19 F5). CSV with a header: a field count other than the header's; without one: fewer fields than
        the last column the layout reads; fixed-width: a line ending before the layout's last field does."""
        if cells is not None and columns:
            expected = max(columns.values()) + 1  # the header's field count (its last cell's index + 1)
            if len(cells) != expected:
                raise RejectedInput(f"the line has {len(cells)} fields, the header {expected}", code="field_count")
        elif cells is not None:
            read = [s.column for s in self.fields.values() if isinstance(s.column, int)]
            if read and len(cells) <= max(read):
                raise RejectedInput(f"the line has {len(cells)} fields, the layout reads column {max(read)} "
                                    "(0-based)", code="field_count")
        else:
            end = max((s.start + s.width - 1 for s in self.fields.values()
                       if s.start is not None and s.width is not None), default=0)
            if len(line) < end:
                raise RejectedInput(f"the line has {len(line)} characters, the layout's last field ends at "
                                    f"character {end}", code="field_count")


def _typed(raw: str | None, spec: FieldSpec, name: str, number: DecimalFormat = UNDECLARED) -> Any:
    if not raw:
        return None
    try:
        if spec.type == "int":
            return int(raw)
        if spec.type == "decimal":
            amount = read_decimal(raw, name, number)
            return amount.scaleb(-spec.implied_decimals) if spec.implied_decimals else amount
        if spec.type == "date":
            return datetime.strptime(raw, spec.format).date() if spec.format else datetime.fromisoformat(raw).date()
        if spec.type == "timestamp":
            return datetime.strptime(raw, spec.format) if spec.format else datetime.fromisoformat(raw)
    except (ValueError, InvalidOperation) as exc:
        expected = f"{spec.type} {spec.format or ''}".strip()
        # processors.deadletters reads this wording: the value of a field not personal keeps its date when shown
        raise RejectedInput(f"field {name} is malformed (expected {expected}, got {raw[:30]!r})",
                            code="malformed_field") from exc
    return raw


def load_layout(path: Path, references: Iterable[str] = ()) -> Layout:
    """A layout from a ``.json`` file, or YAML (a superset of JSON) for any other suffix; ``references``: the declared
    business references (the adapter's and the deployment's ``reference_fields``) its fields may name, for an event
    that carries them.

    Raises ``LayoutError`` naming ``path`` and every problem on one line (``layout x.yaml: event: unknown event type
    'AccountOpend'; known: AccountOpened, ...``): an unreadable file, bad YAML/JSON, an unknown event, key or field,
    a field without its column, a date format strptime cannot read."""
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else _yaml(text)
        return Layout.model_validate(document, context={REFERENCES: tuple(references)})
    except ValidationError as exc:  # pydantic's text spans lines and repeats the input: one line per problem
        raise LayoutError(f"layout {path}: {describe_validation_error(exc)}") from None
    except (OSError, ValueError, RejectedInput) as exc:
        raise LayoutError(f"layout {path}: {exc}") from None


# A date and time with every field distinct, to see a format survive a round trip through strftime and strptime.
_FORMAT_PROBE = datetime(2001, 12, 23, 14, 35, 56, 789000, tzinfo=UTC)


def _check_format(name: str, fmt: str) -> None:
    """Raise ``ValueError`` when ``fmt`` is no format ``datetime.strptime`` reads (``%Q``, a lone ``%``): otherwise
    every line would be rejected as malformed instead of the layout being refused once."""
    try:
        datetime.strptime(_FORMAT_PROBE.strftime(fmt), fmt)
    except ValueError as exc:
        raise ValueError(f"field {name}: format {fmt!r} is not a strptime format ({exc})") from None


def _yaml(text: str) -> Any:
    import yaml  # PyYAML: needed only for YAML layouts

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from exc
