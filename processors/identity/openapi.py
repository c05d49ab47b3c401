"""OpenAPI 3.1 description of identity's HTTP views, the screen pop (served at ``/openapi.json`` on identity's web
port, printed by ``omnibus identity openapi``).

One declaration of the answer's shape: ``customer_schema`` below for what ``web.ScreenPop.profile`` builds, each profile
section's ``render_schema`` for its part (``processors/profile/registry.py``: a section added there is in the
contract without touching this file). Every object is closed (``additionalProperties: false``), so a field a view
returns without declaring it fails ``tests/processors/identity/test_openapi.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
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
from processors.profile.registry import SECTIONS
from processors.profile.section import ProfileSection
from processors.profile.sections.cards import IDENTIFIER_STATUS_SCHEMA
from processors.profile.shapes import TEXT, Schema, closed, list_of, nullable
from processors.web_auth import UNAUTHORIZED

OPENAPI_PATH = "/openapi.json"
LOOKUP_PATH = "/customers/lookup"
CUSTOMER_PATH = "/customers/{customer_id}"
REF = "#/components/schemas/"

IDENTIFIER: Schema = closed({
    "type": {**TEXT, "description": "IdentifierType symbol: PHONE, EMAIL, ACCOUNT, NATIONAL_ID, CUSTOMER_NUMBER, "
                               "USER_ID, ..."},
    "value": {**TEXT, "description": "Masked (bus/identifiers/masking.py): never the value itself. An account, "
                                "customer number, supply point, e-mail address, web login, anonymous id or device "
                                "ends with ~ and a 3-character keyed tag that tells apart values masked alike "
                                "(EA-****0001~K7Q), the same in every answer and command; values still alike are "
                                "numbered: (1), (2)."},
})

SHARED_HINT: Schema = closed({
    "type": TEXT,
    "value": {**TEXT, "description": "Masked, as in identifiers (the same form for the same value)."},
    "people": {"type": "integer", "minimum": 0,
               "description": "People who use it: the customers named plus without_customer."},
    "customer_ids": list_of(TEXT, "Current ids of the customers it is on; the keeper first."),
    "without_customer": {"type": "integer", "minimum": 0,
                         "description": "People its events show beyond those customers (no customer of their own)."},
    "kept_by": {**nullable(TEXT), "description": "The customer a contact carrying it alone goes to; null: nobody."},
    "links": {"type": "boolean", "description": "False once shared past shared_after: it links nobody."},
    "note": {**TEXT, "description": "The same facts in a sentence for the agent (ask who is calling)."},
}, description="An identifier several people use (pop_hints.shared_hint).")


def customer_schema(sections: Iterable[ProfileSection | type[ProfileSection]] = SECTIONS) -> Schema:
    """The screen pop's shape with ``sections`` (a processor's ``ProfileBook.sections``; the registry's by default)."""
    return with_held_back(closed({
        "customer_id": TEXT,
        "identifiers": list_of({"$ref": REF + "Identifier"}, "The customer's identifiers, masked, sorted."),
        "merged_customer_ids": list_of(TEXT, "Customers merged into this one (their ids resolve here)."),
        "split_customer_ids": list_of(TEXT, "Customers an operator split off this one (omnibus identity split)."),
        "resolved_note": {**nullable(TEXT),
                          "description": "By id: why another customer answers for the id asked for; else null."},
        "shared_identifier": {**nullable({"$ref": REF + "SharedIdentifier"}),
                              "description": "Lookup: the hint for the identifier looked up; null when one person's."},
        "shared_identifiers": list_of({"$ref": REF + "SharedIdentifier"},
                                      "Every other identifier of the customer several people use, each once."),
        "identifier_status": IDENTIFIER_STATUS_SCHEMA,
        **{section.name: section.render_schema for section in sections},
    }, description="The screen pop: one shape whatever the customer holds (a list is [] when empty, never null)."))


ERROR: Schema = closed({
    "error": TEXT,
    "code": {**TEXT, "description": "unavailable on a 503, unauthorized on a 401."},
    "rule": {**TEXT, "description": "The normalisation rule that refused the identifier (400)."},
    HELD_BACK_KEY: HELD_BACK_ON_MISS_FIELD,
}, required=["error"])
_ERROR_BODY = {"content": {"application/json": {"schema": {"$ref": REF + "Error"}}}}


