"""The one machine-readable form of a command's list: JSON Lines, one JSON object per item on stdout.

Every ``--json`` (and ``--format json``) of an ``omnibus`` command that answers with a list prints it this way,
so ``jq``, ``grep`` and a stream reader take each item as it comes and an empty list prints nothing (README,
"Machine-readable output"). A command that answers with one document (``deadletters show``, ``handoffs show``,
an ``openapi`` command) prints one JSON object. Values are encoded by msgspec: datetimes and dates as ISO 8601
text, decimals as exact text, enums by value, dataclasses and structs as objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
import typer

JSON_LINES_HELP = "One JSON object per line (JSON Lines) instead of a table"  # every list's --json


def json_line(item: Any) -> str:
    """One item as one line of compact JSON (no newline); ``TypeError`` for a value msgspec cannot encode."""
    return msgspec.json.encode(item).decode()


def echo_json_lines(items: Iterable[Any], **common: Any) -> None:
    """Print each of ``items`` as one JSON line on stdout, ``common`` fields (``month="2026-11"``) added in front of
    each item's own (a mapping or a dataclass; an item's own field of the same name wins)."""
    for item in items:
        if common:
            fields = item if isinstance(item, Mapping) else msgspec.to_builtins(item)
            item = {**common, **fields}
        typer.echo(json_line(item))
