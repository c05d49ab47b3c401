"""OpenAPI 3.1 description of the branch counters' ingress (served at ``/openapi.json``).

The upload is our own contract, so its objects are closed (``additionalProperties: false``): ``UPLOAD`` and ``EVENT``
are also what the ingress and the mapper refuse undeclared fields by (``adapters.base.closed_fields``),
so the description and the refusal cannot disagree. The ``customer`` object takes the traits' usual spellings
(``bus.identifiers.traits``) and refuses any other key in the mapper.
"""

from __future__ import annotations

from typing import Any

from adapters.base.clock import date_time_schema
from adapters.base.http import HEALTH_OPENAPI, unavailable_description
from adapters.base.identifiers import (
    dropped_follow_ups_openapi,
    dropped_handoffs_openapi,
    dropped_identifiers_openapi,
    dropped_offers_openapi,
    dropped_traits_openapi,
    handoffs_naming_nobody_openapi,
)
from adapters.base.offer_disposition import DISPOSITIONS
from adapters.base.whole_ids import text_or_number_schema
from adapters.branch.fields import COUNTER_IDENTIFIER_TYPES, TEXT_OR_NUMBER_FIELDS
from bus.identifiers.kinds import ALIASES
from bus.identifiers.settings import IdentifierSettings
from bus.identifiers.spelling_text import VALUE_RULES, with_value_rules


def _either_case(symbols: frozenset[str] | set[str]) -> list[str]:
    """An enum of symbols the mapper reads case-insensitively: lower case (as documented) and upper case."""
    return sorted({s.lower() for s in symbols} | {s.upper() for s in symbols})


_IDENTIFIER = {
    "type": "object", "required": ["type", "value"], "additionalProperties": False,
    "properties": {
        "type": {"type": "string", "enum": _either_case(COUNTER_IDENTIFIER_TYPES | set(ALIASES)),
                 "description": "Case-insensitive. IBAN is read as ACCOUNT (published as ACCOUNT)."},
        "value": {"type": "string", "description": VALUE_RULES},
    },
}
_OFFER = {
    "type": ["object", "null"], "required": ["offer_id", "offer_version", "response"], "additionalProperties": False,
    "description": "The clerk pitched an offer and recorded the customer's answer: OfferPresented (presented) or "
                   "OfferResponded on marketing.responses.v1, for the customer of the event's identifiers (required "
                   "with it). Null or absent: no offer.",
    "properties": {
        "offer_id": {"type": "string", "minLength": 1, "description": "OfferDefined.offer_id of the offer pitched."},
        "offer_version": {"type": ["integer", "string"], "minimum": 1, "pattern": "^[0-9]*[1-9][0-9]*$",
                          "description": "OfferDefined.version the clerk's screen showed (a whole number from 1)."},
        "response": {"type": "string", "enum": _either_case(DISPOSITIONS),
                     "description": "presented: pitched, no answer yet; else the customer's answer. Case-insensitive."},
    },
}
_TICKET = {
    "type": "object", "required": ["number", "service_type", "issued_at"], "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "description": "Ticket id; default <branch>:<issue day>:<number>."},
        "number": {"type": "string", "description": "Printed number, e.g. A042."},
        "service_type": {"type": "string"},
        "issued_at": date_time_schema(offset_required=True),
        "called_at": date_time_schema("For served/no_show: gives wait_ms.", offset_required=True),
        "counter_id": {"type": "string", "description": "Required for ticket_called and ticket_served."},
    },
}
_TRANSACTION = {
    "type": "object", "required": ["id", "type", "status"], "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "description": "The terminal's own transaction id, unique per terminal and never "
               "reused by it; published as counter:<terminal>:<id> (README, \"Ids are the terminal's\")."},
        "type": {"type": "string", "description": "e.g. cash-deposit, sim-replacement, address-change."},
        "status": {"type": "string", "enum": ["completed", "failed", "cancelled"]},
        "amount": {"type": "object", "required": ["amount_minor", "currency"], "additionalProperties": False,
                   "properties": {"amount_minor": {"type": "integer"}, "currency": {"type": "string"}}},
        "counter_id": {"type": "string"},
        "ticket_id": {"type": "string"},
        "references": {
            "type": "object", "additionalProperties": {"type": "string"},
            "description": "Business references under the deployment's declared names (OMNIBUS_IDENTIFIERS__"
                           "REFERENCE_FIELDS, OMNIBUS_ADAPTER_BRANCH__REFERENCE_FIELDS: a utility's installation "
                           "number), kept whole in the contact's properties, the handoff's intake facts and its "
                           "summary's 'name value' pairs (bus.references); another name refuses the event.",
        },
        "handoff": {
            "type": "object", "required": ["kind"], "additionalProperties": False,
            "description": "Hand the case to the back office: opens one handoff per transaction (docs/handoffs.md).",
            "properties": {
                "kind": {"type": "string", "description": "Case type, e.g. meter-dispute; routes it to a team."},
                "summary": {"type": "string", "description": "What the customer needs, as the clerk wrote it."},
                "team": {"type": "string", "description": "Team the clerk asked for (kept as a fact)."},
            },
        },
        "follow_up": {
            "type": "object", "required": ["handoff_id"], "additionalProperties": False,
            "description": "The customer came back about a case already open: the case records the follow-up "
                           "(HandoffFollowedUp), no second case is opened (docs/handoffs.md).",
            "properties": {
                "handoff_id": {"type": "string", "description": "The open case's id, e.g. the portal's request id."},
                "summary": {"type": "string", "description": "What the customer said about it, as the clerk wrote "
                            "it (identifier values masked)."},
            },
        },
    },
}
EVENT = {
    "type": "object", "required": ["event_id", "kind", "occurred_at"], "additionalProperties": False,
    "properties": {
        "event_id": {"type": "string", "description": "Assigned by the terminal; unique per terminal; deduped on "
                     "(a re-send with the same content is a duplicate; other content under it is refused, "
                     "id_conflict, by an adapter replica that published the first, else published under event ids "
                     "of its own). 5550001 and \"5550001\" are one id, and an event re-sent with its ids spelt the "
                     "other way is a duplicate."},
        "kind": {
            "type": "string", "enum": ["ticket_issued", "ticket_called", "ticket_served", "no_show", "transaction"]
        },
        "occurred_at": date_time_schema(offset_required=True),
        "agent_id": {"type": "string"},
        "ticket": _TICKET,
        "transaction": _TRANSACTION,
        "identifiers": {"type": "array", "items": _IDENTIFIER},
        "offer": _OFFER,
        "customer": {"type": "object", "description": "The person served, as the counter saw them: given_name, "
                     "family_name, full_name, birth_date, address_line, postcode, city, country, preferred_language "
                     "(or their usual spellings, an address object); any other key refuses the event (unknown_field; "
                     "an identifier goes in identifiers)."},
    },
}


