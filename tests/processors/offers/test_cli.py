"""``omnibus offers publish | list | withdraw``: validation without a broker, the topic round trip with one."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnibus.cli import app
from tests.processors.offers.test_offer_file import GOOD
from tests.support.settings import settings_with_topics

runner = CliRunner()
# A library's log line (coloured console or JSON) may share the output with what the command prints.
LOG_LINE = re.compile(r"^(\x1b\[[0-9;]*m)*\d{4}-\d\d-\d\dT|^\{\"")


def write(tmp_path: Path, text: str, name: str = "offer.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_check_validates_without_a_broker(tmp_path: Path) -> None:
    result = runner.invoke(app, ["offers", "publish", "--check", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0 and "1 offer valid" in result.output


def test_a_bad_file_lists_every_error_with_its_line(tmp_path: Path) -> None:
    bad = write(tmp_path, GOOD.replace("version: 2", "version: 0").replace("service_tier", "tier"))
    result = runner.invoke(app, ["offers", "publish", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2: version" in result.output and f"{bad}:11: eligibility" in result.output


@pytest.mark.kafka
def test_publish_list_revise_and_withdraw(bootstrap_servers: str, tmp_path: Path) -> None:
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": settings.topics.prefix,
           "OMNIBUS_METRICS__ENABLED": "false"}

    def offers(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["offers", *args], env=env)
        return result.exit_code, "".join(
            line for line in result.output.splitlines(keepends=True) if not LOG_LINE.match(line))

    v2 = write(tmp_path, GOOD)
    assert offers("publish", str(v2)) == (0, "fibre-upgrade v2: published\n")
    assert offers("publish", str(v2)) == (0, "fibre-upgrade v2: unchanged\n")  # re-running is harmless
    code, output = offers("publish", str(write(tmp_path, GOOD.replace("version: 2", "version: 1"), "old.yaml")))
    assert code == 1 and "older than the published version 2" in output
    assert offers("publish", str(write(tmp_path, GOOD.replace("version: 2", "version: 3"), "v3.yaml")))[0] == 0
    def listed() -> list[dict]:  # stdout only: JSON Lines, an offer per line (logs are on stderr)
        result = runner.invoke(app, ["offers", "list", "--json"], env=env)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    (offer,) = listed()
    assert offer["offer_id"] == "fibre-upgrade"
    assert (offer["version"], offer["withdrawn"], offer["priority"]) == (3, False, 50)
    assert offers("withdraw", "fibre-upgrade", "--reason", "stock ran out") == (0, "fibre-upgrade v3: withdrawn\n")
    assert [offer["withdrawn"] for offer in listed()] == [True]
    assert offers("withdraw", "fibre-upgrade")[0] == 1
    assert offers("withdraw", "no-such-offer")[0] == 1


def test_list_at_80_columns_keeps_offer_ids_on_one_line() -> None:
    """A new user saw offer ids folded at 80 columns: below 120 the table keeps offer, version, state and title,
    ids whole, and names the wide view and --json."""
    from rich.console import Console

    from processors.offers.campaigns import Current
    from processors.offers.cli import print_offers
    from processors.offers.offer_file import parse_offers

    (offer,) = parse_offers(GOOD.replace("fibre-upgrade", "spring-fibre-upgrade-2026-with-a-long-id"), "test")
    narrow = Console(width=80, record=True)
    print_offers({offer.offer_id: Current(offer)}, narrow)
    text = narrow.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert any(offer.offer_id in line for line in text.splitlines()) and "--json" in text
    wide = Console(width=160, record=True)
    print_offers({offer.offer_id: Current(offer)}, wide)
    text = wide.export_text()
    assert "priority" in text and "--json" not in text


def test_tester14_n5_the_example_offer_file_passes_the_check_as_a_user_runs_it() -> None:
    """The repository's documented example (processors/offers/README.md) loads the way `offers publish` loads it."""
    from processors.offers import offer_file

    example = Path(offer_file.__file__).with_name("offer.example.yaml")
    result = runner.invoke(app, ["offers", "publish", "--check", str(example)])
    assert result.exit_code == 0 and "1 offer valid" in result.output, result.output
    (offer,) = offer_file.load_offers(example)
    assert set(offer.channels) == {"WEB", "CALL_CENTER", "BRANCH", "SMS", "EMAIL"} and offer.caps and offer.quiet_hours


def test_withdraw_masks_a_card_in_its_reason_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """tester24 F5: the reason travels on marketing.offers.v1; the operator is told what was masked."""
    from processors.offers import cli
    from tests.processors.offers.factories import offer

    reasons: list[str | None] = []

    async def withdraw(_settings: object, offer_id: str, reason: str | None) -> object:
        reasons.append(reason)
        return offer(offer_id)

    monkeypatch.setattr(cli, "withdraw", withdraw)
    result = CliRunner().invoke(app, ["offers", "withdraw", "fibre", "--reason", "ref card 4111111111111111"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert reasons == ["ref card [digits]"]
    assert "note: --reason: masked 1 card number before publishing" in result.stderr and "4111" not in result.output
