"""The one wording of a pydantic ``ValidationError`` a user reads: settings (``bus.config``), legacy layouts, handoff
policies, offer files and identifier settings all say a problem this way.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

# A setting whose name has one of these words is a secret: a message names its length, never its value.
SECRET_NAME_WORDS = ("password", "secret", "token", "key")


def describe_validation_error(exc: ValidationError, env_prefix: str | None = None) -> str:
    """Every problem of ``exc`` on one line: ``kafka.security_protocol: Input should be ... (got 'TLS'); ...``: the
    one wording of a pydantic error a user reads (settings, legacy layouts, handoff policies, offer files).

    Each problem is its field path and its reason (``validation_reason``); a check across fields (a model
    validator, with no path) is its reason alone, which names the fields.

    The offending value is quoted, except for secrets (``SECRET_NAME_WORDS``), whose length only is given.
    With ``env_prefix`` (a component's, e.g. ``OMNIBUS_PROCESSOR_IDENTITY__``) each problem also names the
    variable to set: ``hmac_key (OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY): Field required``.
    """
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        if env_prefix and error["loc"]:
            where += f" ({env_prefix}{str(error['loc'][0]).upper()})"
        given = ""
        if "input" in error and not isinstance(error["input"], dict):
            secret = any(word in where.lower() for word in SECRET_NAME_WORDS)
            shown = f"a value of {len(str(error['input']))} characters" if secret else repr(error["input"])
            given = f" (got {shown})"
        reason = f"{validation_reason(error)}{JSON_SHAPE_HINTS.get(error['type'], '')}{given}"
        problems.append(f"{where}: {reason}" if where else reason)  # a check across fields names its fields itself
    return "; ".join(problems)


# What pydantic writes before the message of an error a validator raised (``Value error, BillIssued requires ...``):
# its own wording, which tells a reader nothing.
VALIDATOR_PREFIXES = {"value_error": "Value error, ", "assertion_error": "Assertion failed, "}


def validation_reason(error: ErrorDetails) -> str:
    """The reason of one of pydantic's ``ValidationError.errors()``, as a reader is told it: its message, without the
    prefix pydantic puts before a validator's own (``VALIDATOR_PREFIXES``)."""
    return error["msg"].removeprefix(VALIDATOR_PREFIXES.get(error["type"], ""))


# A mapping or list in an environment variable is written as JSON (``_parse_env_value``); say so with the shape.
JSON_SHAPE_HINTS = {
    "dict_type": ', written as a JSON object, e.g. {"portal-web": "value", "portal-app": "value"}',
    "list_type": ', written as a JSON list, e.g. ["first", "second"]',
    "tuple_type": ', written as a JSON list, e.g. ["first", "second"]',
}