def _answers(description: str) -> dict[str, Any]:
    return {
        "200": {"description": description, "headers": {HELD_BACK_HEADER: HELD_BACK_HEADER_SCHEMA},
                "content": {"application/json": {"schema": {"$ref": REF + "Customer"}}}},
        "401": {"description": UNAUTHORIZED, **_ERROR_BODY},
        "404": {"description": "No such customer (held_back not null: perhaps not yet).",
                "headers": {HELD_BACK_HEADER: HELD_BACK_HEADER_SCHEMA}, **_ERROR_BODY},
        "503": {"description": "Rebalancing, recovering, or the worker owning the data did not answer: retry after "
                               "Retry-After seconds.",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}}, **_ERROR_BODY},
    }


_PROBE = {"200": {"description": "Live / ready.", "content": {"application/json": {"schema": PROBE_SCHEMA}}},
          "503": {"description": "Not ready (same body, with the reason).",
                  "content": {"application/json": {"schema": PROBE_SCHEMA}}}}
_LOOKUP_PARAMETERS = [
    {"name": "type", "in": "query", "required": True, "schema": TEXT,
     "description": "IdentifierType, case-insensitive: PHONE, EMAIL, ACCOUNT, ... (IBAN is read as ACCOUNT). "
                    "The value in any spelling: it is normalised as the adapters do (an IBAN with spaces or in "
                    "lower case finds the same customer)."},
    {"name": "value", "in": "query", "required": True, "schema": TEXT,
     "description": f"As captured ('+' written %2B). {VALUE_RULES}"},
    {"name": "region", "in": "query", "required": False, "schema": TEXT,
     "description": "ISO 3166-1 alpha-2 a phone was dialled in; the deployment's default without it."},
]


def openapi(sections: Iterable[ProfileSection | type[ProfileSection]] = SECTIONS,
            identifiers: IdentifierSettings | None = None) -> dict[str, Any]:
    """The OpenAPI document of a worker whose profile has ``sections`` and whose identifier settings are
    ``identifiers`` (the values looked up are described by its number formats; None: none set)."""
    lookup_answers = _answers("The customer who keeps the identifier (merges followed).")
    lookup_answers["400"] = {"description": "The identifier does not normalise, or an unknown region.", **_ERROR_BODY}
    return with_value_rules({
        "openapi": "3.1.0",
        "info": {"title": "Omnibus identity: the screen pop", "version": "1",
                 "description": "Any identifier in, the whole customer out (processors/identity/README.md). "
                                "Identifier values in answers are masked. Any worker answers: it asks the one owning "
                                "the data."},
        "paths": {
            LOOKUP_PATH: {"get": {"summary": "The customer of an identifier.", "parameters": _LOOKUP_PARAMETERS,
                                  "responses": lookup_answers}},
            CUSTOMER_PATH: {"get": {
                "summary": "A customer by id, merges followed (resolved_note says why another id answers).",
                "parameters": [{"name": "customer_id", "in": "path", "required": True, "schema": TEXT}],
                "responses": _answers("The customer, or the one it was merged into."),
            }},
            LIVE_PATH: {"get": {"summary": "Liveness.", "responses": _PROBE}},
            READY_PATH: {"get": {"summary": "Readiness (owns its partitions, views can answer, caught up).",
                                 "responses": _PROBE}},
        },
        "components": {"schemas": {"Customer": customer_schema(sections), "Identifier": IDENTIFIER,
                                   "SharedIdentifier": SHARED_HINT, "Error": ERROR}},
    }, identifiers or IdentifierSettings())


OPENAPI = openapi()


def schema_of(name: str, document: dict[str, Any] = OPENAPI) -> dict[str, Any]:
    """Component ``name`` of ``document`` as a standalone JSON Schema (2020-12) resolving its ``$ref``s: what a client
    validates an answer with (``jsonschema.Draft202012Validator(schema_of("Customer"))``)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": REF + name,
            "components": document["components"]}
