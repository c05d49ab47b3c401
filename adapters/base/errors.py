"""The error policy shared by every adapter.

- ``RejectedInput``: the input itself is wrong. The sender gets a 4xx with the reason and the original
  bytes go to the dead-letter topic. Retrying the same input cannot help.
- ``Unauthorized``: bad credentials. 401; not dead-lettered (it is not our data); counted and logged by its
  ``cause`` (``bus.refused_credentials``).
- ``Unavailable``: Kafka (or the registry) did not acknowledge. 503 with Retry-After; nothing was
  acknowledged, so the sender retries and nothing is lost. Every infrastructure outage becomes this
  (``is_outage``), including one met while writing the dead letter of refused input. A 503 for a send that
  timed out does not mean nothing landed: the send goes on and Kafka may take it; the sender's retry of the
  same source ids is then a duplicate (``publisher``), never a second copy.
- ``Misconfigured``: Kafka answered, but a topic the adapter publishes to does not exist (``MissingTopicError``):
  configuration, not an outage. A sender still gets the 503 with Retry-After (nothing was
  acknowledged; its retry succeeds once the topics exist); nothing retries it as an outage, and a command
  importing files stops at once with status 2. At start-up the adapter does not start at all
  (``adapters.base.runtime``).
Anything else is a bug: it propagates, the request fails with 500, and nothing is acknowledged.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from bus.errors import MissingTopicError, OmnibusError, PublishError
from bus.refused_credentials import CredentialRefusal

P = ParamSpec("P")
T = TypeVar("T")
MAX_NAMED = 10  # refusals one reason names; more are counted ("and 3 more"), so a reason stays bounded
# ``RejectedInput.code`` of a body that does not parse at all, which no correction of one of its fields can mend
BAD_JSON = "bad_json"  # not JSON (its syntax, or no JSON array or object where one is asked)
BAD_ENCODING = "bad_encoding"  # not UTF-8 (or a lone surrogate), a Content-Encoding that does not decode, not base64
UNPARSED_CODES = frozenset({BAD_JSON, BAD_ENCODING})
# ``RejectedInput.code`` of a field the API does not declare where it was sent: removed (``redrive --unset``), not set
UNKNOWN_FIELD = "unknown_field"


class RejectedInput(OmnibusError):
    """``code`` is a short, bounded label for metrics; ``reason`` is the sentence the sender reads."""

    def __init__(self, reason: str, *, code: str = "invalid", status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


class FieldChecks:
    """Runs a record's independent field reads and refuses the record once, naming every field that failed
    (a CTR missing three required fields was refused naming only the first).

    ``checks(read, *args)`` returns ``read(*args)``, or None (typed as the read's result) when it raised
    ``RejectedInput``, which is kept; ``refuse_any()`` then raises ``combined`` of the kept ones. Use no value
    read before ``refuse_any()`` except to test it (``queue = checks(...) or {}``).
    """

    def __init__(self) -> None:
        self.refused: list[RejectedInput] = []

    def __call__(self, read: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return read(*args, **kwargs)
        except RejectedInput as exc:
            self.refused.append(exc)
            return cast(T, None)

    def add(self, error: RejectedInput) -> None:
        """Keep a refusal found without a read (a field that is there but not allowed)."""
        self.refused.append(error)

    def refuse_any(self) -> None:
        """Raise ``combined(self.refused)`` if any read was refused."""
        if self.refused:
            raise combined(self.refused)


def combined(refused: list[RejectedInput]) -> RejectedInput:
    """One refusal for several of one record: the first's class, code and status, and every reason joined with
    ``; `` (at most ``MAX_NAMED``, then ``and N more``). One refusal is returned as it is."""
    if len(refused) == 1:
        return refused[0]
    reasons = [error.reason for error in refused[:MAX_NAMED]]
    if len(refused) > MAX_NAMED:
        reasons.append(f"and {len(refused) - MAX_NAMED} more")
    error = copy.copy(refused[0])
    error.reason = "; ".join(reasons)
    error.args = (error.reason,)
    return error


class Unauthorized(OmnibusError):
    """401: ``reason`` is answered to the caller (never a secret's value) and says what ``cause`` counts and logs
    (``bus.refused_credentials``: "missing ...", "malformed ...", "unknown ..."). ``challenge``: the
    ``WWW-Authenticate`` value naming the scheme the route asks for (``bus.refused_credentials.BEARER_CHALLENGE``,
    ``BASIC_CHALLENGE``); None for a scheme with no standard challenge (a TaskRouter callback's signature), when
    the 401 carries none."""

    def __init__(self, reason: str, cause: CredentialRefusal, *, challenge: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause
        self.challenge = challenge


class Unavailable(OmnibusError):
    retriable = True

    def __init__(self, reason: str, *, retry_after_s: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class Misconfigured(Unavailable):
    """A topic the adapter publishes to does not exist (``MissingTopicError`` in ``__cause__``); the reason names
    it and ``omnibus topics apply``. Not retriable: waiting does not create a topic."""

    retriable = False


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the infrastructure did not answer, so the sender must retry later (503):
    any ``PublishError`` (Kafka acknowledged nothing, whatever its cause) and any other ``OmnibusError``
    marked ``retriable`` (the schema registry unreachable or answering 5xx/429, ...). Input errors
    (``RejectedInput``), a missing topic (``MissingTopicError``: configuration) and bugs are not outages."""
    if isinstance(error, RejectedInput | Unauthorized | MissingTopicError):
        return False
    return isinstance(error, PublishError) or (isinstance(error, OmnibusError) and error.retriable)
