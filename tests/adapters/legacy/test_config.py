from __future__ import annotations

from pathlib import Path

import pytest

from adapters.legacy.config import ENV_PREFIX, LegacySettings, PollerSettings, deployment_currency
from bus.config import load_component_settings
from bus.errors import ConfigError


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


def test_the_default_state_dir_does_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tester9 #9: ``import-batch`` kept its checkpoints and dedupe file in ./.omnibus/legacy, so a re-import from
    another directory would publish the file again; the default is now under the state home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    places = []
    for cwd in ("a", "b"):
        (tmp_path / cwd).mkdir()
        monkeypatch.chdir(tmp_path / cwd)
        places.append((LegacySettings().state_dir, LegacySettings().dedupe_path))
    assert places[0] == places[1] == (tmp_path / "state/omnibus/legacy", tmp_path / "state/omnibus/legacy/dedupe.sqlite")


def test_a_host_with_state_in_the_former_place_keeps_using_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An upgrade must not import again: ./.omnibus/legacy is used while the new place does not exist."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".omnibus/legacy").mkdir(parents=True)
    assert LegacySettings().state_dir == tmp_path / ".omnibus/legacy"
    (tmp_path / "state/omnibus/legacy").mkdir(parents=True)
    assert LegacySettings().state_dir == tmp_path / "state/omnibus/legacy"


def test_import_batch_takes_a_state_dir_option() -> None:
    from typer.testing import CliRunner

    from omnibus.cli import app

    result = CliRunner().invoke(app, ["adapter", "legacy", "import-batch", "--help"])
    assert result.exit_code == 0 and "--state-dir" in result.output


@pytest.mark.parametrize(("region", "currency"), [("BR", "BRL"), ("FR", "EUR"), ("CH", "CHF"), ("US", "USD"),
                                                  (None, "EUR")])
def test_tester33_f8_amounts_without_a_currency_take_the_default_regions(region: str | None, currency: str) -> None:
    """tester33 F8: a Brazilian deployment's outbox amount without a currency was published as EUR."""
    assert deployment_currency(LegacySettings(), region) == currency


def test_a_default_currency_set_wins_over_the_regions() -> None:
    assert deployment_currency(LegacySettings(default_currency="USD"), "BR") == "USD"


@pytest.mark.parametrize(("region", "found"), [("PA", "PAB and USD"), ("AQ", "none")])
def test_a_region_without_one_currency_names_the_setting_to_set(region: str, found: str) -> None:
    with pytest.raises(ConfigError, match=f"region {region} has no single currency .*CLDR: {found}.*: set "
                                          f"{ENV_PREFIX}DEFAULT_CURRENCY"):
        deployment_currency(LegacySettings(), region)
