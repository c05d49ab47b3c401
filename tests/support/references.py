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
