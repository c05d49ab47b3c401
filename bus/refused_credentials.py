"""Requests refused for their credentials (HTTP 401): counted and logged, never silently (tester34 F16).

A TaskRouter workspace behind a reverse proxy whose public URL the call-center adapter was not told
(``OMNIBUS_ADAPTER_CALL_CENTER__PUBLIC_BASE_URL``: Twilio signs the URL it called), a portal sending a rotated write
key, a counter terminal with a stale token, a CRM calling the screen pop with an old bearer token: each gets 401, and
each looks to operations like a quiet channel. Every 401 of the adapters (``adapters.base.http.error_policy``) and of
the processors' query views (``processors.web_auth.guarded``) counts in ``omnibus_requests_unauthorized_total``
(labels ``component``: ``adapter.web``, ``adapter.branch``, ``adapter.call_center``, ``identity``, ``offers``,
``kpis``; ``reason``: a ``CredentialRefusal``), which the alert ``OmnibusRefusingCredentials`` watches, and logs one
WARNING line per component and reason per ``LOG_WINDOW_S`` seconds with how many were refused since the last one.
The line names the route (its pattern, not the path: a path may hold an identifier) and the peer address; never a
token, key, signature or identifier.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from prometheus_client import Counter

from bus.log_window import LogWindow
from bus.logging import get_logger

LOG_WINDOW_S = 60.0  # at most one line per component and reason per minute; the counter counts every refusal

log = get_logger(__name__)


class CredentialRefusal(StrEnum):
    """Why a request's credentials were refused: the ``reason`` label (a closed set: bounded series)."""

    MISSING = "missing"  # no credentials at all (no Authorization header, no write key, no X-Twilio-Signature)
    MALFORMED = "malformed"  # an Authorization header of another scheme, or one that does not decode
    UNKNOWN = "unknown"  # a key, token or TaskRouter workspace this deployment does not know
    BAD_SIGNATURE = "bad_signature"  # a signed callback whose signature does not match the URL and body
    STALE = "stale"  # a signed callback dated too far from this clock (TWILIO_MAX_AGE_S)
    REPLAYED = "replayed"  # a signed callback already accepted
    WRONG_TERMINAL = "wrong_terminal"  # a terminal's token used for another terminal or branch


REFUSED = Counter(
    "omnibus_requests_unauthorized_total",
    "Requests answered 401 for their credentials, by adapter or processor and reason.",
    ["component", "reason"],
)


class RefusalLog:
    """Counts and logs the 401s of one component (``adapter.web``, ``identity``...)."""

    def __init__(self, component: str, *, window_s: float = LOG_WINDOW_S,
                 clock: Callable[[], float] | None = None) -> None:
        self.component = component
        self._window = LogWindow(window_s) if clock is None else LogWindow(window_s, clock=clock)

    def refused(self, reason: CredentialRefusal, *, route: str, peer: str | None,
                forwarded_for: str | None = None) -> None:
        """Count one refusal; log it when a line is due (the first of its reason, then one per window). The line's
        ``refused``: how many of this reason since the last line, this one included. ``forwarded_for``: the
        request's ``X-Forwarded-For`` (behind an ingress the peer is the ingress; the sender is in this header)."""
        REFUSED.labels(self.component, reason.value).inc()
        since_last_line = self._window.due(reason)
        if since_last_line is not None:
            log.warning("request refused for its credentials (401)", component=self.component, reason=reason.value,
                        route=route, peer=peer, forwarded_for=forwarded_for, refused=since_last_line)


_LOGS: dict[str, RefusalLog] = {}  # component -> its refusal log (one log window per component and reason)


def refusal_log(component: str) -> RefusalLog:
    """The process's one ``RefusalLog`` of ``component``."""
    if component not in _LOGS:
        _LOGS[component] = RefusalLog(component)
    return _LOGS[component]


def route_pattern(request: Any) -> str:
    """The pattern of the route an aiohttp ``request`` matched (``/v1/{tail}``; faust's views are served by aiohttp
    too), not its path, which may hold an identifier; ``"unmatched"`` when it matched none."""
    match_info = getattr(request, "match_info", None)
    resource = getattr(getattr(match_info, "route", None), "resource", None)
    return str(resource.canonical) if resource is not None else "unmatched"


def forwarded_for(request: Any) -> str | None:
    """The ``X-Forwarded-For`` header of ``request`` (the addresses the proxies saw), cut to 200 characters; None
    without one. Logged as the sender says it: a hint for an operator, not an authentication."""
    value = request.headers.get("X-Forwarded-For")
    return str(value)[:200] if value else None
