"""The clear copy of refused input on ``deadletter.v1``: no identifier value readable in it.

An adapter's dead letter of refused input (an HTTP body, a line of a file import, an outbox or polled row) keeps a copy
of that input in clear, for an operator to see why it was refused and what to correct. The brief: identifier values
never appear in logs, secrets never travel raw on topics; a refused record is protected at least as well as the topic
it was meant for (before, its phones, e-mails and a handoff summary ``llamar al 677 123 456 o marta.ruiz@example.es``
travelled as sent, when every other topic carries them scrubbed). So the clear copy is rewritten, by the rules the
rest of Omnibus already applies:

- national IDs and card numbers first become their tokens (``bus.identifiers.protect.SecretScrubber``);
- a JSON value (an object or array: a web message, a CTR, a counter event, an outbox or polled row), and a form
  (``name=value&...``: a TaskRouter callback, whose ``TaskAttributes`` field holds JSON) keep their structure and
  field names; a field that names an identifier (``bus.redact.SENSITIVE_FIELDS``: ``phone``, ``email``, ``dni``...)
  or an identifier record (``{"type": "PHONE", "value": ...}``) shows its mask (``bus.identifiers.masking.mask``:
  ``*****3456``, ``m***@example.es``), an issued token as it is; any other text is scrubbed as the adapters scrub the
  free text they publish, a declared business reference kept (``bus.references.References.facts``: ``[digits]``,
  ``[email]``; an identifier's key form ``PHONE:+34...`` shows its mask); a number of a field that names an
  identifier is masked too, any other number with enough digits for one is scrubbed;
- a line of a file import whose columns the import knows (``RawRecord.line``: a layout's CSV or fixed-width line, an
  Asterisk CDR) is decoded in the file's encoding and keeps its shape, each column the layout maps to an identifier
  masked, the others scrubbed as free text (``bus.dead_letter_lines``); the file's encoding is then said in a header
  (``FILE_ENCODING_HEADER``) when it is not UTF-8;
- any other value (text that is not JSON) is scrubbed whole as free text (``bus.redact.free_text``); bytes that are
  not UTF-8 are read as they come (``surrogateescape``), the rest kept;
- the key (an outbox row's aggregate id, a poller's primary key, a terminal id: a legacy line may be keyed by a phone)
  shows its mask: an identifier's key form by its kind, an e-mail address as one, any other value with enough digits
  for an identifier by its last four digits (``bus.identifiers.masking.phone_mask``: ``*****3456``);
- a header's value is scrubbed as free text, but for the headers that say where the input came from
  (``KEPT_HEADERS``: a file's name and line, an outbox table and row id, a poller): what a re-drive maps again from.

The input exactly as it came is kept besides, sealed, when the deployment sets ``OMNIBUS_DEAD_LETTERS__SEAL_KEY``
(``bus.sealing``): it is what ``omnibus deadletters redrive`` and ``show --reveal`` open. A dead letter whose clear
copy was so rewritten carries ``CLEAR_COPY_HEADER``, so a reader never takes it for the input as sent.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bus.dead_letter import (
    LOCATION_HEADERS,
    OUTBOX_ID_HEADER,
    OUTBOX_TABLE_HEADER,
    POLLER_HEADER,
    POLLER_TABLE_HEADER,
)
from bus.dead_letter_lines import FILE_ENCODING_HEADER, clear_line
from bus.errors import RawRecord
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.identifiers.masking import mask, phone_mask, record_kind
from bus.identifiers.protect import SecretScrubber
from bus.issued_ids import ISSUED
from bus.redact import MIN_IDENTIFIER_DIGITS, field_kind, free_text
from bus.references import References

# On a dead letter whose key, value and headers are the clear copy (not the input as sent): ``masked``.
CLEAR_COPY_HEADER, MASKED = "omnibus-clear-copy", b"masked"


# Headers kept as they are (national IDs and cards tokenised only): where the input came from, what a re-drive maps
# again from (an outbox row's id may have seven digits and more).
KEPT_HEADERS = LOCATION_HEADERS | {FILE_ENCODING_HEADER, OUTBOX_ID_HEADER, OUTBOX_TABLE_HEADER, POLLER_HEADER,
                                   POLLER_TABLE_HEADER}


class ClearCopy:
    """Rewrites refused input into its clear copy (see the module docstring). ``secrets``: the national-ID and card
    tokeniser of the adapter's identifier settings; ``references``: the deployment's declared business references,
    whose values are kept as the adapters keep them in a property."""

    def __init__(self, secrets: SecretScrubber, references: References) -> None:
        self._secrets = secrets
        self._references = references

    def record(self, record: RawRecord) -> RawRecord:
        """``record`` with its key, value and header values as the clear copy, and ``CLEAR_COPY_HEADER`` added."""
        headers = tuple((name, self._secrets.scrub(value) if name in KEPT_HEADERS else self._text(value))
                        for name, value in record.headers)
        shape = record.line
        if shape is None or record.value is None:
            value = self.value(record.value)
        else:  # a file's line whose columns are known: read by them
            value = clear_line(record.value, shape, self._secret_text)
            if shape.reencoded:
                headers = (*headers, (FILE_ENCODING_HEADER, shape.encoding.encode()))
        return dataclasses.replace(record, key=self.key(record.key), value=value,
                                   headers=(*headers, (CLEAR_COPY_HEADER, MASKED)))

    def _secret_text(self, text: str) -> str:
        """``text`` with its national IDs and card numbers as their tokens."""
        scrubbed = self._secrets.scrub(text.encode("utf-8", errors="surrogateescape"))
        return text if scrubbed is None else scrubbed.decode("utf-8", errors="surrogateescape")

    def value(self, data: bytes | None) -> bytes | None:
        """A refused value's clear copy: JSON and forms field by field, anything else as free text. Never raises:
        refused input is hostile at times (nesting too deep to walk, lone surrogates), and is then scrubbed whole."""
        data = self._secrets.scrub(data)
        if not data:
            return data
        text = data.decode("utf-8", errors="surrogateescape")
        try:
            return self._structured(text)
        except (ValueError, RecursionError):  # UnicodeError is a ValueError
            return _encoded(free_text(text))

    def _structured(self, text: str) -> bytes:
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict | list):  # ASCII: a lone surrogate or an undecodable byte stays an escape
            return json.dumps(self.field(document)).encode("ascii")
        form = _form(text)
        if form is not None:
            return urlencode([(name, self._form_field(name, value)) for name, value in form]).encode("ascii")
        return _encoded(free_text(text))

    def key(self, data: bytes | None) -> bytes | None:
        """A refused record's key, masked (an identifier's key form, an e-mail, a number: its last four digits)."""
        data = self._secrets.scrub(data)
        if not data:
            return data
        text = data.decode("utf-8", errors="surrogateescape")
        kind, sep, rest = text.partition(":")
        if sep and kind in IDENTIFIER_TYPES:
            return _encoded(f"{kind}:{_masked(kind, rest)}")
        if "@" in text:
            return _encoded(mask("EMAIL", text))
        if free_text(text) != text:
            return _encoded(phone_mask(text))
        return data

    def field(self, value: Any, name: str | None = None) -> Any:
        """A decoded JSON ``value`` (under the field ``name``) as its clear copy, the same shape."""
        if isinstance(value, dict):
            record = record_kind(value)
            if record is not None:
                return {**{k: self.field(v, str(k)) for k, v in value.items()},
                        "value": _masked(record, str(value["value"]))}
            return {k: self.field(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.field(item, name) for item in value]
        kind = field_kind(name)
        if isinstance(value, str):
            if kind is not None:
                return _masked(kind, value)
            keyed, sep, rest = value.partition(":")
            if sep and keyed in IDENTIFIER_TYPES:
                return f"{keyed}:{_masked(keyed, rest)}"
            return free_text(value) if name is None else self._references.facts({name: value})[name]
        if isinstance(value, int) and not isinstance(value, bool):
            digits = str(abs(value))
            if kind is not None:
                return _masked(kind, str(value))
            return free_text(str(value)) if len(digits) >= MIN_IDENTIFIER_DIGITS else value
        return value

    def _form_field(self, name: str, value: str) -> str:
        if value.startswith(("{", "[")):
            try:
                document = json.loads(value)
            except ValueError:
                pass
            else:
                return json.dumps(self.field(document, name))
        cleared = self.field(value, name)
        return cleared if isinstance(cleared, str) else str(cleared)

    def _text(self, data: bytes | None) -> bytes | None:
        data = self._secrets.scrub(data)
        if not data:
            return data
        text = data.decode("utf-8", errors="surrogateescape")
        cleared = free_text(text)
        return data if cleared == text else _encoded(cleared)


def _masked(kind: str, value: str) -> str:
    """``value`` of an identifier ``kind`` as the clear copy shows it: an issued token as it is, else its mask."""
    return value if ISSUED.fullmatch(value) else mask(kind, value)


def _form(text: str) -> list[tuple[str, str]] | None:
    """``text``'s fields if it is a form (``name=value&...`` on one line), else None."""
    if "=" not in text or "\n" in text or " " in text:
        return None
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=True) or None
    except ValueError:
        return None


def _encoded(text: str) -> bytes:
    """``text`` as UTF-8, the bytes it was decoded from with ``surrogateescape`` as they came; a lone surrogate that
    stands for no byte (``\\ud800`` from a JSON escape) as its escape."""
    try:
        return text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="backslashreplace")
