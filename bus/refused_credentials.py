"""Requests refused for their credentials (HTTP 401): counted and logged, never silently.

A TaskRouter workspace behind a reverse proxy whose public URL the call-center adapter was not told
(``OMNIBUS_ADAPTER_CALL_CENTER__PUBLIC_BASE_URL``: Twilio signs the URL it called), a portal sending a rotated write
key, a counter terminal with a stale token, a CRM calling the screen pop with an old bearer token: each gets 401, and
each looks to operations like a quiet channel. Every 401 of the adapters (``adapters.base.http.error_policy``) and of
the processors' query views (``processors.web_auth.guarded``) counts in ``omnibus_requests_unauthorized_total``
(labels ``component``: ``adapter.web``, ``adapter.branch``, ``adapter.call_center``, ``identity``, ``offers``,
``kpis``; ``reason``: a ``CredentialRefusal``), which the alerts ``OmnibusRefusingCredentials`` and
``OmnibusCredentialsKeptRefused`` watch.

The log (logger ``bus.refused_credentials``, a WARNING ``REFUSED_LINE``): the first
refusal of a component and reason at once, then at most one line per ``LOG_WINDOW_S`` seconds. A line's ``refused``
is how many of that reason were refused since the previous line. Refusals held within a window are written when the
window ends (a timer on the process's event loop; without a running loop, with the next refusal), and those still
held when the process exits at exit: a flood that stops shows its size a minute later at the latest, not with the
next refusal hours later. Its other fields: ``component``, ``reason``, ``route`` (the route's pattern, not the path:
a path may hold an identifier), ``peer`` (the address the request came from: behind an ingress, the ingress) and
``forwarded_for`` (the request's ``X-Forwarded-For``, where an ingress names the sender) of the last refusal the
line counts, and ``routes``, ``peers`` and ``forwarded_fors``: each route, peer and ``X-Forwarded-For`` of the
refusals it counts with how many of them came by it (the ``MAX_NAMED`` commonest, the rest as ``other``): a
line counting the refusals of two misconfigured senders names both. Never a token, key, signature or identifier.

A 401's body is the adapters' error shape, ``{"error": reason, "code": "unauthorized"}`` (``unauthorized_body``),
at every adapter and every guarded processor view.

The ``WWW-Authenticate`` challenge of a 401 names the scheme its route asks for (RFC 9110 section 11.6.1):
``BEARER_CHALLENGE`` (RFC 6750), ``BASIC_CHALLENGE`` (RFC 7617).
"""

from __future__ import annotations

import asyncio
import atexit
import time
from collections import Counter as Tally
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from prometheus_client import Counter

from bus.log_window import LogWindow
from bus.logging import get_logger

LOG_WINDOW_S = 60.0  # at most one line per component and reason per minute; the counter counts every refusal
REFUSED_LINE = "request refused for its credentials (401)"  # the log line's event, named in the alerts' runbook
REALM = "omnibus"
BEARER_CHALLENGE = f'Bearer realm="{REALM}"'  # Authorization: Bearer <token> (RFC 6750 section 3)
BASIC_CHALLENGE = f'Basic realm="{REALM}"'  # Authorization: Basic <base64 of user:password> (RFC 7617)

MAX_NAMED = 10  # routes, peers and X-Forwarded-For values a line names one by one; the rest are counted as "other"
UNAUTHORIZED_CODE = "unauthorized"  # the ``code`` of every 401's body

log = get_logger(__name__)


