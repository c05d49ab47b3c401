"""check-layout and import-batch of a layout keyed by a card number while no HMAC key is set (tester51 F6): the
setting is missing, not the source wrong: one ``error:`` line naming the setting and exit 2 (bad settings), before
any line is read or anything published; not a rejection per line that says to correct the source."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.legacy.cli import app
from bus.bootstrap import BAD_SETTINGS_EXIT
from tests.adapters.legacy.support import EXAMPLES

runner = CliRunner()
CARDS = EXAMPLES / "tarjetas_layout.yaml"


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("OMNIBUS_IDENTIFIERS__HMAC_KEY", "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY",
                 "OMNIBUS_IDENTIFIERS__DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES", '["es.dni", "es.nie"]')
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")  # refused before Kafka is asked
    monkeypatch.setenv("OMNIBUS_METRICS__ENABLED", "false")
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__STATE_DIR", str(tmp_path / "state"))


@pytest.mark.parametrize("command", ["check-layout", "import-batch"])
def test_a_card_layout_without_the_hmac_key_is_one_error_naming_the_setting_and_exit_2(
        no_key: None, command: str) -> None:
    result = runner.invoke(app, [command, "--layout", str(CARDS), str(EXAMPLES / "tarjetas.csv")])
    assert result.exit_code == BAD_SETTINGS_EXIT, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "OMNIBUS_IDENTIFIERS__HMAC_KEY" in errors[0], result.output
    assert "card_number" in errors[0] and "correct it in the source" not in result.output
    assert " line 2:" not in result.output  # no line was read: said once, not per line


MASTER = EXAMPLES / "clientes_layout.yaml"


@pytest.mark.parametrize("command", ["check-layout", "import-batch"])
def test_a_national_id_layout_without_the_hmac_key_is_one_error_naming_the_setting_and_exit_2(
        no_key: None, command: str) -> None:
    """Imported all the same, every DNI was dropped with exit 0 (check-layout exited 3), and unchanged keyed lines
    were published again as changed without their ID (``test_batch_file_token_key``)."""
    result = runner.invoke(app, [command, "--layout", str(MASTER), str(EXAMPLES / "clientes.csv")])
    assert result.exit_code == BAD_SETTINGS_EXIT, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "OMNIBUS_IDENTIFIERS__HMAC_KEY" in errors[0], result.output
    assert "national IDs (national_id)" in errors[0] and "NATIONAL_ID_SCHEMES" not in errors[0], result.output
    assert " line 2" not in result.output and "dropped" not in result.output


def test_with_neither_key_nor_scheme_set_the_error_names_both(no_key: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES")
    result = runner.invoke(app, ["check-layout", "--layout", str(MASTER)])
    assert result.exit_code == BAD_SETTINGS_EXIT, result.output
    error = next(line for line in result.output.splitlines() if line.startswith("error:"))
    assert "OMNIBUS_IDENTIFIERS__HMAC_KEY" in error and "OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES" in error, error


def test_a_layout_without_national_ids_or_cards_needs_no_key(no_key: None) -> None:
    result = runner.invoke(app, ["check-layout", "--layout", str(EXAMPLES / "bills_layout.yaml"),
                                 str(EXAMPLES / "bills.csv")])
    assert result.exit_code == 0, result.output
