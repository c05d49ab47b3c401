from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from bus.config import WireFormat, load_component_settings, load_settings, unknown_environment_keys
from bus.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("OMNIBUS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OMNIBUS_STACK_DIR", str(tmp_path / "no-stack"))  # a developer's running stack stays out


def test_defaults_are_registry_free_on_localhost() -> None:
    settings = load_settings()
    assert settings.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert settings.registry.wire_format is WireFormat.SINGLE_OBJECT


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "broker-1:9092,broker-2:9092")
    monkeypatch.setenv("OMNIBUS_REGISTRY__URL", "http://registry:8081")
    monkeypatch.setenv("OMNIBUS_TOPICS__PARTITIONS", "24")
    settings = load_settings()
    assert settings.kafka.bootstrap_servers == "broker-1:9092,broker-2:9092"
    assert settings.registry.wire_format is WireFormat.CONFLUENT
    assert settings.topics.partitions == 24


def test_secrets_are_masked_when_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_KAFKA__SASL_PASSWORD", "hunter2")
    settings = load_settings()
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())
    assert settings.kafka.sasl_password is not None
    assert settings.kafka.sasl_password.get_secret_value() == "hunter2"


def test_misspelt_environment_variable_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSRAP_SERVERS", "wrong:9092")
    with pytest.raises(ConfigError, match="OMNIBUS_KAFKA__BOOTSRAP_SERVERS"):
        load_settings()


def test_unknown_section_is_rejected() -> None:
    assert unknown_environment_keys({"OMNIBUS_KAFKAA__X": "1", "OMNIBUS_STACK_DIR": "/tmp", "PATH": "/"}) == [
        "OMNIBUS_KAFKAA__X"
    ]


def test_unknown_keyword_is_rejected() -> None:
    with pytest.raises(ConfigError):
        load_settings(kafkaa={"bootstrap_servers": "x"})


def test_invalid_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_TOPICS__PARTITIONS", "zero")
    with pytest.raises(ConfigError, match="partitions"):
        load_settings()


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValidationError):
        settings.kafka.bootstrap_servers = "elsewhere:9092"  # type: ignore[misc]


class _WebSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    port: int = 8080
    write_keys: list[str] = []


def test_component_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_ADAPTER_WEB__PORT", "9000")
    monkeypatch.setenv("OMNIBUS_ADAPTER_WEB__WRITE_KEYS", '["k1", "k2"]')
    settings = load_component_settings(_WebSettings, "OMNIBUS_ADAPTER_WEB__")
    assert settings == _WebSettings(port=9000, write_keys=["k1", "k2"])
    load_settings()  # the core check leaves component variables alone


def test_component_settings_reject_unknown_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_ADAPTER_WEB__PROT", "9000")
    with pytest.raises(ConfigError, match="OMNIBUS_ADAPTER_WEB__PROT"):
        load_component_settings(_WebSettings, "OMNIBUS_ADAPTER_WEB__")


def test_a_validation_error_is_one_line_naming_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_KAFKA__SECURITY_PROTOCOL", "TLS")
    monkeypatch.setenv("OMNIBUS_TOPICS__PARTITIONS", "-1")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert "kafka.security_protocol" in message and "'TLS'" in message and "topics.partitions" in message


def test_settings_fall_back_to_a_running_local_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import bus.stack.local as local

    monkeypatch.delenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setattr(local, "local_endpoints", lambda state_dir=None: local.LocalEndpoints("127.0.0.1:40001", None))
    assert load_settings().kafka.bootstrap_servers == "127.0.0.1:40001"
    assert load_settings(kafka={"bootstrap_servers": "b:1"}).kafka.bootstrap_servers == "b:1"
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "b:2")
    assert load_settings().kafka.bootstrap_servers == "b:2"


