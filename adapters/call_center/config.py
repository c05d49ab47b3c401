"""Settings of the call-center adapter (env ``OMNIBUS_ADAPTER_CALL_CENTER__<FIELD>``).

One process serves several sites. A request is attributed to a site by its credential: the access
key a site's Connect Firehose stream or CDR shipper sends, or the TaskRouter workspace whose callbacks
are signed with that site's Twilio auth token. ``sites`` is given as JSON in the environment, e.g.
``OMNIBUS_ADAPTER_CALL_CENTER__SITES='{"paris": {"access_keys": ["..."], "sla_threshold_s": 20}}'``.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import (
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from adapters.base.config import AdapterSettings
from bus.config import TimeZoneName
from bus.identifiers.kinds import CLAIMABLE_KEYS
from bus.identifiers.settings import PhoneRegion
from bus.identifiers.traits import TRAIT_KEYS
from bus.settings_defaults import REPLACED_DEFAULT, ExtensibleDefaults
from schemas.enums import INTERACTION_OUTCOMES

ENV_PREFIX = "OMNIBUS_ADAPTER_CALL_CENTER__"

# Master.csv columns always written by cdr_csv, in order; then the optional ones cdr.conf enables.
ASTERISK_BASE_COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
)
ASTERISK_OPTIONAL_COLUMNS = frozenset({"uniqueid", "userfield", "peeraccount", "linkedid", "sequence"})


class SiteSettings(ExtensibleDefaults):
    model_config = ConfigDict(frozen=True, extra="forbid")

    access_keys: tuple[SecretStr, ...] = Field(
        (), description="Keys this site's Connect Firehose stream / CDR shipper sends (X-Amz-Firehose-Access-Key, "
        "Bearer token or Basic user name)."
    )
    twilio_workspace_sids: tuple[str, ...] = Field((), description="TaskRouter workspaces routing this site's calls.")
    twilio_auth_token: SecretStr | None = Field(None, description="Auth token that signs those workspaces' callbacks.")
    sla_threshold_s: float = Field(20.0, gt=0, description="Answered within this many seconds counts toward the SLA.")
    queue_sla_threshold_s: dict[str, float] = Field(
        default_factory=dict, description="Per-queue thresholds overriding sla_threshold_s (queue name -> seconds)."
    )
    timezone: TimeZoneName = Field("UTC", description="Zone of Master.csv times when Asterisk runs with usegmtime=no.")
    phone_region: PhoneRegion = Field(
        None, description="Region (e.g. FR) for caller numbers written without +country; unset: "
        "OMNIBUS_IDENTIFIERS__DEFAULT_REGION.",
    )
    asterisk_outbound_contexts: tuple[str, ...] = Field(
        ("from-internal",), description="Dialplan contexts whose calls are outbound (agents dialling customers); "
        "\"+[\\\"from-agents\\\"]\" adds to the default."
    )


    def sla_threshold_ms(self, queue: str | None) -> int:
        seconds = self.queue_sla_threshold_s.get(queue, self.sla_threshold_s) if queue else self.sla_threshold_s
        return int(seconds * 1000)


# What the prod overlay (PROD_OVERLAY) ships as OMNIBUS_ADAPTER_CALL_CENTER__PUBLIC_BASE_URL: no URL, so the adapter
# refuses to start until the operator puts the host the TaskRouter workspace calls (an example host would start and
# refuse every callback 401 bad_signature).
PUBLIC_BASE_URL_PLACEHOLDER = "<set me: https://the host your TaskRouter workspace calls>"
PROD_OVERLAY = "deploy/k8s/overlays/prod/kustomization.yaml"

# The contact attributes a contact flow usually stores a meter or line number under (``supply_point_attributes``).
SUPPLY_POINT_ATTRIBUTES = ("supply_point", "supplyPoint", "meter_point_id", "meterPointId")


class CallCenterSettings(AdapterSettings):
    # settings an earlier version had: ``load_component_settings`` refuses them with this note (exit 2 at start-up)
    removed_settings: ClassVar[dict[str, str]] = {
        "connect_account_attribute": "removed: an account number is read only from the attributes "
        f"{ENV_PREFIX}VERIFIED_RECORD_ATTRIBUTES names under ACCOUNT, none by default; see the README's upgrade notes",
        "connect_customer_number_attribute": "removed: a customer number is read only from the attributes "
        f"{ENV_PREFIX}VERIFIED_RECORD_ATTRIBUTES names under CUSTOMER_NUMBER, none by default",
        "verified_customer_number_attributes": f"renamed: {ENV_PREFIX}VERIFIED_RECORD_ATTRIBUTES names them under "
        "CUSTOMER_NUMBER, e.g. {\"CUSTOMER_NUMBER\": [\"customerNumber\"]}",
    }

    sites: dict[str, SiteSettings] = Field(..., min_length=1, description="Site name -> its settings.")
    public_base_url: str | None = Field(
        None, description="Scheme://host[:port] Twilio calls (behind a proxy the URL it signs differs from ours), "
        "with the path prefix the proxy strips if any; an http(s) URL with a host, or the adapter does not start."
    )
    max_body_bytes: int = Field(5 * 1024 * 1024, gt=0, description="Largest request body accepted.")
    twilio_max_age_s: float = Field(
        300.0, ge=0,
        description="A signed TaskRouter callback whose Timestamp is further than this from our clock (either way) is "
        "refused 401, and one whose event Sid was accepted within this span is refused as a replay. Twilio signs the "
        "whole form, Timestamp and Sid included, so a captured request can be neither re-dated nor repeated. 0 turns "
        "both checks off (e.g. to feed recorded callbacks).",
    )
    asterisk_optional_columns: tuple[str, ...] = Field(
        ("uniqueid", "userfield"),
        description="Columns cdr.conf appends after amaflags, in order (loguniqueid, loguserfield, newcdrcolumns).",
        json_schema_extra=REPLACED_DEFAULT,  # the file's layout: a value gives all of it
    )
    connect_disposition_attribute: str = Field("disposition", description="Contact attribute holding the wrap-up code.")
    disposition_outcomes: dict[str, str] = Field(
        default_factory=dict,
        description="Agent's wrap-up code (disposition, matched without case, '-' or spaces) -> InteractionOutcome "
        "(RESOLVED, UNRESOLVED, HANDED_OFF...): how a call wrapped up with that code ended. A code that names an "
        "outcome (resolved, handed-off) needs no entry; adapters/call_center/outcome.py gives the order of the rules.",
    )
    verified_record_attributes: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Claimable key kind (ACCOUNT, CARD, CUSTOMER_NUMBER, NATIONAL_ID: bus.identifiers.kinds."
        "CLAIMABLE_KEYS) -> contact attributes (Connect CTR Attributes, TaskRouter TaskAttributes) holding one that "
        "the contact flow verified against the system of record (a PIN, a date of birth), first present wins, e.g. "
        "{\"ACCOUNT\": [\"accountNumber\"], \"NATIONAL_ID\": [\"verifiedDni\"]} or a Brazilian flow's "
        "{\"NATIONAL_ID\": [\"cpfVerificado\"]}. None by default: an account, "
        "customer number or national ID typed on the keypad is the caller's claim, and identity links what comes with "
        "it (the caller's phone, his call, his handoff) to its holder, so a caller who typed another customer's number "
        "moved his own phone to that customer (adapters/call_center/README.md). An attribute "
        "named as one (accountNumber, account_number, iban, cardNumber, customerNumber, nationalId, dni, nie, cpf, cnpj"
        "...: bus.redact.SENSITIVE_FIELDS) and "
        "not listed is left off, named in the answer's dropped_traits and counted "
        "(omnibus_traits_rejected_total{code=\"unknown-key\"}).",
    )
    supply_point_attributes: tuple[str, ...] = Field(
        SUPPLY_POINT_ATTRIBUTES,
        description="Contact attributes (Connect CTR Attributes, TaskRouter TaskAttributes) holding the number of the "
        "place the call is about, read as a SUPPLY_POINT identifier, first present wins: a utility's metering point "
        "(PRM/PDL, EAN, EIC), a telecom's line or installation number. Identity links the call to the holder of that "
        "place's contract, so a caller who gives only a meter number is not nobody; a number typed by "
        "a caller is his claim, as a record key is: it never takes his phone from the customer billing gave it to. "
        "[] reads none.",
    )
    trait_attributes: dict[str, str] = Field(
        default_factory=dict,
        description="Contact attribute (CTR Attributes, TaskRouter TaskAttributes) -> standard trait key (given_name, "
        "birth_date...), for names the usual spellings (firstName, dateOfBirth, postcode...) do not cover.",
    )
    state_path: Path | None = Field(
        None, description="SQLite file for CTR versions and TaskRouter task timelines; None keeps them in memory."
    )

    @field_validator("public_base_url")
    @classmethod
    def _an_absolute_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if value == PUBLIC_BASE_URL_PLACEHOLDER:
            raise ValueError(f"is still the placeholder {PROD_OVERLAY} ships: put the scheme and host your TaskRouter "
                             "workspace calls (https://call-center.yourcompany.com) there, or remove that patch if "
                             "Twilio calls the adapter directly")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("not the scheme and host Twilio calls: give an http(s) URL with a "
                             "host, e.g. https://call-center.yourcompany.com (a path prefix the proxy strips may "
                             "follow; no query)")
        return value

    @field_validator("verified_record_attributes")
    @classmethod
    def _record_keys(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        unknown = sorted(set(value) - CLAIMABLE_KEYS)
        if unknown:
            raise ValueError(f"not claimable key kinds {unknown}; known: {sorted(CLAIMABLE_KEYS)}")
        return value

    @field_validator("trait_attributes")
    @classmethod
    def _standard_keys(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value.values()) - set(TRAIT_KEYS))
        if unknown:
            raise ValueError(f"unknown trait keys {unknown}; known: {list(TRAIT_KEYS)}")
        return value

    @field_validator("disposition_outcomes")
    @classmethod
    def _known_outcomes(cls, value: dict[str, str]) -> dict[str, str]:
        from adapters.call_center.outcome import code_key

        unknown = sorted({outcome for outcome in value.values() if outcome.upper() not in INTERACTION_OUTCOMES})
        if unknown:
            raise ValueError(f"unknown outcomes {unknown}; known: {sorted(INTERACTION_OUTCOMES)}")
        return {code_key(code): outcome.upper() for code, outcome in value.items()}

    @field_validator("asterisk_optional_columns")
    @classmethod
    def _known_columns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - ASTERISK_OPTIONAL_COLUMNS
        if unknown:
            known = sorted(ASTERISK_OPTIONAL_COLUMNS)
            raise ValueError(f"unknown Master.csv columns {sorted(unknown)}; known: {known}")
        return value

    @model_validator(mode="after")
    def _credentials_name_one_site(self) -> CallCenterSettings:
        owners: dict[str, str] = {}
        for name, site in self.sites.items():
            for credential in [k.get_secret_value() for k in site.access_keys] + list(site.twilio_workspace_sids):
                if credential in owners and owners[credential] != name:
                    raise ValueError(f"a credential or workspace is shared by sites {owners[credential]} and {name}")
                owners[credential] = name
            if site.twilio_workspace_sids and site.twilio_auth_token is None:
                raise ValueError(f"site {name} lists TaskRouter workspaces but no twilio_auth_token")
        return self

    def site_for_key(self, key: str) -> str | None:
        """The site owning access key ``key``; every key is compared in constant time (``hmac.compare_digest``), so
        how long a refusal takes says nothing about how much of a key was guessed."""
        given, found = key.encode(), None
        for name, site in self.sites.items():
            for candidate in site.access_keys:
                if hmac.compare_digest(candidate.get_secret_value().encode(), given):
                    found = name
        return found

    def site_for_workspace(self, workspace_sid: str) -> str | None:
        for name, site in self.sites.items():
            if workspace_sid in site.twilio_workspace_sids:
                return name
        return None

    @property
    def asterisk_columns(self) -> tuple[str, ...]:
        return ASTERISK_BASE_COLUMNS + self.asterisk_optional_columns
