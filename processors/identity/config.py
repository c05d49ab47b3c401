"""Settings of the identity processor (env prefix ``OMNIBUS_PROCESSOR_IDENTITY__``).

Example: ``OMNIBUS_PROCESSOR_IDENTITY__DEFAULT_REGION=FR``,
``OMNIBUS_PROCESSOR_IDENTITY__MAX_PER_CUSTOMER='{"PHONE": 3}'`` (mappings are merged over the defaults).
"""

from __future__ import annotations

import os
import secrets
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from bus.config import load_component_settings
from bus.errors import ConfigError
from bus.identifiers.settings import ENV_PREFIX as SHARED_PREFIX
from processors.identity.matching.defaults import (
    DEFAULT_MERGE_AT,
    DEFAULT_MU,
    DEFAULT_PERSON_FIELDS,
    DEFAULT_POPULATION,
    DEFAULT_PRIOR,
    DEFAULT_REFUSE_BELOW,
    DEFAULT_UNLINKED_FIELDS,
    DEFAULT_VETOES,
)
from schemas.enums import IDENTIFIER_TYPES

ENV_PREFIX = "OMNIBUS_PROCESSOR_IDENTITY__"
SHARED_KEY_VARIABLE = f"{SHARED_PREFIX}HMAC_KEY"  # the one key every component tokenises with


# Linking order: when an event's identifiers cannot all be linked, the lowest priority ones give way. A system of
# record's customer number (CUSTOMER_NUMBER) ranks above a web login (USER_ID): the master record decides.
DEFAULT_PRIORITIES = {
    "NATIONAL_ID": 100, "CUSTOMER_NUMBER": 95, "USER_ID": 90, "ACCOUNT": 80, "CARD": 70, "EMAIL": 60, "PHONE": 50,
    "SUPPLY_POINT": 40, "DEVICE": 30, "ANONYMOUS_ID": 10,
}
# At most this many identifiers of a type on one customer. One customer number and one login per person, each of its
# own type, so neither takes the other's place; a deployment with two systems of record that
# number their customers each raises CUSTOMER_NUMBER to 2. A supply point is a place's (a meter, a line's socket): a
# customer holds one per home or site, and a limit above one makes it claimable, so the recycled-number rule moves it to
# the next tenant (graph/recycle.py). It is no trait of a person: the matcher does not weigh it
# (matching/defaults.py has no m/u for it), as a household's landline tells no one apart.
# The setting of ``IdentitySettings.max_per_customer``, as operators' refusals name it.
MAX_PER_CUSTOMER_SETTING = "OMNIBUS_PROCESSOR_IDENTITY__MAX_PER_CUSTOMER"
DEFAULT_MAX_PER_CUSTOMER = {
    "NATIONAL_ID": 1, "CUSTOMER_NUMBER": 1, "USER_ID": 1, "ACCOUNT": 20, "CARD": 20, "EMAIL": 5, "PHONE": 5,
    "SUPPLY_POINT": 20, "DEVICE": 20, "ANONYMOUS_ID": 100,
}
# An identifier carried by the events of more than this many people who conflict (the matcher refuses them as
# one: a family phone's household) is shared and stops linking (graph/evidence.py count_person).
DEFAULT_SHARED_AFTER = {
    "NATIONAL_ID": 1, "CUSTOMER_NUMBER": 1, "USER_ID": 1, "ACCOUNT": 3, "CARD": 2, "EMAIL": 3, "PHONE": 3,
    "SUPPLY_POINT": 3, "DEVICE": 3, "ANONYMOUS_ID": 2,
}
# Known test and placeholder values (normalised form), on top of the built-in placeholder patterns.
DEFAULT_BLOCKED = {
    "PHONE": ["+8613800138000", "+8613888888888", "+8618888888888", "+12025550100", "+14155552671",
              "+447700900000", "+15555555555"],
    "EMAIL": ["test@test.com", "test@example.com", "noreply@example.com", "no-reply@example.com",
              "unknown@unknown.com", "none@none.com", "a@a.com"],
}


