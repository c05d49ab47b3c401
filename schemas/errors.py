"""Errors raised while loading or checking the Avro contract, and ``OmnibusError``, the root of every
error Omnibus raises on purpose (declared here, in the lowest layer, so the contract's errors can derive
from it; everything else imports it from ``bus.errors``)."""

from __future__ import annotations

from pathlib import Path


class OmnibusError(Exception):
    """Root of every error Omnibus raises on purpose.

    ``retriable`` says whether trying again can help (a broker or owner that may come back) or not (bad
    input, a bad setting, a broken contract): routing a failure is a decision on data, not guesswork.
    """

    retriable: bool = False

    def __init__(self, *args: object, retriable: bool | None = None) -> None:
        super().__init__(*args)
        if retriable is not None:
            self.retriable = retriable


class SchemaError(OmnibusError):
    """Base class for every schema-related error in Omnibus."""


class SchemaNotFound(SchemaError, KeyError):
    """No schema with the requested full name or fingerprint is in the catalog."""

    def __str__(self) -> str:
        # KeyError.__str__ repr()s its argument; keep the message readable.
        return str(self.args[0]) if self.args else ""


class SchemaParseError(SchemaError):
    """An ``.avsc`` file is not valid JSON, not a valid Avro schema, or breaks a catalog convention."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = Path(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")
