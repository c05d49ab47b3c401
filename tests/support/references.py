"""The deployment's declared business references (``OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS``) set for a test."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

from bus.references import declared

VARIABLE = "OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS"


@contextmanager
def declared_references(*names: str) -> Iterator[None]:
    """``names`` declared while inside; ``bus.references.declared`` reads the setting anew on entry and exit."""
    previous = os.environ.get(VARIABLE)
    os.environ[VARIABLE] = json.dumps(list(names))
    declared.cache_clear()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(VARIABLE, None)
        else:
            os.environ[VARIABLE] = previous
        declared.cache_clear()


# tester26 F11: a reference declared ``meter_point`` is written in other spellings of its words by every channel and
# operator (a billing export's ``METER_POINT``, a contact flow's ``meterPoint``, an agent's ``Meter-Point``).
DECLARED = "meter_point"
SPELLINGS = ("meter_point", "METER_POINT", "meterPoint", "Meter-Point", "METER-POINT", "meter point")
PRM = "14500000000003"  # a France PRM: 14 digits, masked as [digits] unless declared
