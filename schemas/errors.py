"""Errors raised while loading or checking the Avro contract."""

from __future__ import annotations

from pathlib import Path


class SchemaError(Exception):
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
