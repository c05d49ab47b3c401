"""The error policy shared by every adapter.

- ``RejectedInput``: the input itself is wrong. The sender gets a 4xx with the reason and the original
  bytes go to the dead-letter topic. Retrying the same input cannot help.
- ``Unauthorized``: bad credentials. 401; not dead-lettered (it is not our data).
- ``Unavailable``: Kafka (or the registry) did not acknowledge. 503 with Retry-After; nothing was
  acknowledged, so the sender retries and nothing is lost. Every infrastructure outage becomes this
  (``is_outage``), including one met while writing the dead letter of refused input.
Anything else is a bug: it propagates, the request fails with 500, and nothing is acknowledged.
"""

from __future__ import annotations

from bus.errors import OmnibusError, PublishError


class RejectedInput(OmnibusError):
    """``code`` is a short, bounded label for metrics; ``reason`` is the sentence the sender reads."""

    def __init__(self, reason: str, *, code: str = "invalid", status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


class Unauthorized(OmnibusError):
    def __init__(self, reason: str = "missing or unknown credentials") -> None:
        super().__init__(reason)
        self.reason = reason


class Unavailable(OmnibusError):
    retriable = True

    def __init__(self, reason: str, *, retry_after_s: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the infrastructure did not answer, so the sender must retry later (503):
    any ``PublishError`` (Kafka acknowledged nothing, whatever its cause) and any other ``OmnibusError``
    marked ``retriable`` (the schema registry unreachable or answering 5xx/429, ...). Input errors
    (``RejectedInput``) and bugs are not outages."""
    if isinstance(error, RejectedInput | Unauthorized):
        return False
    return isinstance(error, PublishError) or (isinstance(error, OmnibusError) and error.retriable)
