import pytest

from bus.errors import ConfigError
from processors.identity.config import DEFAULT_MAX_PER_CUSTOMER, load_identity_settings


def test_settings_come_from_the_component_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", "k" * 20)
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__MAX_PER_CUSTOMER", '{"PHONE": 2}')
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__DEFAULT_REGION", "FR")
    config = load_identity_settings()
    assert config.max_per_customer == {**DEFAULT_MAX_PER_CUSTOMER, "PHONE": 2}  # merged over the defaults
    assert config.default_region == "FR"
    assert "k" * 20 not in repr(config)  # the key is a secret


@pytest.mark.parametrize(("name", "value"), [
    ("HMAC_KEY", "short"), ("MAX_PER_CUSTOMER", '{"FAX": 1}'), ("NOPE", "1"),
])
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", "k" * 20)
    monkeypatch.setenv(f"OMNIBUS_PROCESSOR_IDENTITY__{name}", value)
    with pytest.raises(ConfigError):
        load_identity_settings()


def test_the_hmac_key_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", raising=False)
    monkeypatch.delenv("OMNIBUS_IDENTIFIERS__HMAC_KEY", raising=False)
    with pytest.raises(ConfigError, match="set OMNIBUS_IDENTIFIERS__HMAC_KEY"):
        load_identity_settings()


def test_the_shared_key_is_identitys_key_unless_identity_sets_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a new user: with only OMNIBUS_IDENTIFIERS__HMAC_KEY (the README's "same everywhere" key) set,
    every identity command exited 2 asking for OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY."""
    monkeypatch.delenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", raising=False)
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__HMAC_KEY", "s" * 20)
    assert load_identity_settings().hmac_key.get_secret_value() == "s" * 20
    monkeypatch.setenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY", "k" * 20)
    assert load_identity_settings().hmac_key.get_secret_value() == "k" * 20
    monkeypatch.delenv("OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY")
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__HMAC_KEY", "short")
    with pytest.raises(ConfigError, match="at least 16"):
        load_identity_settings()
