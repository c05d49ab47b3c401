"""The record keys and values (bytes) a library's log line carries, written as their size (``RecordContentOmitted``,
a filter of the handler ``bus.logging.configure_logging`` sets up). The rest of the logging set-up: ``bus/logging.py``;
repeated lines folded: ``bus/log_repeats.py``; transients and routine warnings lowered: ``bus/log_transients.py``.
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Mapping
from typing import Any

# Library lines print records' keys and values (bytes) and messages holding them, at DEBUG mostly: faust.topics
# "send: topic=%r k=%r v=%r ..." for every record sent (a changelog's too: names, addresses, postcodes, user ids and
# an IBAN's letters were read there), aiokafka's "Sending (key=%s value=%s) to %s", faust's consumer
# "DROPPED MESSAGE ROFF %r: k=%r v=%r", its stream's "Skipping message %r ..." and producer's "_on_published error
# ... message <FutureMessage ...>" (a message's repr shows its key and value), aiokafka's connection "Request to
# %s:%d %d: %s" (a produce request's record batches; a fetch response's). A record's content holds identifiers
# and traits the text scrubber cannot tell apart (a user id, a name or a street in Avro, JSON or msgpack bytes has no
# shape of its own), so every bytes value in a line is written as its size, wherever the library put it: an argument
# that is bytes, a bytes literal in an argument's str/repr (a message, a record, a tuple), or in the line itself
# (f-strings). Text arguments are left to the scrubber (``bus.redact``).
_BYTES_LITERAL = re.compile(r"""(?<![\w'"])b(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""")
_PLAIN = (str, int, float, bool, type(None), BaseException)  # printed as they are (an exception: its type is matched)


class RecordContentOmitted(logging.Filter):
    """Writes every record key and value (bytes) a log line carries as its size (``<812 bytes>``), at any level:
    bytes arguments, bytes inside an argument's str/repr (lazily, when the line is written) and bytes literals in
    the line's text (an argument is printed as before when it holds no bytes). Never raises (see
    ``log_repeats.RepeatLimiter``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            if isinstance(record.msg, str):
                if _has_bytes_literal(record.msg):
                    record.msg = _sizes_for_bytes(record.msg)
                if isinstance(record.args, tuple):
                    record.args = tuple(_omitted(arg) for arg in record.args)
                elif isinstance(record.args, Mapping):
                    record.args = {key: _omitted(arg) for key, arg in record.args.items()}
        except Exception:  # noqa: BLE001, S110 - a filter that raises breaks the library's code path
            pass
        return True


class _ContentOmitted:
    """An argument printed (``%s``, ``%r``) with the bytes literals of its str/repr written as their size."""

    __slots__ = ("_arg",)

    def __init__(self, arg: object) -> None:
        self._arg = arg

    def __str__(self) -> str:
        return _sizes_for_bytes(str(self._arg))

    def __repr__(self) -> str:
        return _sizes_for_bytes(repr(self._arg))


def _omitted(arg: object) -> object:
    if isinstance(arg, bytes | bytearray | memoryview):
        return _size(arg)
    if isinstance(arg, str):
        return _sizes_for_bytes(arg) if _has_bytes_literal(arg) else arg
    if isinstance(arg, _PLAIN):
        return arg
    # wrapped only when it prints bytes: a wrapper breaks a numeric format (``%d`` of a ``Decimal``)
    own_str = type(arg).__str__ is not object.__str__  # else str() is repr(): one look is enough
    return _ContentOmitted(arg) if _has_bytes_literal(repr(arg)) or (own_str and _has_bytes_literal(str(arg))) \
        else arg


def _has_bytes_literal(text: str) -> bool:
    return ("b'" in text or 'b"' in text) and _BYTES_LITERAL.search(text) is not None


def _sizes_for_bytes(text: str) -> str:
    return _BYTES_LITERAL.sub(_literal_size, text)


def _literal_size(match: re.Match[str]) -> str:
    try:
        return _size(ast.literal_eval(match.group(0)))
    except (ValueError, SyntaxError):
        return "<? bytes>"


class _Size(str):
    """``<812 bytes>``, printed so by ``%s`` and ``%r`` alike (no quotes around it)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _size(value: Any) -> str:
    sized = isinstance(value, bytes | bytearray | memoryview | str)
    return _Size("<none>" if value is None else f"<{len(value) if sized else '?'} bytes>")