def unauthorized_body(reason: str) -> dict[str, str]:
    """The body of a 401: ``{"error": reason, "code": "unauthorized"}``, the adapters' error shape (an adapter's and
    a processor's query view's alike: a caller matching on ``code`` finds every refusal)."""
    return {"error": reason, "code": UNAUTHORIZED_CODE}


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
    """Counts and logs the 401s of one component (``adapter.web``, ``identity``...). ``clock``: seconds, monotonic
    (the log window's; the window-end timer runs on the event loop's own clock)."""

    def __init__(self, component: str, *, window_s: float = LOG_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.component = component
        self._window = LogWindow(window_s, clock=clock)
        self._last: dict[CredentialRefusal, tuple[str, str | None, str | None]] = {}  # route, peer, forwarded_for
        # reason -> how many of the refusals since its last line came by each route, peer and X-Forwarded-For
        self._sources: dict[CredentialRefusal, tuple[Tally[str], Tally[str], Tally[str]]] = {}
        # reason -> the loop and timer writing its held count at the window's end
        self._timers: dict[CredentialRefusal, tuple[asyncio.AbstractEventLoop, asyncio.TimerHandle]] = {}

    def refused(self, reason: CredentialRefusal, *, route: str, peer: str | None,
                forwarded_for: str | None = None) -> None:
        """Count one refusal; log it when a line is due (the first of its reason, then one per window), else hold
        it for the line at the window's end. ``forwarded_for``: the request's ``X-Forwarded-For`` (behind an
        ingress the peer is the ingress; the sender is in this header)."""
        REFUSED.labels(self.component, reason.value).inc()
        self._last[reason] = (route, peer, forwarded_for)
        routes, peers, forwarded = self._sources.setdefault(reason, (Tally(), Tally(), Tally()))
        routes[route] += 1
        if peer:
            peers[peer] += 1
        if forwarded_for:
            forwarded[forwarded_for] += 1
        since_last_line = self._window.due(reason)
        if since_last_line is not None:
            self._write(reason, since_last_line)
        else:
            self._end_window_later(reason)

    def _end_window_later(self, reason: CredentialRefusal) -> None:
        """Have the running event loop write the held count when the window ends (once per window)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a command, a plain call): the count goes with the next line, or at exit
            return
        scheduled = self._timers.get(reason)
        if scheduled is None or scheduled[0] is not loop:  # none yet, or on a loop that has ended since
            self._timers[reason] = (loop, loop.call_later(self._window.closes_in(reason), self._window_end, reason))

    def flush(self) -> None:
        """Write now the refusals held since each reason's last line (at exit: ``flush_refusals``)."""
        for reason in self._window.held_kinds():
            self._window_end(reason)  # type: ignore[arg-type]  # the window's kinds are reasons

    def _window_end(self, reason: CredentialRefusal) -> None:
        scheduled = self._timers.pop(reason, None)
        if scheduled is not None:
            scheduled[1].cancel()  # a no-op when it is the one running
        held = self._window.take(reason)
        if held:
            self._write(reason, held)

    def _write(self, reason: CredentialRefusal, refused: int) -> None:
        route, peer, forwarded_for = self._last[reason]
        routes, peers, forwarded = (_named(tally) for tally in self._sources.pop(reason, (Tally(),) * 3))
        log.warning(REFUSED_LINE, component=self.component, reason=reason.value,
                    route=route, peer=peer, forwarded_for=forwarded_for, refused=refused, routes=routes, peers=peers,
                    forwarded_fors=forwarded)


def _named(tally: Tally[str]) -> dict[str, int]:
    """``tally``'s ``MAX_NAMED`` commonest values with their counts, the rest summed under ``other``."""
    named = dict(tally.most_common(MAX_NAMED))
    rest = sum(tally.values()) - sum(named.values())
    return {**named, "other": rest} if rest else named


_LOGS: dict[str, RefusalLog] = {}  # component -> its refusal log (one log window per component and reason)


def refusal_log(component: str) -> RefusalLog:
    """The process's one ``RefusalLog`` of ``component``."""
    if component not in _LOGS:
        _LOGS[component] = RefusalLog(component)
    return _LOGS[component]


@atexit.register
def flush_refusals() -> None:
    """Write the refusals every component's log still holds (registered to run at exit, before ``logging``'s own
    shutdown: ``atexit`` runs the last registered first)."""
    for refusals in list(_LOGS.values()):
        refusals.flush()


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
