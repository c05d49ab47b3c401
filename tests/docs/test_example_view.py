"""The Python consumer example's view of ``customer.identifiers.v1`` follows Omnibus' own reader rule
(``processors.identity.assignments``): the latest version per key, a tombstone deletes, a late older row is ignored."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from processors.identity.assignments import VERSION_HEADER, current_rows, tombstone_headers

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "python" / "consume.py"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("omnibus_consumer_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def row(customer_id: str, version: int) -> dict[str, object]:
    return {"identifier": {"type": "PHONE", "value": "+33612345678"}, "customer_id": customer_id, "version": version}


def test_the_view_keeps_the_latest_version_and_a_tombstone_deletes_the_key() -> None:
    view = example().View()
    key = "PHONE:+33612345678"
    steps = [(row("cus_b", 1), None), (row("cus_a", 2), None), (row("cus_b", 1), None),  # a stale worker's late row
             (None, tombstone_headers(2)), (row("cus_a", 2), None),  # the ended version, written late
             (row("cus_c", 3), None), (None, None), (row("cus_d", 4), None)]  # no header: deletes what is held
    assert [view.apply(key, value, list(headers or ())) for value, headers in steps] == [
        "kept", "kept", "ignored", "deleted", "ignored", "kept", "deleted", "kept"]
    assert view.rows == {key: row("cus_d", 4)}
    rows = [(key, value, *([int(headers[0][1])] if headers else [])) for value, headers in steps]
    assert current_rows(rows) == view.rows  # the same outcome as Omnibus' own readers


def test_the_header_name_is_the_one_identity_writes() -> None:
    module = example()
    assert module.VERSION_HEADER == VERSION_HEADER
    assert module.tombstone_version({VERSION_HEADER: b"7"}) == 7 and module.tombstone_version(None) is None
