import pytest

from bus.errors import ConfigError
from processors.offers.caps import Suppression
from processors.offers.config import load_offers_settings
from processors.offers.ranking import zone_of
from tests.processors.offers.factories import customer


def test_policy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_PROCESSOR_OFFERS__POLICY",
                       '{"caps": [{"max": 2, "per": "7d"}], "quiet_hours": {"start": "22:00", "end": "07:30"}}')
    monkeypatch.setenv("OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE", "Europe/Paris")
    settings = load_offers_settings()
    assert settings.policy.caps[0].per == 7 * 86400 and settings.policy.quiet_hours.end == "07:30"
    assert settings.default_timezone == "Europe/Paris"
    assert settings.push_channels == ("CALL_CENTER", "BRANCH", "SMS", "EMAIL")


@pytest.mark.parametrize(("name", "value"), [("DEFAULT_TIMEZONE", "Mars/Olympus"), ("POLICY", '{"caps": [{"max": 0, "per": "1d"}]}'),
                                             ("NOPE", "1")])
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"OMNIBUS_PROCESSOR_OFFERS__{name}", value)
    with pytest.raises(ConfigError):
        load_offers_settings()


def test_suppression_reasons_are_the_metric_labels() -> None:
    assert {r.value for r in Suppression} >= {"contact_cap", "channel_cap", "offer_cap", "quiet_hours"}


def test_a_customer_of_unknown_country_is_in_utc_when_the_deployment_has_no_region() -> None:
    """tester15 F4: the default zone was Asia/Shanghai, so a French customer without a ``country`` trait was in its
    quiet hours (21:00–08:00 Shanghai) from 13:00 UTC."""
    assert zone_of(customer(), load_offers_settings().zone) == "UTC"
    assert load_offers_settings().in_region(None).default_timezone == "UTC"


# DE lists Europe/Busingen beside Europe/Berlin in the tz database, ES the Canaries, PT the Azores: several zones
@pytest.mark.parametrize(("region", "zone"), [("FR", "Europe/Paris"), ("fr", "Europe/Paris"), ("BE", "Europe/Brussels"),
                                              ("IT", "Europe/Rome"), ("DE", "UTC"), ("US", "UTC"), ("ZZ", "UTC")])
def test_unset_the_default_zone_is_the_deployments_regions(region: str, zone: str) -> None:
    """tester28 F8: ``OMNIBUS_IDENTIFIERS__DEFAULT_REGION=FR`` and no ``DEFAULT_TIMEZONE`` ran quiet hours in UTC; the
    zone of the region when that country has one (a country with several, or none known: UTC)."""
    resolved = load_offers_settings().in_region(region)
    assert resolved.default_timezone == resolved.zone == zone
    assert zone_of(customer(), resolved.zone) == zone


def test_a_default_zone_set_wins_over_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE", "America/Chicago")
    assert load_offers_settings().in_region("FR").zone == "America/Chicago"


@pytest.fixture
def fresh_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new lazy logger, first used inside ``capture_logs`` (see tests/bus/test_lag_watchdog.py)."""
    from bus.logging import get_logger
    from processors.offers import config

    monkeypatch.setattr(config, "log", get_logger(config.__name__))


@pytest.mark.usefixtures("fresh_log")
@pytest.mark.parametrize("region", ["US", "DE", "ES", "PT", "ZZ"])
def test_a_region_that_gives_no_zone_warns_once_at_start_naming_the_setting(region: str) -> None:
    """offers29's leftover: a region of several zones (or none known) ran quiet hours in UTC without a word; the start
    (``in_region``, once per worker) logs one warning with the region and the setting to set."""
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        assert load_offers_settings().in_region(region).zone == "UTC"
    assert [(entry["log_level"], entry["region"], entry["setting"]) for entry in logs] == [
        ("warning", region, "OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE")]
    assert "UTC" in logs[0]["event"]


@pytest.mark.usefixtures("fresh_log")
@pytest.mark.parametrize("region", ["FR", None])
def test_a_region_of_one_zone_no_region_or_a_zone_set_warns_nothing(region: str | None,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        load_offers_settings().in_region(region)
        monkeypatch.setenv("OMNIBUS_PROCESSOR_OFFERS__DEFAULT_TIMEZONE", "America/Chicago")
        load_offers_settings().in_region("US")
    assert logs == []