def _ids_as_text_or_number() -> None:
    """Type the counter's ids (``fields.TEXT_OR_NUMBER_FIELDS``) as the mapper reads them: text, or a whole number
    read as its decimal text (``adapters.base.whole_ids``), as the web adapter's contract types its ids."""
    sections: dict[str, dict[str, Any]] = {"": EVENT, "ticket": _TICKET, "transaction": _TRANSACTION, "offer": _OFFER}
    for section, names in TEXT_OR_NUMBER_FIELDS.items():
        properties: dict[str, Any] = sections[section]["properties"]
        for name in names:
            spec = properties[name]
            properties[name] = {**spec, **text_or_number_schema(spec.get("description", ""))}


_ids_as_text_or_number()
UPLOAD = {
    "type": "object", "required": ["terminal_id", "branch_id", "events"], "additionalProperties": False,
    "properties": {
        "terminal_id": {"type": "string", "description": "Must be the terminal the bearer token belongs to."},
        "branch_id": {"type": "string"},
        "events": {"type": "array", "minItems": 1, "maxItems": 1000, "items": EVENT,
                   "description": "In the order they happened on the terminal; published in this order."},
    },
}
_ERROR = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean"}, "error": {"type": "string"}, "code": {"type": "string"},
        "accepted": {"type": "array", "items": {"type": "string"}, "description": "event_ids published."},
        "rejected": {"type": "array", "items": {"type": "object", "properties": {
            "index": {"type": "integer"}, "event_id": {"type": ["string", "null"]},
            "reason": {"type": "string"}, "code": {"type": "string"}}}},
        "dropped_identifiers": dropped_identifiers_openapi("event_id"),
        "dropped_traits": dropped_traits_openapi("event_id"),
        "dropped_handoffs": dropped_handoffs_openapi("event_id"),
        "dropped_follow_ups": dropped_follow_ups_openapi("event_id"),
        "dropped_offers": dropped_offers_openapi("event_id"),
        "handoffs_naming_nobody": handoffs_naming_nobody_openapi("event_id"),
    },
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Omnibus branch-counter adapter", "version": "1",
             "description": "Batch uploads from counter terminals and queue-ticket machines (the counter agent)."},
    "paths": {
        "/v1/counter/events": {"post": {
            "summary": "Upload a terminal's events, in order; 512 KB and 1000 events per upload.",
            "security": [{"terminalToken": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": UPLOAD}}},
            "responses": {
                "200": {"description": "Every event was acknowledged by Kafka (duplicates skipped).",
                        "content": {"application/json": {"schema": {"type": "object", "properties": {
                            "success": {"const": True},
                            "accepted": {"type": "integer", "description": "Events of this upload on Kafka: "
                                         "published now or by an earlier upload (the duplicates among them)."},
                            "duplicates": {"type": "integer", "description": "Events among the accepted ones "
                                           "published already, unchanged (by an earlier upload or earlier in this "
                                           "one): a re-send, not published again. An event_id published with other "
                                           "content is rejected instead (400, code id_conflict)."},
                            "dropped_identifiers": dropped_identifiers_openapi("event_id"),
                            "dropped_traits": dropped_traits_openapi("event_id"),
                            "dropped_handoffs": dropped_handoffs_openapi("event_id"),
                            "dropped_follow_ups": dropped_follow_ups_openapi("event_id"),
                            "dropped_offers": dropped_offers_openapi("event_id"),
                            "handoffs_naming_nobody": handoffs_naming_nobody_openapi("event_id")}}}}},
                "400": {"description": "Malformed upload (dead-lettered whole), or malformed events or an "
                                       "event_id already published with other content (code id_conflict): the good "
                                       "ones were published (accepted), each rejected one dead-lettered. A field "
                                       "this description does not declare where it was put is refused (code "
                                       "unknown_field), naming its path and where a field of that name belongs.",
                        "content": {"application/json": {"schema": _ERROR}}},
                "401": {"description": "Missing or unknown token, or a token of another terminal."},
                "413": {"description": "Body over 512 KB."},
                "503": {"description": unavailable_description("event_id per event"),
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
            },
        }},
        **HEALTH_OPENAPI,
    },
    "components": {"securitySchemes": {"terminalToken": {"type": "http", "scheme": "bearer"}}},
}


def openapi(identifiers: IdentifierSettings) -> dict[str, Any]:
    """The document a deployment with ``identifiers`` serves: its identifier values described by its own number
    formats (``bus.identifiers.spelling_text``)."""
    return with_value_rules(_DOCUMENT, identifiers)


OPENAPI = openapi(IdentifierSettings())  # with no number format set