def _merged(defaults: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    unknown = set(given or {}) - set(IDENTIFIER_TYPES)
    if unknown:
        raise ValueError(f"unknown identifier types: {sorted(unknown)}")
    return {**defaults, **(given or {})}


class IdentitySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hmac_key: SecretStr = Field(
        description="Key of the HMAC that turns a national ID into the token stored and published instead."
    )
    default_region: str | None = Field(
        None, description="Region (ISO 3166 alpha-2) of phone numbers written without +country or 00; unset = "
        "OMNIBUS_IDENTIFIERS__DEFAULT_REGION, the one setting every adapter falls back to too.")
    priorities: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    max_per_customer: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_MAX_PER_CUSTOMER))
    shared_after: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_SHARED_AFTER))
    blocked_values: dict[str, list[str]] = Field(
        default_factory=lambda: {kind: list(values) for kind, values in DEFAULT_BLOCKED.items()}
    )
    dedupe_window: int = Field(
        16, ge=1, le=256,
        description="Events remembered per identifier node to drop duplicates (see graph/protocol.md).",
    )
    batch_size: int = Field(500, gt=0, description="Records handled per batch (one acknowledgement wait).")
    batch_within_s: float = Field(
        0.005, gt=0, description="Longest wait to fill a batch, in seconds. faust waits it again after every batch, "
        "so each hop can add it: 0.005 rather than 0.02 halved the latency at a low rate at the same CPU per event "
        "(tests/bench/results/identity_latency.md).")
    bulk_intake: bool = Field(
        True, description="Intake takes its records from faust's fetch in bulk, not one by one (bus.consume_bulk)."
    )
    bulk_graph: bool = Field(
        True, description="The graph agent takes its records from faust's fetch in bulk, not one by one "
        "(bus.consume_bulk; #9: faust's per-record path was a floor of the graph stage)."
    )
    fast_path: bool = Field(True, description="Send repeat contacts straight to their customer's root (#9).")
    fast_apply_at_intake: bool = Field(
        True, description="A repeat contact whose customer root is on a graph partition this worker owns is "
        "applied at intake, with no graph round trip (#9; the root checks the claim all the same).")
    intake_waits_for_graph_s: float = Field(
        1.0, ge=0, description="Longest wait, in seconds, before a full intake batch (a backlog) for the graph to "
        "handle what this worker sent it, so repeat contacts find their customer in the fast path's view "
        "(processors/identity/graph_progress.py); 0 never waits.")
    fast_path_identifiers: int = Field(
        1_000_000, gt=0, description="Identifiers the fast path's view of customer.identifiers.v1 holds at most."
    )
    match_prior: float = Field(DEFAULT_PRIOR, description="log2 prior odds that a candidate pair is one person.")
    match_population: int = Field(
        DEFAULT_POPULATION, gt=0, description="People the customer base holds: a pair with no identifier in common "
        "starts from a prior log2(match_population / 3000) bits lower than match_prior (trained on 3000 people).")
    match_merge_at: float = Field(
        DEFAULT_MERGE_AT, description="Match weight (bits) at or above which two customers merge."
    )
    match_refuse_below: float = Field(
        DEFAULT_REFUSE_BELOW, description="Match weight (bits) below which a link is refused; between: review."
    )
    match_mu: dict[str, dict[str, tuple[float, float]]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_MU.items()},
        description="m/u probabilities per compared field and level (JSON; merged per field over the defaults).",
    )
    name_close: float = Field(0.86, gt=0, le=1, description="Jaro-Winkler similarity from which names are close.")
    address_close: float = Field(85.0, gt=0, le=100, description="Token-sort ratio (%) from which addresses are close.")
    match_vetoes: tuple[str, ...] = Field(
        DEFAULT_VETOES, description="Compared fields that refuse a merge when they differ, whatever the weight."
    )
    match_person_fields: tuple[str, ...] = Field(
        DEFAULT_PERSON_FIELDS, description="A merge needs one of these fields to agree; otherwise it goes to review."
    )
    match_unlinked_fields: tuple[str, ...] = Field(
        DEFAULT_UNLINKED_FIELDS, description="A merge of two customers with no identifier in common needs one of these "
        "fields to agree (exact or close) besides its weight; otherwise it goes to review. Name and birth date are "
        "no secret. Empty: the weight alone decides, as before.")
    blocking: bool = Field(True, description="Look for candidates without a common identifier (blocking index).")
    match_review_unlinked: bool = Field(
        False, description="Send a pair with no identifier in common (met on traits alone: same name, birth date, "
        "postcode) to review instead of merging it at MATCH_MERGE_AT. Off: on the quality bench it puts about a "
        "third of all people in the review queue (tests/bench/results/identity_quality.md).")
    record_lines_name: Literal["holder", "user"] = Field(
        "holder", description="Whom a system of record's line names beside its mobiles and e-mails. holder: the "
        "account's holder (a family plan's billing line puts the payer's name beside each member's MSISDN; a member's "
        "own sign-up takes their number). user: each line's own user (a telecom master, one line a subscription with "
        "its user's name and birth date): the line keeps its mobile and e-mail against a caller or a sign-up refused "
        "as another person (processors/identity/README.md, \"A subscriber's line keeps its mobile\").")
    web_port: int | None = Field(6066, ge=0, le=65535, description="Screen-pop HTTP port; unset disables it.")
    contacts_store: Literal["rocksdb", "memory"] = Field(
        "rocksdb", description="Where a worker keeps the contact records a split or a merge moves (the "
        "identity-contacts table, each with its whole input record): rocksdb, on disk in the worker's own data "
        "directory (under TMPDIR; about 320 bytes of disk a kept contact, under 1 MiB of memory per partition "
        "whatever their number), or memory, in the heap (about 200-260 bytes a contact; #9). Restored from the "
        "changelog at every start either way.")

    @field_validator("hmac_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("the HMAC key must be at least 16 characters")
        return value

    @field_validator("priorities", "max_per_customer", "shared_after", mode="before")
    @classmethod
    def _over_defaults(cls, value: dict[str, int] | None, info: Any) -> dict[str, int]:
        defaults = {"priorities": DEFAULT_PRIORITIES, "max_per_customer": DEFAULT_MAX_PER_CUSTOMER,
                    "shared_after": DEFAULT_SHARED_AFTER}[info.field_name]
        return _merged(defaults, value)

    @field_validator("match_mu", mode="before")
    @classmethod
    def _mu_over_defaults(cls, value: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
        return {**{k: dict(v) for k, v in DEFAULT_MU.items()}, **(value or {})}

    @field_validator("blocked_values", mode="before")
    @classmethod
    def _blocked_over_defaults(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]]:
        return _merged(DEFAULT_BLOCKED, value)


def load_identity_settings(*, token_key_needed: bool = True, **overrides: object) -> IdentitySettings:
    """Identity's settings from ``OMNIBUS_PROCESSOR_IDENTITY__*`` (``ConfigError`` naming what is wrong).

    The token key is one key for every component (``bus.identifiers.settings``): unless identity's own
    ``OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY`` is set, ``OMNIBUS_IDENTIFIERS__HMAC_KEY`` is used; neither set is
    an error naming both variables, unless ``token_key_needed`` is False: a command that tokenises nothing
    (``identity review list | accept | reject`` read the matcher's settings and publish identifiers already
    tokenised) then gets a random key no one knows, so it never asks for a secret it does not use.
    """
    shared = os.environ.get(SHARED_KEY_VARIABLE)
    if "hmac_key" not in overrides and not os.environ.get(f"{ENV_PREFIX}HMAC_KEY") and shared:
        overrides = {**overrides, "hmac_key": shared}
    if not token_key_needed and "hmac_key" not in overrides and not os.environ.get(f"{ENV_PREFIX}HMAC_KEY"):
        overrides = {**overrides, "hmac_key": secrets.token_urlsafe(32)}  # never used: nothing is tokenised
    try:
        return load_component_settings(IdentitySettings, ENV_PREFIX, **overrides)
    except ConfigError as exc:  # name the shared variable first: it is the one the README sets everywhere
        missing = f"hmac_key ({ENV_PREFIX}HMAC_KEY): Field required"
        raise ConfigError(str(exc).replace(missing, f"hmac_key: set {SHARED_KEY_VARIABLE} (the token key of every "
                                           f"component, >= 16 characters; {ENV_PREFIX}HMAC_KEY also works)")) from None
