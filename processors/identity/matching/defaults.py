"""Default m/u probabilities, prior and thresholds of the matcher.

How they were obtained: ``python tests/bench/identity_quality.py --train`` generates the labelled
people of the quality benchmark (its own seed, not the evaluation seed), forms every candidate pair
the processor can meet (a common identifier or a common blocking key), computes the comparison levels
and counts, per level, the share among true pairs (m) and among false pairs (u), with add-one
smoothing; the prior is log2 of the true/false odds among candidate pairs. The values are rounded.
Identifier types absent from the labelled set (DEVICE, ANONYMOUS_ID, CARD) are set by hand: an
anonymous id or a device agrees for different people about as rarely as an e-mail does.
Override any of them with ``OMNIBUS_PROCESSOR_IDENTITY__MATCH_MU`` (JSON, merged per field).
"""

from __future__ import annotations

DEFAULT_MU: dict[str, dict[str, tuple[float, float]]] = {
    "given_name": {"exact": (0.86, 0.05), "close": (0.09, 0.02), "different": (0.05, 0.93)},
    "family_name": {"exact": (0.86, 0.12), "close": (0.09, 0.02), "different": (0.05, 0.86)},
    "birth_date": {"exact": (0.88, 0.01), "close": (0.08, 0.01), "different": (0.04, 0.98)},
    "address": {"exact": (0.75, 0.15), "close": (0.15, 0.05), "different": (0.10, 0.80)},
    "postcode": {"exact": (0.85, 0.2), "close": (0.05, 0.02), "different": (0.10, 0.78)},
    "NATIONAL_ID": {"agree": (0.99, 0.0001), "different": (0.0005, 0.99)},
    "USER_ID": {"agree": (0.99, 0.001), "different": (0.02, 0.9)},
    "ACCOUNT": {"agree": (0.6, 0.01), "different": (0.3, 0.9)},
    "CARD": {"agree": (0.5, 0.001), "different": (0.3, 0.9)},
    "EMAIL": {"agree": (0.6, 0.02), "different": (0.3, 0.9)},
    "PHONE": {"agree": (0.7, 0.1), "different": (0.2, 0.85)},
    "DEVICE": {"agree": (0.5, 0.02)},
    "ANONYMOUS_ID": {"agree": (0.5, 0.001)},
}
DEFAULT_PRIOR = 0.0  # log2 odds that a candidate pair is one person
DEFAULT_MERGE_AT = 6.0  # bits: P(match) ≥ 0.985
DEFAULT_REFUSE_BELOW = 0.0  # bits: P(match) < 0.5
