"""List and mapping settings that add to their defaults when written with a leading ``+``.

``OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS='+{"CUSTOMER_NUMBER": ["customerNumber"]}'`` reads the default identifier
traits and ``customerNumber``; ``OMNIBUS_ADAPTER_WEB__SERVICE_REQUEST_EVENTS='+["Callback Requested"]'`` the default
event and that one. A list becomes the default's items followed by the given ones (repeats dropped); a mapping the
default's entries with the given ones added, where a key both have holds a list the given items are added to it (any
other value is replaced). Inside a JSON value (a call center site's ``asterisk_outbound_contexts``) the same is
written as a string: ``"asterisk_outbound_contexts": "+[\\"from-agents\\"]"``.

Written without ``+``, a value replaces its default, as it always did: ``replaced_defaults`` names what such a value
left out of the default, which an adapter logs at start-up (a web deployment that set one trait lost the e-mail and
phone traits without a word: finding F5 of session 20).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, model_validator

EXTEND = "+"
# A field's ``json_schema_extra`` when a value is meant to replace its default (the origins that restrict ``*``): no
# warning when it does.
REPLACED_DEFAULT: dict[str, Any] = {"replaces_default": True}
Collection = list | tuple | dict | set | frozenset


class ExtensibleDefaults(BaseModel):
    """A settings model whose list and mapping fields accept ``+`` followed by JSON: added to the field's default."""

    @model_validator(mode="before")
    @classmethod
    def _added_to_defaults(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        return {name: _extended(cls, name, value) for name, value in values.items()}


def _extended(model: type[BaseModel], name: str, value: Any) -> Any:
    field = model.model_fields.get(name)
    if field is None or field.is_required() or not isinstance(value, str) or not value.lstrip().startswith(EXTEND):
        return value
    default = field.get_default(call_default_factory=True)
    if not isinstance(default, Collection):
        return value  # a text setting may start with "+": only a list or mapping is extended
    try:
        given = json.loads(value.lstrip()[len(EXTEND):])
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: after {EXTEND!r}, a JSON list or object to add to the default ({exc})") from None
    return added(default, given, name)


def added(default: Any, given: Any, name: str = "value") -> Any:
    """``given`` added to ``default`` (``["b", "c"]`` to ``("a", "b")`` is ``["a", "b", "c"]``); ``ValueError`` when
    one is a list and the other a mapping."""
    if isinstance(default, dict) and isinstance(given, dict):
        merged = dict(default)
        for key, item in given.items():
            both_lists = isinstance(merged.get(key), list | tuple) and isinstance(item, list)
            merged[key] = added(merged[key], item, f"{name}.{key}") if both_lists else item
        return merged
    if isinstance(default, list | tuple | set | frozenset) and isinstance(given, list):
        return [*default, *(item for item in given if item not in default)]
    shape = "an object" if isinstance(default, dict) else "a list"
    raise ValueError(f"{name}: its default is {shape}, so {EXTEND!r} takes {shape} to add to it")


def replaced_defaults(settings: BaseModel, env_prefix: str) -> Iterator[tuple[str, list[str]]]:
    """``(setting, what it left out)`` for each list or mapping setting given without ``+`` that lacks part of its
    default: ``("OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS", ["PHONE", "NATIONAL_ID", ...])``; a nested one is named by its
    variable and its path (``OMNIBUS_ADAPTER_CALL_CENTER__SITES (paris.asterisk_outbound_contexts)``). Left out: the
    default's items, keys, or ``key: item`` for an item of a list under a kept key."""
    for name in type(settings).model_fields:
        variable = f"{env_prefix}{name.upper()}"
        yield from _left_out(settings, name, variable)
        yield from _nested(getattr(settings, name), variable, "")


def _left_out(settings: BaseModel, name: str, label: str) -> Iterator[tuple[str, list[str]]]:
    field = type(settings).model_fields[name]
    if name not in settings.model_fields_set or field.is_required() or field.json_schema_extra == REPLACED_DEFAULT:
        return
    default, value = field.get_default(call_default_factory=True), getattr(settings, name)
    missing: list[str] = []
    if isinstance(default, dict) and isinstance(value, dict):
        for key, items in default.items():
            if key not in value:
                missing.append(str(key))
            elif isinstance(items, list | tuple) and isinstance(value[key], list | tuple):
                missing += [f"{key}: {item}" for item in items if item not in value[key]]
    elif isinstance(default, list | tuple | set | frozenset) and isinstance(value, list | tuple | set | frozenset):
        missing = [str(item) for item in default if item not in value]
    if missing:
        yield label, missing


def _nested(value: Any, variable: str, path: str) -> Iterator[tuple[str, list[str]]]:
    """The settings models inside ``value`` (a model, a mapping or list of models), named by ``variable`` and their
    path below it."""
    inner: list[tuple[str, Any]] = []
    if isinstance(value, BaseModel):
        inner = [("", value)]
    elif isinstance(value, dict):
        inner = [(f"{key}.", item) for key, item in value.items() if isinstance(item, BaseModel)]
    elif isinstance(value, list | tuple):
        inner = [(f"{index}.", item) for index, item in enumerate(value) if isinstance(item, BaseModel)]
    for where, model in inner:
        for name in type(model).model_fields:
            yield from _left_out(model, name, f"{variable} ({path}{where}{name})")
            yield from _nested(getattr(model, name), variable, f"{path}{where}{name}.")
