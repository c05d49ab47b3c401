"""The batch overlays over the tables: keys by prefix through nested overlays (``store.Overlay.keys``)."""

from __future__ import annotations

from processors.offers.store import Overlay


def test_keys_by_prefix_see_the_writes_and_deletes_of_every_overlay_once() -> None:
    table = {"PLACED:a": 1, "PLACED:b": 2, "PHONE:+331": "cus_1"}
    batch = Overlay(table)
    batch["PLACED:c"] = 3
    del batch["PLACED:a"]
    attempt = Overlay(batch)
    attempt["PLACED:d"] = 4
    attempt["PLACED:c"] = 5  # written again: still one key
    del attempt["PLACED:b"]
    assert sorted(attempt.keys("PLACED:")) == ["PLACED:c", "PLACED:d"]
    assert sorted(attempt.keys()) == ["PHONE:+331", "PLACED:c", "PLACED:d"]
    attempt.commit()
    batch.commit()
    assert sorted(table) == ["PHONE:+331", "PLACED:c", "PLACED:d"]
