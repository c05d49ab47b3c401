"""Settings shared by every process that normalises identifiers (env ``OMNIBUS_IDENTIFIERS__<FIELD>``).

One section for adapters and the identity processor, so a national ID tokenised by the web adapter and
one tokenised by identity carry the same token. Example::

    OMNIBUS_IDENTIFIERS__HMAC_KEY=...                       # token key (>= 16 characters)
    OMNIBUS_IDENTIFIERS__MASK_KEY=...                       # key of the tags on masks (unset: the token key)
    OMNIBUS_IDENTIFIERS__DEFAULT_REGION=FR                  # region of numbers written without +country
    OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES='["fr.nir", "es.dni"]'
    OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT='{"prefix": "C-"}'   # 770002, c-0770002 -> C-770002
    OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS='["meter_point_id"]'      # kept whole in free text (bus.references)
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated, Any

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bus.identifiers.number_format import NumberFormat
from bus.identifiers.schemes import OWN_SCHEMES, scheme_module
from bus.validation_errors import describe_validation_error

ENV_PREFIX = "OMNIBUS_IDENTIFIERS__"
HMAC_KEY_VARIABLE = f"{ENV_PREFIX}HMAC_KEY"  # the token key's setting, as a message names it
# Before this section existed, only identity held the key: reading it keeps every token issued so far valid.
IDENTITY_KEY_VARIABLE = "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY"
MIN_KEY_CHARS = 16
# The fields ``tag_key`` reads, each from its variable (identity's is read by ``token_key`` itself).
TAG_KEY_FIELDS = ("mask_key", "hmac_key")


def check_region(value: str | None) -> str | None:
    """A phonenumbers region (ISO 3166-1 alpha-2, e.g. ``FR``), upper-cased; ``ValueError`` if unknown."""
    if value is None or value == "":
        return None
    region = value.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {value!r}: expected an ISO 3166-1 alpha-2 code such as FR")
    return region


# A setting's phone region, checked and upper-cased by ``check_region``: one declaration for every adapter.
PhoneRegion = Annotated[str | None, AfterValidator(check_region)]


# The personal identity number of each region (python-stdnum module: its docstring cites the standard), the
# default ``national_id_schemes`` when ``default_region`` is set and the schemes are not (new-user finding #7: a
# French deployment checked national IDs as Chinese resident IDs). A region not listed needs the schemes set.
NATIONAL_ID_SCHEMES_BY_REGION: dict[str, tuple[str, ...]] = {
    "BE": ("be.nn",), "BG": ("bg.egn",), "BR": ("br.cpf",), "CA": ("ca.sin",), "CH": ("ch.ssn",), "CL": ("cl.rut",),
    "CN": ("cn.ric",), "CZ": ("cz.rc",), "DE": ("de.idnr",), "DK": ("dk.cpr",), "EE": ("ee.ik",),
    "ES": ("es.dni", "es.nie"), "FI": ("fi.hetu",), "FR": ("fr.nir",), "GB": ("gb.nino",), "GR": ("gr.amka",),
    "HR": ("hr.oib",),
    "IE": ("ie.pps",), "IL": ("il.idnr",), "IN": ("in_.aadhaar",), "IS": ("is_.kennitala",),
    "IT": ("it.codicefiscale",), "KR": ("kr.rrn",), "LT": ("lt.asmens",), "MX": ("mx.curp",), "MY": ("my.nric",),
    "NL": ("nl.bsn",), "NO": ("no.fodselsnummer",), "PL": ("pl.pesel",), "PT": ("pt.cc",), "RO": ("ro.cnp",),
    "SE": ("se.personnummer",), "SI": ("si.emso",), "SK": ("sk.rc",), "TH": ("th.pin",), "TR": ("tr.tckimlik",),
    "US": ("us.ssn",), "ZA": ("za.idnr",),
}
LEGACY_SCHEMES = ("cn.ric",)  # neither region nor schemes set: the only scheme before schemes were configurable


class IdentifierSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hmac_key: SecretStr | None = Field(
        None,
        description="Key of the HMAC-SHA-256 that replaces national IDs and card numbers by tokens where they "
        f"enter. Unset: {IDENTITY_KEY_VARIABLE} is used; neither set: such values are rejected, never published.",
    )
    mask_key: SecretStr | None = Field(
        None,
        description="Key of the HMAC-SHA-256 whose 3-character tag follows the mask of an account, customer number, "
        "supply point, e-mail address, web login, anonymous id or device (EA-****0001~K7Q), so that two values "
        "showing alike are told apart on every screen (bus.identifiers.masking). Same value in every process and "
        "command. Unset: the token key (hmac_key, else "
        f"{IDENTITY_KEY_VARIABLE}); none: masks carry no tag.",
    )
    default_region: str | None = Field(
        None, description="Region (ISO alpha-2) for phone numbers written without +country when the adapter, "
        "site or source names none. Unset: such numbers need +country or 00country.",
    )
    national_id_schemes: tuple[str, ...] = Field(
        LEGACY_SCHEMES, min_length=1,
        description="python-stdnum modules a NATIONAL_ID is validated by, first match wins "
        "(e.g. cn.ric, fr.nir, es.dni, it.codicefiscale, us.ssn, br.cpf, in_.aadhaar). Unset: the default "
        "region's (FR: fr.nir; NATIONAL_ID_SCHEMES_BY_REGION), a region not listed must set them; no region: cn.ric.",
    )
    email_dotless_domains: tuple[str, ...] = Field(
        (), description="Domains whose mailboxes ignore dots in the local part (e.g. gmail.com): dots removed.",
    )
    email_subaddress_domains: tuple[str, ...] = Field(
        (), description="Domains whose mailboxes ignore a +tag in the local part: the tag is removed.",
    )
    customer_number_format: NumberFormat | None = Field(
        None, description="The system of record's spelling of its customer numbers, which every channel's spelling "
        "of one becomes: prefix, zero-padding width, a pattern with a group 'number' (bus.identifiers.number_format)"
        ". Unset: customer numbers lose only their whitespace and are upper-cased.",
    )
    account_number_format: NumberFormat | None = Field(
        None, description="The system of record's spelling of its account (contract) numbers, which every channel's "
        "spelling of one that is not an IBAN becomes, as customer_number_format does for customer numbers "
        "(bus.identifiers.account). Unset: account numbers lose only their whitespace and are upper-cased.",
    )

    reference_fields: tuple[str, ...] = Field(
        (), description="Names of business references (a utility's meter_point_id, meter_serial, reading_index) whose "
        "values every process keeps whole in the free text it scrubs: each adapter's properties and handoff summaries "
        "(besides its own REFERENCE_FIELDS), the handoff tracker's quote of a resolution in the customer's "
        "notification, an operator command's --reason (bus.references). A value under such a name is the field's "
        "whatever digits it has (a 10-digit installation valid as a phone in the region is kept); it is scrubbed, and "
        "counted "
        "in omnibus_references_masked_total{field, reason}, only when written as an identifier (an e-mail, a +CC/00CC "
        "phone, an IBAN, a national ID, a Luhn card of 15-19 digits, text with spaces) or when it is the record's own "
        "phone. A name that says it holds an identifier or a person's trait (phone, email, iban, card, birth_date...) "
        "is refused.",
    )

    _region = field_validator("default_region")(check_region)

    @field_validator("reference_fields")
    @classmethod
    def _references_hold_no_identifier(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from bus.references import check_names

        return check_names(value)

    @model_validator(mode="before")
    @classmethod
    def _schemes_of_the_region(cls, values: Any) -> Any:
        if not isinstance(values, dict) or values.get("national_id_schemes") is not None:
            return values
        region = check_region(values.get("default_region"))
        if region is None:
            return values
        if region not in NATIONAL_ID_SCHEMES_BY_REGION:
            raise ValueError(f"no national ID scheme is known for the default region {region}: set "
                             f"{ENV_PREFIX}NATIONAL_ID_SCHEMES (python-stdnum modules, e.g. [\"fr.nir\"])")
        return {**values, "national_id_schemes": NATIONAL_ID_SCHEMES_BY_REGION[region]}

    @field_validator("hmac_key", "mask_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_KEY_CHARS:
            raise ValueError(f"the HMAC key must be at least {MIN_KEY_CHARS} characters")
        return value

    @field_validator("national_id_schemes")
    @classmethod
    def _known_schemes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for scheme in value:
            try:
                module = scheme_module(scheme)
            except ImportError:
                raise ValueError(f"unknown national ID scheme {scheme!r}: expected a python-stdnum module "
                                 f"such as cn.ric or fr.nir, or one of {', '.join(OWN_SCHEMES)}") from None
            if not hasattr(module, "validate"):
                raise ValueError(f"stdnum.{scheme} has no validate()")
        return value

    @field_validator("email_dotless_domains", "email_subaddress_domains")
    @classmethod
    def _lower_domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(domain.strip().lower() for domain in value)

    @property
    def national_id_schemes_configured(self) -> bool:
        """Whether the deployment chose the national ID schemes (set them, or a default region that names them);
        False: the default ``LEGACY_SCHEMES`` apply, and a refused national ID says so (``NO_SCHEME_CODE``)."""
        return "national_id_schemes" in self.model_fields_set

    def token_key(self) -> bytes | None:
        """The HMAC key: this section's, else identity's (``OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY``), else None."""
        if self.hmac_key is not None:
            return self.hmac_key.get_secret_value().encode()
        fallback = os.environ.get(IDENTITY_KEY_VARIABLE, "")
        return fallback.encode() if len(fallback) >= MIN_KEY_CHARS else None

    def tag_key(self) -> bytes | None:
        """The key of the tags on masks (``bus.identifiers.masking``): ``mask_key``, else ``token_key()``, else
        None (masks carry no tag)."""
        if self.mask_key is not None:
            return self.mask_key.get_secret_value().encode()
        return self.token_key()


def environment_tag_key() -> bytes | None:
    """``IdentifierSettings.tag_key()`` of this process's environment, read at each call:
    ``OMNIBUS_IDENTIFIERS__MASK_KEY``, else ``__HMAC_KEY``, else ``OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY``; None when
    none is set. So a command, a worker and a library function with no settings at hand tag a mask alike.
    ``ConfigError`` when a set key is shorter than ``MIN_KEY_CHARS`` (a process refuses it at start already)."""
    names = (*(f"{ENV_PREFIX}{name.upper()}" for name in TAG_KEY_FIELDS), IDENTITY_KEY_VARIABLE)
    return _tag_key(tuple(os.environ.get(name) for name in names))


@lru_cache(maxsize=4)  # the variables' values: a changed variable is read anew
def _tag_key(values: tuple[str | None, ...]) -> bytes | None:
    fields = {name: value for name, value in zip(TAG_KEY_FIELDS, values, strict=False) if value is not None}
    try:
        return IdentifierSettings.model_validate(fields).tag_key()
    except ValidationError as exc:
        from bus.errors import ConfigError

        raise ConfigError(f"invalid IdentifierSettings settings: {describe_validation_error(exc, ENV_PREFIX)}") from exc
