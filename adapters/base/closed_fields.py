"""Fields a sender put where our own contract declares none: refused, never silently ignored.

An adapter's own request format (the branch counters' upload, not a third party's such as Segment's spec) is
described by its OpenAPI schema; an object of it with ``additionalProperties: false`` is closed. ``unknown_fields``
walks a sender's document along that schema and names each field a closed object does not declare, by its path
(``transaction.offer``, ``identifiers[0].verified``), with where a field of that name belongs when the schema
declares one elsewhere (an ``offer`` section put under ``transaction`` instead of beside it), or the declared
field its name is closest to (a typo). The schema is the one declaration of the fields: the published OpenAPI
and the refusal cannot disagree.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

Schema = Mapping[str, Any]


def unknown_fields(document: Any, schema: Schema, *, top: str) -> list[str]:
    """One reason per field of ``document`` (parsed JSON) that a closed object of ``schema`` does not declare, in
    document order; empty when there is none. ``top`` names the document's own level in a reason ("the event").

    Only declared fields are descended into; values of the wrong type are left to the reader that checks them.
    """
    declared = _declared_paths(schema)
    return [_reason(path, name, siblings, declared, top) for path, name, siblings in _walk(document, schema, "")]


def _walk(document: Any, schema: Schema, path: str) -> Iterator[tuple[str, str, list[str]]]:
    """``(path, name, declared sibling names)`` of each undeclared field under ``path``."""
    if isinstance(document, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(document):
            yield from _walk(item, schema["items"], f"{path}[{index}]")
        return
    properties = schema.get("properties")
    if not isinstance(document, dict) or not isinstance(properties, Mapping):
        return
    for name, value in document.items():
        inner = f"{path}.{name}" if path else str(name)
        if name in properties:
            yield from _walk(value, properties[name], inner)
        elif schema.get("additionalProperties") is False:
            yield inner, str(name), list(properties)


def _declared_paths(schema: Schema, path: str = "") -> dict[str, list[str]]:
    """Every field ``schema`` declares, by name -> the paths of its parents (``""`` for the top level)."""
    declared: dict[str, list[str]] = {}
    if isinstance(schema.get("items"), Mapping):
        for name, parents in _declared_paths(schema["items"], f"{path}[]").items():
            declared.setdefault(name, []).extend(parents)
    for name, inner in (schema.get("properties") or {}).items():
        declared.setdefault(name, []).append(path)
        if isinstance(inner, Mapping):
            for deeper, parents in _declared_paths(inner, f"{path}.{name}" if path else name).items():
                declared.setdefault(deeper, []).extend(parents)
    return declared


def _reason(path: str, name: str, siblings: list[str], declared: dict[str, list[str]], top: str) -> str:
    where = path.rpartition(".")[0] if "." in path else ""
    reason = f"unknown field '{path}'"
    if name in declared:
        places = " or ".join(_place(parent, top) for parent in declared[name])
        return f"{reason}: '{name}' belongs {places}, not {_place(where, top)}"
    close = difflib.get_close_matches(name, siblings, n=1)
    return f"{reason} (did you mean '{close[0]}'?)" if close else f"{reason}: {_declared_list(siblings)}"


def _place(parent: str, top: str) -> str:
    return f"in '{parent}'" if parent else f"at {top}'s level"


def _declared_list(siblings: list[str]) -> str:
    return f"the fields here are {', '.join(siblings)}" if siblings else "no field is allowed here"
