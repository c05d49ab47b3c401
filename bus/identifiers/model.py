"""What normalising a value gives: an ``Identifier`` to link on, or a ``Rejected`` value with its reason."""

from __future__ import annotations

from dataclasses import dataclass

from bus.errors import OmnibusError

# Rules, as identity's LinkRefused and the rejected-identifier records name them.
INVALID = "invalid-identifier"
BLOCKED = "blocked-value"


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalised identifier (``omnibus.common.Identifier``); ``key`` (``TYPE:value``) is what the graph links on."""

    type: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.type}:{self.value}"

    def as_record(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}

    @classmethod
    def from_key(cls, key: str) -> Identifier:
        kind, _, value = key.partition(":")
        return cls(kind, value)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A value that is not an identifier (``omnibus.common.RejectedIdentifier``).

    ``rule`` is ``invalid-identifier`` or ``blocked-value``; ``code`` a short bounded reason for metrics
    (``phone-invalid``, ``email-syntax``...); ``reason`` says what is wrong in words; ``masked`` is safe to
    publish and log (never the raw value of a secret).
    """

    type: str
    masked: str
    rule: str
    reason: str
    code: str = "invalid"

    def as_record(self) -> dict[str, str]:
        return {"type": self.type, "masked": self.masked, "rule": self.rule, "reason": self.reason, "code": self.code}


class NotAnIdentifier(OmnibusError, ValueError):
    """Raised by the per-type normalisers: ``code`` for metrics, the message for people; bad input, not retriable."""

    retriable = False

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
