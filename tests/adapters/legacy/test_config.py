from __future__ import annotations

from pathlib import Path

import pytest

from adapters.legacy.config import ENV_PREFIX, LegacySettings, PollerSettings
from bus.config import load_component_settings


def test_published_ids_are_remembered_on_disk_by_default(tmp_path: Path) -> None:
    settings = LegacySettings(state_dir=tmp_path)
    assert settings.dedupe_path == tmp_path / "dedupe.sqlite"


def test_pollers_and_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}DATABASE_URL", "postgresql://relay:s3cret@db/billing")
    monkeypatch.setenv(f"{ENV_PREFIX}POLLERS", '[{"name": "orders", "table": "crm.orders", "primary_key": "id", '
                                               '"event_type": "OrderStatusChanged"}]')
    settings = load_component_settings(LegacySettings, ENV_PREFIX)
    assert settings.pollers[0].table == "crm.orders" and "s3cret" not in repr(settings)
    assert settings.dsn() == "postgresql://relay:s3cret@db/billing"


@pytest.mark.parametrize(("values", "message"), [
    ({"table": "orders; drop table x", "primary_key": "id", "event_type": "x"}, "not a plain SQL name"),
    ({"table": "orders", "primary_key": "id"}, "exactly one of event_type and event_type_column"),
    ({"table": "orders", "primary_key": "id", "event_type": "x", "columns": {"a": "b c"}}, "not a plain SQL name"),
])
def test_bad_pollers_are_refused(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PollerSettings(name="p", **values)
