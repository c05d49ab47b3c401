"""Bearer tokens on the processors' query views: the screen pop, the offers query, the KPI query.

``OMNIBUS_WEB__TOKENS`` (``bus.config.WebSettings.tokens``) maps a caller's name to its token; empty (the default), no
view asks for one and the network alone decides who calls (README "Who may call what"). Set, a guarded view answers
401 with ``WWW-Authenticate: Bearer`` and ``{"error": reason, "code": "unauthorized"}`` (the adapters' shape:
``bus.refused_credentials.unauthorized_body``) unless the request carries ``Authorization: Bearer <one of the
tokens>`` (RFC 6750, section 3). ``/live``, ``/ready``, ``/metrics`` and
``/openapi.json`` are never guarded (probes, Prometheus, the contract). Tokens are compared in constant time and
never logged or echoed; a refusal is counted and logged (``bus.refused_credentials``).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from faust.web import Request, Response, View
from pydantic import SecretStr

from bus.refused_credentials import (
    BEARER_CHALLENGE,
    CredentialRefusal,
    forwarded_for,
    refusal_log,
    route_pattern,
    unauthorized_body,
)

CHALLENGE = {"WWW-Authenticate": BEARER_CHALLENGE}
# The same words in every guarded view's OpenAPI answers (processors/*/openapi.py).
UNAUTHORIZED = ("The deployment asks for bearer tokens (OMNIBUS_WEB__TOKENS) and the request carries none of them: "
                "WWW-Authenticate: Bearer, the reason in error. Not answered when no token is set.")
ViewHandler = Callable[..., Awaitable[Response]]


class Refused(NamedTuple):
    """Why a request is refused: ``reason`` is answered, ``cause`` counted and logged (``bus.refused_credentials``)."""

    reason: str
    cause: CredentialRefusal


def refusal(authorization: str | None, tokens: Mapping[str, SecretStr]) -> Refused | None:
    """Why a request with this ``Authorization`` header is refused, or None when it may pass (or no token is set)."""
    if not tokens:
        return None
    scheme, _, given = (authorization or "").strip().partition(" ")
    if not authorization:
        return Refused("missing bearer token: this endpoint needs Authorization: Bearer <token> (OMNIBUS_WEB__TOKENS)",
                       CredentialRefusal.MISSING)
    if scheme.lower() != "bearer" or not given.strip():
        return Refused("malformed Authorization header: it must be 'Bearer <token>'", CredentialRefusal.MALFORMED)
    presented = given.strip().encode()
    # every token compared, so the time taken does not tell which caller's token came close
    matches = [hmac.compare_digest(presented, token.get_secret_value().encode()) for token in tokens.values()]
    return None if any(matches) else Refused("unknown bearer token", CredentialRefusal.UNKNOWN)


def authorization(tokens: Mapping[str, SecretStr]) -> dict[str, str]:
    """The header a worker sends to another worker's guarded view: the first token's, none when no token is set."""
    for token in tokens.values():
        return {"Authorization": f"Bearer {token.get_secret_value()}"}
    return {}


def guarded(tokens: Mapping[str, SecretStr], *, component: str) -> Callable[[ViewHandler], ViewHandler]:
    """Decorate a faust view handler ``(self, request, **path) -> Response`` so it first checks the bearer token;
    a refusal is counted and logged as ``component``'s (``bus.refused_credentials``: never the token)."""

    def decorate(handler: ViewHandler) -> ViewHandler:
        @functools.wraps(handler)
        async def checked(self: View, request: Request, *args: Any, **kwargs: Any) -> Response:
            if tokens and (refused := refusal(request.headers.get("Authorization"), tokens)) is not None:
                refusal_log(component).refused(refused.cause, route=route_pattern(request),
                                               peer=getattr(request, "remote", None),  # aiohttp's request
                                               forwarded_for=forwarded_for(request))
                return self.json(unauthorized_body(refused.reason), status=401, headers=dict(CHALLENGE))
            return await handler(self, request, *args, **kwargs)

        return checked

    return decorate
