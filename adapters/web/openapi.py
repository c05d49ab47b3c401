"""OpenAPI 3.1 description of the web hall's ingress (served at ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

from adapters.base.clock import date_time_schema
from adapters.base.http import HEALTH_OPENAPI, unavailable_description
from adapters.base.identifiers import (
    dropped_identifiers_openapi,
    dropped_traits_openapi,
    handoffs_naming_nobody_openapi,
)
from adapters.base.whole_ids import WHOLE_NUMBER_RULE, text_or_number_schema
from adapters.base.wire import MAX_INT_DIGITS
from adapters.web.config import DEFAULT_IDENTIFIER_TRAITS
from adapters.web.fields import MAX_ID_CHARS
from bus.handoff_limits import MAX_CASE_ID_CHARS, MAX_KIND_CHARS, MAX_SUMMARY_CHARS, MAX_TEAM_CHARS
from bus.identifiers.settings import IdentifierSettings
from bus.identifiers.spelling_text import VALUE_RULES, with_value_rules

_DEFAULT_TRAITS = "; ".join(f"{', '.join(names)} as {kind}" for kind, names in DEFAULT_IDENTIFIER_TRAITS.items())

_CALLS = {
    "identify": "Who the visitor is: traits carrying e-mail, phone, national id (an account or card number only where "
    "the deployment reads it: a typed one is the visitor's claim) -> IdentifiersObserved.",
    "track": "Something the visitor did -> InteractionRecorded; service requests also HandoffCreated; "
    "Offer Viewed/Accepted/Declined also OfferPresented/OfferResponded.",
    "page": "A web page view -> InteractionRecorded (WEB_PAGE).",
    "screen": "An app screen view -> InteractionRecorded (APP_SCREEN).",
    "group": "The visitor belongs to a group (groupId becomes an ACCOUNT identifier) -> IdentifiersObserved.",
    "alias": "previousId and userId are the same person -> IdentifiersObserved.",
}
_SHORT = {"identify": "i", "track": "t", "page": "p", "screen": "s", "group": "g", "alias": "a"}

# A portal whose user ids are numbers sends them as JSON numbers: an id or a name given as a whole number is read as
# its decimal text (``adapters.base.whole_ids.whole_text``), as the adapter always did; a fraction, a boolean, an
# object or a list is refused (400 bad_field). The contract says so rather than "string" alone, with the limits the
# adapter holds it to (``whole_ids.TEXT_OR_NUMBER_SCHEMA``: a number below 2^53, the rule first in the description),
# ids of at most ``MAX_ID_CHARS`` characters (``fields.text_id``).
_LONGEST = f"At most {MAX_ID_CHARS} characters."


def _id(description: str = "") -> dict[str, Any]:
    """An id's contract: text of at most ``MAX_ID_CHARS`` characters or a whole number, the rule first."""
    return text_or_number_schema(f"{description} {_LONGEST}".strip(), maxLength=MAX_ID_CHARS)

