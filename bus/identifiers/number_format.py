"""A system of record's spelling of its numbers, which every channel's spelling of one becomes.

One declaration for the kinds whose numbers a business system issues (``CUSTOMER_NUMBER``:
``OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT``; ``ACCOUNT``, a contract or account number that is not an IBAN:
``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``). A value always loses its whitespace and is upper-cased (NFKC). With
a ``NumberFormat``, the house styles of the other channels become the system of record's own spelling as well: the
call center's keypad ``770002``, the counter's ``c770002``, an export's ``C-0770002`` or ``C 770-002`` are all
billing's ``C-770002`` under ``{"prefix": "C-"}``. The value loses its ``separators``, then the prefix (compared
without separators) if it starts with it; the rest must match ``pattern`` whole, whose group ``number`` is the
number: digits only lose their leading zeros and are zero-padded to ``width``; the canonical form is ``prefix`` + that
number. A value that does not match (another system of record's number, written with a prefix of its own:
``CB-770002``) keeps the spelling above.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bus.identifiers.model import NotAnIdentifier

_SPACES = re.compile(r"\s+")
NUMBER_GROUP = "number"


class NumberFormat(BaseModel):
    """The spelling of a system of record's numbers of one kind (``OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT``,
    ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prefix: str = Field("", description="Put before every number of this system (C-); taken off a value that "
                        "starts with it, compared without separators, before the pattern is matched.")
    width: int = Field(0, ge=0, le=32, description="A number of digits is zero-padded to this many digits after "
                       "losing its leading zeros (0: no padding, 0770002 is 770002).")
    pattern: str = Field(f"(?P<{NUMBER_GROUP}>[0-9]+)", description="Regular expression (Python re) the value "
                         "must match whole, after its separators and the prefix are taken off, upper case; its group "
                         f"'{NUMBER_GROUP}' is the number. Default: digits only.")
    separators: str = Field("-./_", description="Characters taken out of a value before it is matched (whitespace "
                            "always is).")

    @field_validator("prefix")
    @classmethod
    def _prefix_spelled_as_values_are(cls, value: str) -> str:
        if _SPACES.search(value):
            raise ValueError("the prefix has whitespace, which no number keeps")
        return spelling(value)

    @field_validator("pattern")
    @classmethod
    def _one_number_group(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"the pattern is not a regular expression: {exc}") from None
        if NUMBER_GROUP not in compiled.groupindex:
            raise ValueError(f"the pattern has no group named {NUMBER_GROUP!r}, e.g. (?P<{NUMBER_GROUP}>[0-9]+)")
        return value

    def canonical(self, spelled: str) -> str | None:
        """The system of record's spelling of ``spelled`` (``spelling``'s output), or None if it does not match."""
        number = self.number(spelled)
        if number is None:
            return None
        if number.isascii() and number.isdigit():
            number = (number.lstrip("0") or "0").zfill(self.width)
        return unicodedata.normalize("NFKC", self.prefix + number)

    def number(self, canonical: str) -> str | None:
        """The number of a value ``canonical`` writes in this format (``"EA-00123456"`` → ``"00123456"`` under
        ``{"prefix": "EA-", "width": 8}``), or None for a value not in it (another system's ``CB-770002``): what the
        placeholder rule judges (``bus.identifiers.placeholders``)."""
        compact = canonical.translate(self._table)
        prefix = self._compact_prefix
        body = compact[len(prefix):] if prefix and compact.startswith(prefix) else compact
        match = self._compiled.fullmatch(body)
        return match[NUMBER_GROUP] if match is not None and match[NUMBER_GROUP] else None

    def padded(self, number: str) -> bool:
        """Whether ``number`` (``number``'s output) is digits the ``width`` pads: shorter than the width once its
        leading zeros are gone (``"01234567"`` under width 8 is ``1234567`` padded; ``"12345678"`` fills it)."""
        return number.isascii() and number.isdigit() and len(number.lstrip("0")) < self.width

    @cached_property
    def _table(self) -> dict[int, None]:
        return dict.fromkeys(map(ord, self.separators))

    @cached_property
    def _compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern)

    @cached_property
    def _compact_prefix(self) -> str:
        return self.prefix.translate(self._table)


# What a number loses everywhere, format or not (``spelling``), as a sender's documentation says it.
PLAIN_SPELLING = "loses its spaces and is upper-cased"


def described(system_format: NumberFormat | None, setting: str, example: str) -> str:
    """How a number of one kind is spelled where it enters, for a sender's documentation (the OpenAPI documents),
    written from ``system_format`` itself so that it cannot contradict the deployment's format: ``example`` (a number
    as a channel types it, ``300001``) is shown as the format writes it, when the format's pattern takes it.

    ``described(NumberFormat(prefix="EA-", width=8), SETTING, "300001")`` → ``"is written as the system of record
    writes it (SETTING: prefix 'EA-', digits zero-padded to 8): 300001 becomes EA-00300001; a number that does not
    match loses its spaces and is upper-cased"``; without a format, ``PLAIN_SPELLING``."""
    if system_format is None:
        return PLAIN_SPELLING
    rules = [f"prefix {system_format.prefix!r}"] if system_format.prefix else []
    if system_format.width:
        rules.append(f"digits zero-padded to {system_format.width}")
    if system_format.pattern != NumberFormat.model_fields["pattern"].default:
        rules.append(f"the number matching {system_format.pattern}")
    shown = _once(example, system_format)
    becomes = f": {example} becomes {shown}" if shown != spelling(example) else ""
    return (f"is written as the system of record writes it ({setting}: {', '.join(rules) or 'as given'}){becomes}; "
            f"a number that does not match {PLAIN_SPELLING}")


def spelling(value: str) -> str:
    """``value`` without whitespace, upper case, NFKC: upper case can decompose a letter (U+01F0 gives J and a
    combining caron), composed again so that spelling twice changes nothing."""
    return unicodedata.normalize("NFKC", _SPACES.sub("", value).upper())


def in_format(value: str, system_format: NumberFormat | None, code: str, setting: str) -> str:
    """``spelling(value)``, in ``system_format`` when it matches: ``in_format("c 770002", NumberFormat(prefix="C-"),
    ...)`` → ``"C-770002"``.

    Raises ``NotAnIdentifier`` (code ``code``, naming the environment variable ``setting``) when the format's
    pattern reads its own output as another number (a pattern that can take a digit of the number for part of a
    prefix): normalising twice must change nothing, or identity, which normalises again, would key the number apart
    from the adapter's."""
    canonical = _once(value, system_format)
    if system_format is not None and _once(canonical, system_format) != canonical:
        raise NotAnIdentifier(code, f"the configured number format reads its own output as another number: check "
                              f"{setting}'s pattern")
    return canonical


def _once(value: str, system_format: NumberFormat | None) -> str:
    spelled = spelling(value)
    return (system_format.canonical(spelled) if system_format else None) or spelled