def test_settings_take_the_local_stacks_registry_with_its_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """tester15 F10: with the broker found in ``stack.json`` and ``OMNIBUS_REGISTRY__URL`` unset, ``offers list``
    read every offer as undecodable and answered "0 offer(s)"."""
    import bus.stack.local as local

    registry = "http://127.0.0.1:40002/apis/ccompat/v7"
    for name in ("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "OMNIBUS_REGISTRY__URL", "OMNIBUS_KAFKA", "OMNIBUS_REGISTRY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(local, "local_endpoints", lambda state_dir=None: local.LocalEndpoints("127.0.0.1:40001",
                                                                                               registry))
    assert load_settings().registry.url == registry
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:40001")  # the stack's broker, given
    assert load_settings().registry.url == registry
    assert load_settings(kafka={"bootstrap_servers": "other:9092"}).registry.url is None  # another cluster
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "other:9092")
    assert load_settings().registry.url is None
    monkeypatch.delenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS")
    monkeypatch.setenv("OMNIBUS_REGISTRY__URL", "http://mine:8080")
    assert load_settings().registry.url == "http://mine:8080"
    monkeypatch.setenv("OMNIBUS_REGISTRY__URL", "")  # registry-free mode, asked for
    assert not load_settings().registry.url


def test_the_local_stacks_registry_is_taken_also_while_it_is_down(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    """Reported: an import started while the stack's registry was down ran registry-free (``C3 01``) and exited 0;
    every processor dead-lettered its records and a re-import said "already imported". A recorded registry is the
    stack's framing: a command uses it and meets the outage; no registry only when the stack never ran one."""
    import json

    import bus.stack.local as local

    (tmp_path / local.STATE_FILE).write_text(json.dumps({
        "kafka": {"pid": 1, "marker": "k", "port": 1, "bootstrap_servers": "127.0.0.1:1"},
        "registry": {"pid": 2, "marker": "r", "port": 2, "url": "http://127.0.0.1:2/apis/ccompat/v7"}}))
    monkeypatch.setattr(local.process, "owns", lambda pid, marker: True)
    listening = {1, 2}
    monkeypatch.setattr(local, "is_listening", lambda port: port in listening)
    assert local.local_endpoints(tmp_path) == local.LocalEndpoints("127.0.0.1:1", "http://127.0.0.1:2/apis/ccompat/v7")
    listening.discard(2)
    assert local.local_endpoints(tmp_path) == local.LocalEndpoints("127.0.0.1:1", "http://127.0.0.1:2/apis/ccompat/v7")
    listening.discard(1)
    assert local.local_endpoints(tmp_path) is None
    listening.add(1)
    (tmp_path / local.STATE_FILE).write_text(json.dumps({  # a stack whose registry could not run here
        "kafka": {"pid": 1, "marker": "k", "port": 1, "bootstrap_servers": "127.0.0.1:1"}}))
    assert local.local_endpoints(tmp_path) == local.LocalEndpoints("127.0.0.1:1", None)


def test_a_missing_component_setting_names_the_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a new user: "hmac_key: Field required" did not say which variable sets it."""
    from pydantic import BaseModel

    from bus.config import load_component_settings
    from bus.errors import ConfigError

    class Needs(BaseModel):
        hmac_key: str

    monkeypatch.delenv("OMNIBUS_PROCESSOR_TEST__HMAC_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"hmac_key \(OMNIBUS_PROCESSOR_TEST__HMAC_KEY\): Field required"):
        load_component_settings(Needs, "OMNIBUS_PROCESSOR_TEST__")


def test_every_variable_the_scripts_and_tests_read_is_known_to_the_settings_check() -> None:
    """``OMNIBUS_TEST_LOG`` (the README's name for the test log file), exported in a shell, made every command and
    38 test modules refuse to start as an unknown setting. Every ``OMNIBUS_TEST_*``/``OMNIBUS_FUZZ_*`` name the
    scripts and tests read is a tooling variable."""
    import re

    from bus.config import TOOLING_VARIABLES

    root = Path(__file__).resolve().parents[2]
    sources = [*root.joinpath("scripts").glob("*.sh"), *root.joinpath("tests").rglob("*.py")]
    named = {name for path in sources for name in re.findall(r"OMNIBUS_(?:TEST|FUZZ)_[A-Z_]+", path.read_text())}
    assert {"OMNIBUS_TEST_LOG", "OMNIBUS_FUZZ_SLOW_CASES"} <= named
    assert not named - TOOLING_VARIABLES
    assert unknown_environment_keys(dict.fromkeys(named, "1")) == []