_MESSAGE = {
    "type": "object",
    "description": "A Segment message (Segment Spec). userId or anonymousId is required.",
    "properties": {
        "type": {"type": "string", "enum": list(_CALLS)},
        "messageId": _id("Sender's id: a re-send of a message under it is a duplicate, also with its ids in their "
                         "other spelling (number or text); another event under a used id is refused (id_conflict) by a "
                         "replica that published the first, else published under event ids of its own."),
        "userId": _id(),
        "anonymousId": _id(),
        "timestamp": date_time_schema("When it happened, by the device's clock (else originalTimestamp, else the "
                                      "receive time).", offset_required=False),
        "originalTimestamp": date_time_schema(offset_required=False),
        "sentAt": date_time_schema("Device time at sending: timestamp is corrected by sentAt - receive time.",
                                   offset_required=False),
        "event": text_or_number_schema("track: name of the event (required)."),
        "name": text_or_number_schema("page/screen: name of the page or screen."),
        "properties": {"type": "object", "description": (
            "A service request track (an event of OMNIBUS_ADAPTER_WEB__SERVICE_REQUEST_EVENTS) opens a back-office "
            f"case from: request_id or case_id (the case's id, at most {MAX_CASE_ID_CHARS} characters), case_type or "
            f"category (at most {MAX_KIND_CHARS}), team (at most {MAX_TEAM_CHARS}), summary, description or subject "
            f"(at most {MAX_SUMMARY_CHARS}), service_tier; a value over its limit, or neither text nor a whole "
            "number, is refused (bad_field). An offer event's offer_id and presentation_id and these case ids "
            "are read as ids are: " + WHOLE_NUMBER_RULE)},
        "traits": {"type": "object", "description": (
            "identify: the keys of OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS become identifiers (by default "
            f"{_DEFAULT_TRAITS}; an account, card or customer number or a national ID only when the deployment adds "
            "it: a value typed in a web form is the visitor's claim); names, birth date, address, country, language "
            "become standard traits; any other key is dropped and named in dropped_traits. "
            "A national-format phone is read in the region of the traits' country, else the adapter's. "
            f"{VALUE_RULES}")},
        "context": {"type": "object"},
        "groupId": _id(f"group: required; an ACCOUNT identifier. {VALUE_RULES}"),
        "previousId": _id("alias: required; the earlier id, anonymous or a user id: a placeholder or test value "
                          "neither accepts (98765, undefined) refuses the alias (400 bad_field), as an anonymousId "
                          "alone would be."),
        "writeKey": {"type": "string", "description": "Write key, when not given by Basic auth."},
    },
    "additionalProperties": True,
}
_ERROR = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean"},
        "error": {"type": "string", "description": "What was wrong, for a person to read."},
        "message": {"type": "string", "description": "Same as error (what the Segment SDKs read)."},
        "code": {"type": "string", "description": "Short machine-readable reason."},
        "accepted": {
            "type": "array",
            "description": "The messages on Kafka, published now or by an earlier request (the duplicates among "
                           "them), by their index in the request: one messageId may be accepted (its first event) "
                           "and rejected (another event under it) in one batch.",
            "items": {
                "type": "object",
                "properties": {"index": {"type": "integer"}, "messageId": {"type": ["string", "null"]}},
            },
        },
        "duplicates": {"type": "integer", "description": "Messages among the accepted ones that were a re-send (the "
                       "same messageId with the same content), published nothing; in a 200 only when not 0."},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"}, "messageId": {"type": ["string", "null"]},
                    "reason": {"type": "string"}, "code": {"type": "string"},
                },
            },
        },
        "dropped_identifiers": dropped_identifiers_openapi("messageId"),
        "dropped_traits": dropped_traits_openapi("messageId"),
        "handoffs_naming_nobody": handoffs_naming_nobody_openapi("messageId"),
    },
}
_RESPONSES = {
    "200": {"description": "Every event of the request was acknowledged by Kafka. A batch with refused messages "
                           "is also 200, as Segment answers: the good ones are published (accepted), each refused "
                           "one is dead-lettered with its reason (rejected).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "400": {"description": "Unreadable body (bad JSON, nesting over 32, NaN/Infinity, lone surrogates), a malformed "
                           "single message, one whose messageId this adapter process already published with another "
                           "event (code id_conflict; a re-send of the same message is a duplicate, 200), a "
                           "service request whose request_id or case_id it published with another request (code "
                           "request_id_conflict), or with "
                           "strict_batches "
                           "a batch with refused messages; dead-lettered.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "401": {"description": "Missing or unknown write key (not dead-lettered)."},
    "413": {"description": "Body over 500 KB (batch) or 32 KB (single call), after decoding."},
    "415": {"description": "Content-Type other than application/json or text/plain, or a Content-Encoding other "
                           "than gzip, deflate or br; dead-lettered."},
    "503": {"description": unavailable_description("messageId"),
            "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
}
_BODY_CONTENT: dict[str, dict[str, Any]] = {"application/json": {}, "text/plain": {}}


def _operation(summary: str, schema: dict[str, Any]) -> dict[str, Any]:
    content = {media: {"schema": schema} for media in _BODY_CONTENT}
    return {
        "summary": summary,
        "security": [{"writeKeyBasic": []}, {}],
        "parameters": [{"name": "Content-Encoding", "in": "header", "schema": {"enum": ["gzip", "deflate", "br"]}}],
        "requestBody": {"required": True, "content": content},
        "responses": _RESPONSES,
    }


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for call, summary in _CALLS.items():
        message = {"$ref": "#/components/schemas/Message"}
        paths[f"/v1/{call}"] = {"post": _operation(summary, message)}
        paths[f"/v1/{_SHORT[call]}"] = {"post": _operation(f"analytics.js short path of /v1/{call}.", message)}
    batch = {
        "type": "object", "required": ["batch"],
        "properties": {
            "batch": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Message"}},
            "context": {"type": "object", "description": "Defaults for every message's context."},
            "sentAt": date_time_schema("Device time at sending, for messages without their own: timestamps are "
                                       "corrected by its skew to the receive time (Segment's rule).",
                                       offset_required=False),
            "writeKey": {"type": "string"},
        },
    }
    paths["/v1/batch"] = {"post": _operation("Several messages (each has its type); 500 KB per request.", batch)}
    paths.update(HEALTH_OPENAPI)
    return paths


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Omnibus web-hall adapter (Segment HTTP Tracking API)",
        "version": "1",
        "description": "Segment-compatible ingress. 32 KB per message, 500 KB per batch; CORS enabled. An integer "
                       f"anywhere in a message has at most {MAX_INT_DIGITS} digits: a longer one refuses the message "
                       "(400 bad_number).",
    },
    "paths": _paths(),
    "components": {
        "schemas": {"Message": _MESSAGE, "Error": _ERROR},
        "securitySchemes": {"writeKeyBasic": {"type": "http", "scheme": "basic",
                                              "description": "Write key as user name, empty password."}},
    },
}


def openapi(identifiers: IdentifierSettings) -> dict[str, Any]:
    """The document a deployment with ``identifiers`` serves: its identifier values described by its own number
    formats (``bus.identifiers.spelling_text``)."""
    return with_value_rules(_DOCUMENT, identifiers)


OPENAPI = openapi(IdentifierSettings())  # with no number format set
