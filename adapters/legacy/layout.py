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

This module holds ``Layout`` and ``load_layout``; one field's declaration and typed reading is in ``layout_fields``,
what the fields must be for the event in ``layout_rules``, the reading of a line in ``line_fields``.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

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
from adapters.legacy import line_fields
from adapters.legacy.errors import LayoutError
from adapters.legacy.layout_fields import TIME_TYPES, FieldSpec, check_format
from adapters.legacy.layout_rules import check_status_words, missing_fields, unknown_fields, unreadable_types
from adapters.legacy.mapper import canonical_event_type
from adapters.legacy.numbers import UNDECLARED, DecimalFormat, declared_format
from adapters.legacy.statuses import STATUS_FIELDS
from bus.config import TimeZoneName
from bus.identifiers.settings import PhoneRegion
from bus.references import squashed
from bus.validation_errors import describe_validation_error

REFERENCES = "references"  # the validation context's declared business references (``load_layout``)
SNAPSHOT_EVENT = "AccountOpened"  # the one event a full snapshot lists (``snapshot``: its accounts)


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
                check_format(name, spec.format)
            if (spec.decimal_separator or spec.thousands_separator) and spec.type != "decimal":
                raise ValueError(f"field {name}: decimal_separator and thousands_separator are for a decimal field, "
                                 f"this one is {spec.type}")
            self.decimal_format(name)  # a separator or locale that cannot be: refused at load
            if spec.timezone is not None and spec.type not in TIME_TYPES:
                raise ValueError(f"field {name}: timezone is for a date or timestamp field, this one is {spec.type}")
            if spec.status_words is not None:
                check_status_words(self, name, spec.status_words)
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
        problems = [*unknown_fields(self, references), *missing_fields(self), *unreadable_types(self)]
        if problems:  # every fault at once, before a line is read
            raise ValueError("; ".join(problems))
        return self

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
        """Column name -> 0-based index of a CSV header line (``line_fields.columns_from``: ``LayoutError``)."""
        return line_fields.columns_from(self, header_line)

    def skips(self, line: str) -> bool:
        return not line.strip() or any(line.startswith(prefix) for prefix in self.skip_prefixes)

    def parse(self, line: str, columns: dict[str, int], left_out: dict[str, str] | None = None) -> dict[str, Any]:
        """The typed fields of one data line (``line_fields.parse``: ``RejectedInput`` names the first bad one; a
        person's trait that does not read is left out, its standard key and reason put in ``left_out``)."""
        return line_fields.parse(self, line, columns, left_out)


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


def _yaml(text: str) -> Any:
    import yaml  # PyYAML: needed only for YAML layouts

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from exc
