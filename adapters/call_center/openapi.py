"""OpenAPI 3.1 description of the call-center ingress (served at ``/openapi.json``)."""

from __future__ import annotations

from typing import Any

from adapters.base.http import HEALTH_OPENAPI, unavailable_description
from adapters.base.identifiers import (
    dropped_handoffs_openapi,
    dropped_identifiers_openapi,
    dropped_offers_openapi,
    dropped_traits_openapi,
    handoffs_naming_nobody_openapi,
)
from adapters.call_center.mapper_ctr import REQUIRED_FIELDS

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "code": {"type": "string"}},
    "required": ["error", "code"],
}
_SUMMARY = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer", "description": "Records published now or already published before."},
        "published_events": {"type": "integer"},
        "duplicates": {"type": "integer", "description": "Records already published (or an older CTR version)."},
        "rejected": {
            "type": "array",
            "description": "Records refused and dead-lettered; the others were published.",
            "items": {"type": "object", "properties": {
                "index": {"type": "integer"}, "reason": {"type": "string"}, "code": {"type": "string"}}},
        },
        "dropped_identifiers": dropped_identifiers_openapi(),
        "dropped_traits": dropped_traits_openapi(),
        "dropped_handoffs": dropped_handoffs_openapi(),
        "dropped_offers": dropped_offers_openapi(),
        "handoffs_naming_nobody": handoffs_naming_nobody_openapi(),
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Every record was refused (reason given); they were dead-lettered.",
        401: "Unknown access key, workspace or signature.",
        413: "Body larger than max_body_bytes.",
        503: unavailable_description("records (a CTR version, a CDR line, a TaskRouter event Sid)"),
    }
    return {str(s): {"description": text[s], "content": {"application/json": {"schema": _ERROR}}} for s in statuses}


_KEY_SECURITY: list[dict[str, list[str]]] = [{"firehoseAccessKey": []}, {"bearer": []}, {"basicKey": []}]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Omnibus call-center adapter",
        "version": "1.0.0",
        "description": "Ingests call records of every site; answers 2xx only after Kafka acknowledged.",
    },
    "components": {
        "securitySchemes": {
            "firehoseAccessKey": {"type": "apiKey", "in": "header", "name": "X-Amz-Firehose-Access-Key"},
            "bearer": {"type": "http", "scheme": "bearer"},
            "basicKey": {"type": "http", "scheme": "basic", "description": "The site key as user name."},
            "twilioSignature": {"type": "apiKey", "in": "header", "name": "X-Twilio-Signature"},
        }
    },
    "paths": {
        "/v1/connect/ctr": {"post": {
            "summary": "Amazon Connect contact trace records",
            "description": "One CTR object, a JSON array of CTRs, JSON lines, or a Kinesis Data Firehose HTTP "
                           "endpoint delivery. The access key names the site. Gzip bodies accepted.",
            "security": _KEY_SECURITY,
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"oneOf": [
                    {"type": "object", "description": "A CTR; the fields read are listed in the adapter's README.",
                     "required": list(REQUIRED_FIELDS),
                     "properties": {name: {"type": "string", "description": why}
                                    for name, why in REQUIRED_FIELDS.items()}},
                    {"type": "array", "items": {"type": "object"}},
                    {"type": "object", "properties": {"requestId": {"type": "string"},
                                                      "timestamp": {"type": "integer"},
                                                      "records": {"type": "array"}}},
                ]}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            }},
            "responses": {"200": {"description": "Published (or already published); for Firehose deliveries "
                                                 "the body is {requestId, timestamp}.",
                                  "content": {"application/json": {"schema": _SUMMARY}}},
                          **_errors(400, 401, 413, 503)},
        }},
        "/v1/asterisk/cdr": {"post": {
            "summary": "Asterisk Master.csv CDR lines",
            "description": "CSV text in cdr_csv column order, one CDR per line (one whose quoted field holds a line "
                           "break spans lines: send it whole in one body); the access key names the site. A refused "
                           "line is one `rejected` entry and one dead letter, the others published.",
            "security": _KEY_SECURITY,
            "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}},
            "responses": {"200": {"description": "Published (or already published).",
                                  "content": {"application/json": {"schema": _SUMMARY}}},
                          **_errors(400, 401, 413, 503)},
        }},
        "/v1/twilio/taskrouter": {"post": {
            "summary": "Twilio TaskRouter event callback",
            "description": "The workspace's EventCallbackUrl. WorkspaceSid names the site; X-Twilio-Signature is "
                           "verified with that site's auth token.",
            "security": [{"twilioSignature": []}],
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object",
                "properties": {"EventType": {"type": "string"}, "WorkspaceSid": {"type": "string"},
                               "TaskSid": {"type": "string"}, "TaskAttributes": {"type": "string"},
                               "Timestamp": {"type": "string"}},
                "required": ["EventType", "WorkspaceSid"],
            }}}},
            "responses": {"204": {"description": "Recorded (and, for a task's last event, published)."},
                          **_errors(400, 401, 413, 503)},
        }},
        **HEALTH_OPENAPI,
    },
}
