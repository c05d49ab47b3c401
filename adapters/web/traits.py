"""Which traits of a Segment message are read as a person's identifiers, and what is said of those that are not.

* Read: the names ``WebSettings.identifier_traits`` gives, per identifier kind (``DEFAULT_IDENTIFIER_TRAITS``; a
  deployment adds to them with a leading +), in ``traits`` or ``context.traits``. A national-format phone is read in
  the region of the traits' own ``country``.
* Named and left off: a trait whose name says it holds an identifier (``bus.redact.SENSITIVE_FIELDS`` of
  ``PROPERTY_IDENTIFIER_KINDS``, ``CLAIMABLE_KEY_TRAITS``; names compared ``squashed``) that those names do not give.
  The answer's ``dropped_traits`` says how to read it (session 20 F5: a portal's ``customerNumber``); a key a master
  record holds (account, card, customer number, national ID) typed in a web form is the visitor's claim, not read by
  default.
* Kept off the events: properties named like an identifier are never copied onto contact and handoff events, which
  every subscriber reads (an imei, an msisdn).

Pure but for the ``omnibus_identifiers_rejected_total`` count of an unread ``context.traits`` identifier.
"""

from __future__ import annotations

from typing import Any

from adapters.web.config import CLAIMABLE_KEY_TRAITS, WebSettings
from bus.identifiers import Found, IdentifierNormaliser
from bus.identifiers.kinds import CLAIMABLE_KEYS, label
from bus.identifiers.metrics import REJECTED_TRAITS
from bus.identifiers.traits import UNKNOWN_KEY, UNKNOWN_TRAIT, phone_region
from bus.redact import SENSITIVE_FIELDS

# Property names that hold a person's identifier (``bus.redact.SENSITIVE_FIELDS`` of these kinds): left off the
# properties copied onto contact and handoff events, which every subscriber reads (an imei, msisdn).
PROPERTY_IDENTIFIER_KINDS = frozenset(("PHONE", "EMAIL", "NATIONAL_ID", "ACCOUNT", "CARD", "DEVICE", "CUSTOMER_NUMBER"))
# Trait names that say they hold an identifier (``bus.redact.SENSITIVE_FIELDS`` and ``CLAIMABLE_KEY_TRAITS``,
# compared ``squashed``): one that ``identifier_traits`` does not name is dropped with a reason saying how to read it
# (F5 of session 20: a portal's ``customerNumber`` was dropped as an unknown trait).
IDENTIFIER_NAMES = {name.replace("_", ""): kind for name, kind in SENSITIVE_FIELDS.items()
                    if kind in PROPERTY_IDENTIFIER_KINDS}


def squashed(name: str) -> str:
    """``customerNumber``, ``customer-number``, ``Customer Number`` → ``customernumber``."""
    return "".join(character for character in name.casefold() if character.isalnum())


IDENTIFIER_NAMES.update({squashed(name): kind for kind, names in CLAIMABLE_KEY_TRAITS.items() for name in names})


def unread_identifier_reason(kind: str) -> str:
    """The ``dropped_traits`` reason of a trait named as an identifier of ``kind`` that is not read as one: a key a
    master record holds (``CLAIMABLE_KEYS``) says it is the visitor's claim."""
    if kind in CLAIMABLE_KEYS:
        return (f"{UNKNOWN_KEY}: {label(kind)} ({kind}) typed in a web form is the visitor's claim, left off "
                "(read only under the names OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS gives, for a value the portal's "
                "back end verified: "
                f"'+{{\"{kind}\": [\"<trait>\"]}}')")
    return (f"{UNKNOWN_KEY}: not an identifier trait of this adapter, left off ({label(kind)} is read only under the "
            "names OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS gives; a leading + adds to them)")


class TraitReader:
    """A deployment's identifier traits (``WebSettings.identifier_traits``), looked up once rather than per message."""

    def __init__(self, settings: WebSettings, normaliser: IdentifierNormaliser) -> None:
        self._normaliser = normaliser
        self._pairs = tuple((kind, name) for kind, names in settings.identifier_traits.items() for name in names)
        self.read_names = frozenset(name for _, name in self._pairs)  # trait names read as identifiers
        self._identifier_names = frozenset(  # compared case-folded: ``IMEI``, ``Msisdn``
            [name for name, kind in SENSITIVE_FIELDS.items() if kind in PROPERTY_IDENTIFIER_KINDS]
            + [name.casefold() for names in settings.identifier_traits.values() for name in names]
            + [name.casefold() for names in CLAIMABLE_KEY_TRAITS.values() for name in names])

    def identifiers(self, traits: dict[str, Any]) -> Found:
        """Identifiers in traits (``identifier_traits`` names), normalised; refused values kept as rejections.

        A national-format phone is read in the region of the traits' own ``country`` (ISO 3166, an alpha-3 or name
        too), else the adapter's ``phone_region``; a ``+CC`` or ``00CC`` number keeps its own (``0470 12
        34 56`` with ``country: BE`` was read as French)."""
        if not traits:
            return Found()
        return self._normaliser.collect([(kind, traits[name]) for kind, name in self._pairs if name in traits],
                                        region=phone_region(traits))

    @staticmethod
    def name_unread(names: dict[str, Any], left_out: dict[str, str]) -> None:
        """Adds to ``left_out`` (trait name -> reason) each of ``names``, traits not read as identifiers, whose name
        says it holds one (an identify call's ``customerNumber``): how to read it."""
        for name in names:
            kind = IDENTIFIER_NAMES.get(squashed(name))
            if kind is not None:
                left_out[name] = unread_identifier_reason(kind)

    def unread_context(self, context_traits: dict[str, Any], left_out: dict[str, str] | None) -> dict[str, str] | None:
        """``left_out`` (the answer's ``dropped_traits``, None while empty) with each non-empty ``context.traits``
        name that says it holds an identifier ``identifier_traits`` does not read, each counted (an
        ``accountNumber`` on a track call): only identify calls carry traits on, so without this it
        would be left off without a word."""
        for name in context_traits:
            kind = None if name in self.read_names else IDENTIFIER_NAMES.get(squashed(name))
            if kind is not None and context_traits[name] not in (None, ""):
                if left_out is None:
                    left_out = {}
                left_out[name] = unread_identifier_reason(kind)
                REJECTED_TRAITS.labels("web", UNKNOWN_TRAIT, UNKNOWN_KEY).inc()
        return left_out

    def drop_identifiers(self, facts: dict[str, str]) -> dict[str, str]:
        """``facts`` without the keys that name an identifier, changed in place."""
        for name in [name for name in facts if name.casefold() in self._identifier_names]:
            del facts[name]
        return facts
