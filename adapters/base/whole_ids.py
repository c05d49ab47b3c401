"""Ids a sender may write as text or as a whole number: ``424242`` and ``"424242"`` are one id, and one content.

A channel's contract types such an id ``string`` or ``integer``; the adapter reads it as its text (``whole_text``)
and computes its content digest (``adapters.base.mapper.content_digest``: a re-send is a duplicate, other content
under a used id a conflict) over the record with those ids as text (``texts_of``), so that a re-send that spells an
id the other way is a duplicate, not a conflict. Used by the web adapter (``adapters.web.fields``) and the counter
(``adapters.branch.spelling``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapters.base.wire import MAX_INT_DIGITS

# A whole number written with a fraction or an exponent (``770002.0``, ``1e3``: JSON Schema 2020-12 calls it an
# integer) reaches us as a double, which holds every whole number exactly only below 2**53: a larger one is refused
# rather than read as digits the sender never wrote (``1e25`` is 10000000000000000905969664 as a double).
MAX_EXACT_FLOAT = 2**53
# The contract of such an id (OpenAPI 3.1, JSON Schema 2020-12): text, or an integer below 2^53 in magnitude. JSON
# Schema calls ``770002.0`` and ``1e20`` integers alike, and cannot tell the spellings apart: bounded at
# ``MAX_EXACT_FLOAT``, every number the contract accepts is read (``whole_text``) whatever its spelling, where a bound
# of 10^40 let ``1e20`` and ``9007199254740993.0`` through that the reader refuses. An integer written in digits alone
# is still read up to ``MAX_INT_DIGITS`` digits (``adapters.base.wire``), beyond the contract: the rule says so.
TEXT_OR_NUMBER_SCHEMA: dict[str, Any] = {"type": ["string", "integer"], "exclusiveMaximum": MAX_EXACT_FLOAT,
                                         "exclusiveMinimum": -MAX_EXACT_FLOAT}
# The first sentence of the description of every such field, in every channel's contract.
WHOLE_NUMBER_RULE = (
    f"Text, or a whole number below 2^53 ({MAX_EXACT_FLOAT}) in magnitude, read as its decimal text in any spelling: "
    "424242, 424242.0 and 4.24242e5 are the id \"424242\"; one written with a fraction or an exponent from 2^53 up "
    "(1e20, 9007199254740993.0) is refused (400 bad_field: a double does not hold its digits); one written in digits "
    f"alone is also read beyond 2^53, at most {MAX_INT_DIGITS} digits; send a larger id as text.")


def text_or_number_schema(description: str = "", **more: Any) -> dict[str, Any]:
    """The contract of a field read by ``whole_text``: ``TEXT_OR_NUMBER_SCHEMA`` and ``more`` (a ``maxLength``), its
    description ``WHOLE_NUMBER_RULE`` then ``description``."""
    said = f"{WHOLE_NUMBER_RULE} {description}".strip()
    return {**TEXT_OR_NUMBER_SCHEMA, **more, "description": said}


def whole_text(value: Any) -> str | None:
    """``value`` as the text an id is read as: a string as it is, a whole number (an integer, or a float with no
    fractional part below ``MAX_EXACT_FLOAT``) as its decimal text, ``770002.0`` as ``"770002"``; None for anything
    else (a fraction, a boolean, an object, a list, null). Integers of more than ``adapters.base.wire.MAX_INT_DIGITS``
    digits never get here: ``adapters.base.wire`` refuses the body holding one."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is float and value.is_integer() and abs(value) < MAX_EXACT_FLOAT:
        return str(int(value))
    return None


def id_text(value: Any) -> str | None:
    """An id as it is read and as its content is digested: ``whole_text``, white space around it off (``" 5550003"``
    is ``"5550003"``: the readers strip it); None for what is neither text nor a whole number."""
    whole = whole_text(value)
    return None if whole is None else whole.strip()


def texts_of(values: Mapping[str, Any], names: Iterable[str]) -> dict[str, str] | None:
    """The ``names`` of ``values`` holding a whole number, or text with white space around it, as the text they are
    read as (``id_text``); None when none does (the common case: the caller then keeps ``values`` as they are, and a
    digest over them stays the one it was)."""
    found: dict[str, str] | None = None
    for name in names:
        value = values.get(name)
        if value is None or (type(value) is str and value == value.strip()):
            continue
        text = id_text(value)
        if text is not None:
            found = found or {}
            found[name] = text
    return found
