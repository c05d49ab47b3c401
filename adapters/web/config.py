"""Settings of the web-hall adapter (env ``OMNIBUS_ADAPTER_WEB__<FIELD>``)."""

from __future__ import annotations

import hmac

from pydantic import Field, SecretStr, field_validator

from adapters.base.config import AdapterSettings
from bus.identifiers.settings import PhoneRegion
from bus.settings_defaults import REPLACED_DEFAULT
from schemas.enums import IDENTIFIER_TYPES, OFFER_RESPONSES

ENV_PREFIX = "OMNIBUS_ADAPTER_WEB__"

# Segment's documented limits: 32 KB per event, 500 KB per batch request.
MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024

OFFER_KINDS = frozenset({"PRESENTED"}) | OFFER_RESPONSES


# Identify traits read as identifiers by default. No key a master record holds that anyone may type
# (``bus.identifiers.kinds.CLAIMABLE_KEYS``: an account number or IBAN, a card number, a customer number, a national
# ID): one typed in a web form is the visitor's claim, not the system of record's word, and identity links what comes
# with it to the record's holder, so a visitor who typed another customer's number or DNI joined his login, e-mail and
# phone to that customer's master record and took its one login place; the real customer's login then landed apart
# (tests/processors/identity/graph/test_keypad_record_key.py, test_typed_national_id.py). A
# portal whose back end writes the value it verified opts in with
# OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS='+{"ACCOUNT": ["accountNumber"]}' (or NATIONAL_ID...).
DEFAULT_IDENTIFIER_TRAITS: dict[str, tuple[str, ...]] = {
    "EMAIL": ("email",),
    "PHONE": ("phone", "mobile", "phoneNumber", "msisdn"),
    "DEVICE": ("imei", "deviceId"),  # a handset's IMEI is a device identifier
}
# Trait spellings of a claimable key that the defaults do not read (those of ``bus.redact.SENSITIVE_FIELDS`` and these,
# once read by default): one a deployment does not name is dropped and counted, and the
# answer's dropped_traits names its kind and how to read it.
CLAIMABLE_KEY_TRAITS: dict[str, tuple[str, ...]] = {
    "ACCOUNT": ("account", "accountNumber", "account_number", "accountId", "iban"),
    "CARD": ("cardNumber", "card_number"),
    "CUSTOMER_NUMBER": ("customerNumber", "customer_number"),
    "NATIONAL_ID": ("nationalId", "national_id", "ssn"),
}


class WebSettings(AdapterSettings):
    write_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Source name -> Segment write key, e.g. {\"portal-web\": \"...\", \"portal-app\": \"...\"}.",
    )
    source_system: str = Field("segment", description="envelope.source_system of every event.")
    service_request_events: tuple[str, ...] = Field(
        ("Service Request Submitted",),
        description="Track event names that open a back-office handoff (HandoffCreated); a leading + adds to the "
        "default.",
    )
    default_case_type: str = Field(
        "web-service-request", description="case_type of a handoff whose event names none (properties.case_type)."
    )
    offer_events: dict[str, str] = Field(
        default_factory=lambda: {
            "Offer Viewed": "PRESENTED", "Offer Accepted": "ACCEPTED", "Offer Declined": "DECLINED"
        },
        description="Track event name -> PRESENTED (OfferPresented) or an OfferResponse symbol (OfferResponded); a "
        "leading + adds to the defaults.",
    )
    identifier_traits: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_IDENTIFIER_TRAITS),
        description="Identifier type -> trait (or context.traits) names that carry it; a leading + adds to the "
        "defaults (+{\"CUSTOMER_NUMBER\": [\"customerNumber\"]}), without it the value replaces them.",
    )
    group_identifier_type: str | None = Field(
        "ACCOUNT", description="Identifier type a group call's groupId becomes; None keeps it as a trait only. Unlike "
        "an account trait, a groupId is no value the visitor types: the portal's code sends it for the account the "
        "logged-in user's session holds (Segment's group call), as it sends the userId."
    )
    phone_region: PhoneRegion = Field(
        None, description="Region for phone numbers written without a country code (e.g. FR); unset: "
        "OMNIBUS_IDENTIFIERS__DEFAULT_REGION, else +CC or 00CC is required.",
    )
    strict_batches: bool = Field(
        False, description="Answer a batch with any refused message 400 instead of Segment's 200 with the "
        "refusals listed (the good messages are published and the bad ones dead-lettered either way).",
    )
    cors_origins: tuple[str, ...] = Field(
        ("*",), description="Origins allowed to post from a browser (analytics.js); '*' allows any.",
        json_schema_extra=REPLACED_DEFAULT,  # a list of origins restricts '*': it is meant to replace it
    )


    @field_validator("offer_events")
    @classmethod
    def _known_offer_responses(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = {name: kind for name, kind in value.items() if kind not in OFFER_KINDS}
        if unknown:
            raise ValueError(f"offer events must map to one of {sorted(OFFER_KINDS)}: {unknown}")
        return value

    @field_validator("identifier_traits")
    @classmethod
    def _known_identifier_types(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted(set(value) - IDENTIFIER_TYPES)
        if unknown:
            raise ValueError(f"unknown identifier types {unknown}; known: {sorted(IDENTIFIER_TYPES)}")
        return value

    @field_validator("group_identifier_type")
    @classmethod
    def _known_group_type(cls, value: str | None) -> str | None:
        if value is not None and value not in IDENTIFIER_TYPES:
            raise ValueError(f"unknown identifier type {value!r}; known: {sorted(IDENTIFIER_TYPES)}")
        return value

    def source_for_key(self, key: str) -> str | None:
        """The source owning write key ``key``; every key is compared in constant time (``hmac.compare_digest``),
        as the call center's access keys are, so how long a refusal takes says nothing about a guessed key."""
        given, found = key.encode(), None
        for source, candidate in self.write_keys.items():
            if hmac.compare_digest(candidate.get_secret_value().encode(), given):
                found = source
        return found
