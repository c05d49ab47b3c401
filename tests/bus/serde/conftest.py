import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from schemas.catalog import SchemaCatalog

THING_V1: dict[str, Any] = {
    "type": "record",
    "name": "Thing",
    "namespace": "omnibus.test",
    "doc": "A test record.",
    "fields": [
        {"name": "id", "type": "string", "doc": "Id."},
        {"name": "count", "type": "long", "doc": "Count."},
    ],
}

THING_V2: dict[str, Any] = {
    **THING_V1,
    "fields": [
        *THING_V1["fields"],
        {"name": "note", "type": ["null", "string"], "default": None, "doc": "Added in v2."},
    ],
}


@pytest.fixture
def catalog_of(tmp_path: Path) -> Callable[..., SchemaCatalog]:
    """Build a catalog from schema dicts written to a fresh directory."""
    counter = iter(range(1000))

    def build(*schemas: dict[str, Any]) -> SchemaCatalog:
        root = tmp_path / f"catalog{next(counter)}"
        for schema in schemas:
            domain = root / schema["namespace"].split(".")[-1]
            domain.mkdir(parents=True, exist_ok=True)
            (domain / f"{schema['name']}.avsc").write_text(json.dumps(schema))
        return SchemaCatalog.load(root)

    return build
