"""Counters of values that were not identifiers (bounded labels: component, identifier type, reason code)."""

from __future__ import annotations

from prometheus_client import Counter

REJECTED_IDENTIFIERS = Counter(
    "omnibus_identifiers_rejected_total",
    "Values refused as identifiers where they were normalised (adapter or identity), by reason code.",
    ["component", "type", "code"],
)
REJECTED_TRAITS = Counter(
    "omnibus_traits_rejected_total",
    "Descriptive traits left out: code invalid (a birth date, country... that could not be normalised), "
    "unknown-key (a key that is no standard trait, trait label 'unknown').",
    ["component", "trait", "code"],
)
REFERENCES_MASKED = Counter(
    "omnibus_references_masked_total",
    "Values under a declared business reference name (REFERENCE_FIELDS) scrubbed instead of kept whole, by the "
    "declared name (never the value) and reason: identifier (written as one: e-mail, +CC/00CC phone, IBAN, national "
    "ID, card, text with spaces), customer-phone (the record's own phone), free-text (quoted in free text with an "
    "identifier written in it, and no field of the record holds that value).",
    ["field", "reason"],
)
