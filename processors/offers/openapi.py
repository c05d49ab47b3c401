"""OpenAPI 3.1 description of the offers processor's pull query (served at ``/openapi.json`` on its web port, printed
by ``omnibus offers openapi``): ``web.answer`` builds what ``OFFERS_ANSWER`` declares. Every object is closed, so a
field the view returns without declaring it fails ``tests/processors/offers/test_openapi.py``."""

from __future__ import annotations

from typing import Any

from bus.identifiers.settings import IdentifierSettings
from bus.identifiers.spelling_text import VALUE_RULES, with_value_rules
from bus.readiness import (
    HELD_BACK_HEADER,
    HELD_BACK_HEADER_SCHEMA,
    HELD_BACK_KEY,
    HELD_BACK_ON_MISS_FIELD,
    LIVE_PATH,
    PROBE_SCHEMA,
    READY_PATH,
    with_held_back,
)
from processors.offers.caps import Suppression
from processors.offers.definition import Channel
from processors.profile.shapes import TEXT, TIME, Schema, closed, list_of, nullable
from processors.web_auth import UNAUTHORIZED

OPENAPI_PATH = "/openapi.json"
BY_ID_PATH = "/customers/{customer_id}/offers"
LOOKUP_PATH = "/customers/lookup/offers"
REF = "#/components/schemas/"

OFFERS_ANSWER: Schema = with_held_back(closed({
    "customer_id": TEXT,
    "channel": {"type": "string", "enum": [channel.value for channel in Channel]},
    "offers": list_of(closed({
        "offer_id": TEXT, "version": {"type": "integer", "minimum": 1}, "title": TEXT,
        "content": {**TEXT, "description": "The offer's content for this channel (its default without one)."},
        "priority": {"type": "integer", "minimum": 0, "description": "Higher is shown first."},
        "valid_until": nullable(TIME),
    }), "Offers the channel may present now: priority high first, then the least recently presented, then id."),
    "suppressed": list_of(closed({
        "offer_id": TEXT, "reason": {"type": "string", "enum": [reason.value for reason in Suppression]},
    }), "Eligible offers a cap or the customer's \"not now\" (while it lasts: not_now) keep from being presented "
        "now; an offer accepted, declined or opted out of is not listed. Quiet hours hold back outbound pushes only, "
        "never an offer to the customer asking (quiet_hours is not given on these channels)."),
}))
ERROR: Schema = closed({"error": TEXT, "code": {**TEXT, "description": "unauthorized on a 401, unavailable on a 503."},
                        HELD_BACK_KEY: HELD_BACK_ON_MISS_FIELD},
                       required=["error"], description="400: bad channel or identifier; 401: no valid bearer token; "
                       "404: unknown customer; 503: this worker holds only part of the partitions.")

_CHANNEL = {"name": "channel", "in": "query", "required": True,
            "schema": {"type": "string", "enum": [channel.value for channel in Channel]},
            "description": "Case-insensitive."}
_ERROR_BODY = {"content": {"application/json": {"schema": {"$ref": REF + "Error"}}}}


def _answers() -> dict[str, Any]:
    return {"200": {"description": "The offers to present.", "headers": {HELD_BACK_HEADER: HELD_BACK_HEADER_SCHEMA},
                    "content": {"application/json": {"schema": {"$ref": REF + "Offers"}}}},
            "400": {"description": "Unknown channel, or an identifier that does not normalise.", **_ERROR_BODY},
            "401": {"description": UNAUTHORIZED, **_ERROR_BODY},
            "404": {"description": "No customer has this identifier, or an unknown customer id (held_back not null: "
                                   "perhaps not yet).", "headers": {HELD_BACK_HEADER: HELD_BACK_HEADER_SCHEMA},
                    **_ERROR_BODY},
            "503": {"description": "A second offers worker holds part of the partitions (the processor runs as one "
                                   "worker): retry after Retry-After seconds; the error says how many this one holds.",
                    **_ERROR_BODY}}


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Omnibus offers: the pull query", "version": "1",
             "description": "Which offers a channel may present to a customer now (processors/offers/README.md)."},
    "paths": {
        BY_ID_PATH: {"get": {"summary": "By customer id.", "responses": _answers(), "parameters": [
            {"name": "customer_id", "in": "path", "required": True, "schema": TEXT}, _CHANNEL]}},
        LOOKUP_PATH: {"get": {"summary": "By any identifier, normalised as identity links it.", "responses": _answers(),
                              "parameters": [
                                  {"name": "type", "in": "query", "required": True, "schema": TEXT},
                                  {"name": "value", "in": "query", "required": True, "schema": TEXT,
                                   "description": VALUE_RULES}, _CHANNEL]}},
        LIVE_PATH: {"get": {"summary": "Liveness.", "responses": {"200": {
            "description": "Live.", "content": {"application/json": {"schema": PROBE_SCHEMA}}}}}},
        READY_PATH: {"get": {"summary": "Readiness.", "responses": {
            "200": {"description": "Ready.", "content": {"application/json": {"schema": PROBE_SCHEMA}}},
            "503": {"description": "Not ready.", "content": {"application/json": {"schema": PROBE_SCHEMA}}}}}},
    },
    "components": {"schemas": {"Offers": OFFERS_ANSWER, "Error": ERROR}},
}


def schema_of(name: str) -> dict[str, Any]:
    """Component ``name`` as a standalone JSON Schema (2020-12) resolving its ``$ref``s."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": REF + name,
            "components": OPENAPI["components"]}


def openapi(identifiers: IdentifierSettings) -> dict[str, Any]:
    """The document a worker with ``identifiers`` serves: the values looked up described by its number formats."""
    return with_value_rules(_DOCUMENT, identifiers)


OPENAPI = openapi(IdentifierSettings())  # with no number format set
