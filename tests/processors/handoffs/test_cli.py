"""The CLI commands on a replay served from memory (the broker path is in test_agent)."""

import asyncio
import json

import pytest
from typer.testing import CliRunner

from omnibus.cli import app as omnibus
from processors.handoffs import cli
from processors.handoffs.commands import CUSTOMER_QUOTED
from bus import undecodable
from bus.replay import Replay
from tests.processors.handoffs.scenario import run_scenario
from tests.support.references import DECLARED, PRM, SPELLINGS, declared_references


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch) -> None:
    events = asyncio.run(run_scenario())

    async def fake_replay(settings, spec, **_):
        undecodable.note(spec.name(settings.topics), settings.registry.url)  # as the reader does
        return Replay(list(events), undecodable=1)

    monkeypatch.setattr(cli, "replay_topic", fake_replay)


def test_report_as_a_table_csv_and_json(replay: None) -> None:
    runner = CliRunner()
    table = runner.invoke(omnibus, ["report", "handoffs", "--month", "2026-11"], env={"COLUMNS": "200"})
    assert table.exit_code == 65, table.output  # the answer, then: one record did not decode (the fixture's)
    assert "Handoffs, 2026-11 (UTC)" in table.stdout and "back-office" in table.stdout and "30:00" in table.stdout
    as_csv = runner.invoke(omnibus, ["report", "handoffs", "--month", "2026-11", "--format", "csv"])
    assert as_csv.stdout.splitlines()[0].startswith("scope,name,received,resolved")
    printed = runner.invoke(omnibus, ["report", "handoffs", "--month", "2026-11", "--format", "json"]).stdout
    as_json = [json.loads(line) for line in printed.splitlines()]  # JSON Lines, a row per line
    assert {r["month"] for r in as_json} == {"2026-11"} and {r["name"] for r in as_json} >= {"back-office", "repair"}


def test_report_refuses_a_bad_month(replay: None) -> None:
    result = CliRunner().invoke(omnibus, ["report", "handoffs", "--month", "Nov"])
    assert result.exit_code == 2 and "YYYY-MM" in result.output


def test_reconcile_lists_and_strict_fails(replay: None) -> None:
    """A check that finds something exits 1 by default, as ``diff`` (and ``replay``, ``verify``); ``--no-strict``
    reports only."""
    runner = CliRunner()
    table = runner.invoke(omnibus, ["handoffs", "reconcile", "--no-strict"], env={"COLUMNS": "200"})
    assert table.exit_code == 65 and "h3" in table.stdout and "created, not acknowledged" in table.stdout
    assert "error: 1 record did not decode" in table.stderr  # bus.undecodable
    for strict in (["--strict"], []):
        found = runner.invoke(omnibus, ["handoffs", "reconcile", *strict, "--format", "csv"])
        assert found.exit_code == 1 and found.stdout.splitlines()[1].startswith('h3,"created, not acknowledged",')
        assert "error: 1 record did not decode" in found.stderr


def test_report_tables_at_80_columns_keep_names_and_customer_ids_on_one_line() -> None:
    """A new user saw ids folded at 80 columns: below 120 the tables drop a few columns (named in a hint with
    --json), never the name or customer id, which stay whole."""
    from rich.console import Console

    from processors.handoffs.cli import print_customers, print_people
    from processors.handoffs.customer_report import CustomerRow
    from processors.handoffs.report import ReportRow

    customer_id = "cust-7f3c9a2e-58b1-4d0e-9c61-2b7e5a90d4f3"
    people = [ReportRow("person", "agent.marie-claire.dubois-lefebvre", 12, 10, 3600.0, 7200.0, 1, 2, 3)]
    customers = [CustomerRow(customer_id, 3, 2, 1, 1, 1, "billing-dispute", True)]
    for show, rows, whole in ((print_people, people, people[0].name), (print_customers, customers, customer_id)):
        narrow = Console(width=80, record=True)
        show(rows, "title", narrow)  # type: ignore[operator]
        text = narrow.export_text()
        assert max(len(line) for line in text.splitlines()) <= 80, text
        assert any(whole in line for line in text.splitlines()) and "--json" in text, text
        wide = Console(width=160, record=True)
        show(rows, "title", wide)  # type: ignore[operator]
        assert "--json" not in wide.export_text()


def test_report_handoffs_has_json() -> None:
    from typer.testing import CliRunner

    from omnibus.cli import app as omnibus

    assert "--json" in CliRunner().invoke(omnibus, ["report", "handoffs", "--help"]).output


@pytest.mark.parametrize(("option", "value", "said"), [
    ("--month", "2026-13", "month must be YYYY-MM"), ("--month", "november", "month must be YYYY-MM"),
    ("--timezone", "Mars/Base", "unknown time zone"),
])
def test_a_bad_month_or_zone_is_refused_before_kafka_is_read(monkeypatch: pytest.MonkeyPatch, option: str,
                                                             value: str, said: str) -> None:
    """A new user's ``--month 2026-13`` waited on Kafka first; now it exits 2 with the reason at once."""
    def no_kafka(*_: object, **__: object) -> None:
        raise AssertionError("Kafka was read")

    monkeypatch.setattr(cli, "replay_topic", no_kafka)
    arguments = {"--month": "2026-11", "--timezone": "UTC", option: value}
    result = CliRunner().invoke(omnibus, ["report", "handoffs", *(x for pair in arguments.items() for x in pair)])
    assert result.exit_code == 2 and said in result.output, result.output


@pytest.fixture
def command_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    from processors.handoffs import command_cli

    events = asyncio.run(run_scenario())

    async def fake_replay(settings, spec, **_):
        return Replay(list(events))

    monkeypatch.setattr(command_cli, "replay_topic", fake_replay)


def test_a_command_on_an_unknown_or_closed_handoff_is_refused_in_one_line(command_replay: None) -> None:
    runner = CliRunner()
    unknown = runner.invoke(omnibus, ["handoffs", "acknowledge", "nope", "--by", "agent-1"])
    assert unknown.exit_code == 2 and len(unknown.output.strip().splitlines()) == 1, unknown.output
    assert unknown.output.startswith("error: no handoff nope on ") and "no HandoffCreated" in unknown.output
    closed = runner.invoke(omnibus, ["handoffs", "resolve", "h1", "--by", "agent-1", "--reason", "done"])
    assert closed.exit_code == 2 and "h1 is closed; `omnibus handoffs reopen` it first" in closed.output
    missing = runner.invoke(omnibus, ["handoffs", "transfer", "h3", "--by", "agent-1"])
    assert missing.exit_code == 2 and "--reason" in missing.output
    shown = runner.invoke(omnibus, ["handoffs", "show", "h2", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.output)["status"] == "RESOLVED", shown.output
    bad_close = runner.invoke(omnibus, ["handoffs", "close", "h3", "--by", "lead-1", "--reason", "forgotten"])
    assert bad_close.exit_code == 2 and "--reason must be one of AUTO_CLOSED, CONFIRMED" in bad_close.output


def test_show_says_when_and_by_whom_a_case_was_acknowledged_or_that_it_is_not_yet(command_replay: None) -> None:
    """Reported: after ``handoffs acknowledge`` only ``version`` moved in ``show``, and ``--json`` had no
    acknowledgement. h1 was acknowledged by its receiving system, h3 never (the scenario's lost handoff)."""
    runner = CliRunner()
    h1 = runner.invoke(omnibus, ["handoffs", "show", "h1"])
    assert h1.exit_code == 0 and "  acknowledged: 2026-11-02T09:06:00+00:00 by finance-desk (its case F-9)\n" in (
        h1.output), h1.output
    as_json = json.loads(runner.invoke(omnibus, ["handoffs", "show", "h1", "--json"]).output)
    assert as_json["acknowledged"] is True and as_json["acknowledgement"] == {
        "at": "2026-11-02T09:06:00+00:00", "event": "HandoffAcknowledged", "by": None,
        "receiving_system": "finance-desk", "external_reference": "F-9"}
    h3 = runner.invoke(omnibus, ["handoffs", "show", "h3"])
    assert h3.exit_code == 0 and "  acknowledged: not yet\n" in h3.output, h3.output
    h3_json = json.loads(runner.invoke(omnibus, ["handoffs", "show", "h3", "--json"]).output)
    assert h3_json["acknowledged"] is False and h3_json["acknowledgement"] is None


class RecordingProducer:
    """Stands in for the producer of a command whose replay is served from memory (no broker in this file)."""

    sent: list = []

    def __init__(self, *_: object) -> None:
        pass

    async def __aenter__(self) -> "RecordingProducer":
        return self

    async def __aexit__(self, *_: object) -> None:
        pass

    async def publish(self, outgoing) -> None:
        self.sent.append(outgoing)


@pytest.fixture
def publishing(command_replay: None, monkeypatch: pytest.MonkeyPatch, tmp_path) -> list:
    from processors.handoffs import command_cli

    RecordingProducer.sent = []
    monkeypatch.setattr(command_cli, "EventProducer", RecordingProducer)
    monkeypatch.setattr(command_cli, "build_serde", lambda _registry: (None, None))
    policy = tmp_path / "policy.yaml"
    policy.write_text("teams: [{name: back-office}, {name: repair}]\n")
    monkeypatch.setenv("OMNIBUS_PROCESSOR_HANDOFFS__POLICY_FILE", str(policy))
    return RecordingProducer.sent


def test_a_transfer_to_a_team_the_policy_does_not_name_is_refused_unless_allowed(publishing: list) -> None:
    """tester10 #5: ``transfer --to`` a team missing from the policy was published without a word."""
    runner = CliRunner()
    typo = ["handoffs", "transfer", "h3", "--by", "agent-1", "--reason", "not ours", "--to", "repiar"]
    refused = runner.invoke(omnibus, typo)
    assert refused.exit_code == 2 and not publishing, refused.output
    assert refused.stderr.startswith("error: team 'repiar' is not in the handoff policy ")
    assert "known: back-office, back-office/head" in refused.stderr and "--allow-unknown-team" in refused.stderr
    allowed = runner.invoke(omnibus, [*typo, "--allow-unknown-team"])
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stderr.startswith("warning: team 'repiar' is not in the handoff policy")
    ((sent,),) = [publishing]
    assert sent.key == "h3" and sent.event.value["to_team"] == "repiar"
    known = runner.invoke(omnibus, ["handoffs", "transfer", "h3", "--by", "agent-1", "--reason", "ours", "--team",
                                    "repair"])
    assert known.exit_code == 0 and not known.stderr and len(publishing) == 2, known.output


CARD = "4111111111111111"


@pytest.mark.parametrize(("action", "handoff", "field"), [
    ("transfer", "h3", "reason"), ("hold", "h3", "request"), ("resolve", "h3", "resolution"), ("reopen", "h1", "reason")])
def test_a_card_number_in_a_reason_is_masked_before_publishing_and_the_operator_told(
        publishing: list, action: str, handoff: str, field: str) -> None:
    """tester24 F5: ``hold`` and ``resolve --reason`` put a card number on handoff.events.v1 as typed. (The customer
    is quoted the text of ``hold`` and ``resolve``: masked, it is sent only with ``--send-masked``, tester32 F7.)"""
    send_masked = ["--send-masked"] if action in CUSTOMER_QUOTED else []
    result = CliRunner().invoke(omnibus, ["handoffs", action, handoff, "--by", "fin-9", *send_masked, "--reason",
                                          f"ref card {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}, see support@example.fr"])
    assert result.exit_code == 0, result.output
    ((sent,),) = [publishing]
    assert sent.event.value[field] == "ref card [digits], see [email]"
    assert CARD[4:8] not in json.dumps(sent.event.value, default=str)
    assert "note: --reason: masked 1 card number, 1 e-mail address before publishing" in result.stderr
    assert CARD[4:8] not in result.output + result.stderr and "support@" not in result.stderr


def test_a_reason_without_identifiers_is_published_as_typed_without_a_note(publishing: list) -> None:
    text = "line repaired; invoice BILL-2024-04 credited 89.90 EUR"
    result = CliRunner().invoke(omnibus, ["handoffs", "resolve", "h3", "--by", "fin-9", "--reason", text])
    assert result.exit_code == 0 and not result.stderr, result.output
    ((sent,),) = [publishing]
    assert sent.event.value["resolution"] == text


@pytest.mark.parametrize("name", SPELLINGS)
@pytest.mark.parametrize(("action", "handoff", "field"), [("resolve", "h3", "resolution"), ("reopen", "h1", "reason")])
def test_a_declared_reference_in_any_spelling_of_its_name_is_published_whole_by_the_command(
        publishing: list, name: str, action: str, handoff: str, field: str) -> None:
    """tester26 F8/F11 through ``omnibus handoffs``: ``meter_point`` declared, an agent types ``Meter-Point: ...``;
    the command publishes it whole, masks the phone beside it, and its note counts the phone only."""
    reason = f"Gas restored, {name}: {PRM} checked; call 06 12 34 56 78"
    send_masked = ["--send-masked"] if action in CUSTOMER_QUOTED else []
    with declared_references(DECLARED):
        result = CliRunner().invoke(omnibus, ["handoffs", action, handoff, "--by", "fin-9", *send_masked,
                                              "--reason", reason])
    assert result.exit_code == 0, result.output
    ((sent,),) = [publishing]
    assert sent.event.value[field] == f"Gas restored, {name}: {PRM} checked; call [digits]"
    assert "note: --reason: masked 1 number before publishing" in result.stderr


REFUND = "Hemos abonado 89,90 EUR en su cuenta el 04/12/2026; la tarjeta 4532 0151 1283 0002 sigue bloqueada"
DOCUMENTS = "Necesitamos copia del DNI 48765431A y el justificante"


@pytest.mark.parametrize(("action", "text", "would_be", "customer_reads"), [
    ("resolve", REFUND, "1 date, 1 card number",
     "Hemos abonado 89,90 EUR en su cuenta el [date dd/dd/dddd]; la tarjeta [digits] sigue bloqueada"),
    ("hold", DOCUMENTS, "1 number", "Necesitamos copia del DNI [digits] y el justificante"),
])
def test_tester32_f7_a_customer_quoted_text_the_scrubber_would_alter_is_refused_unless_sent_masked(
        publishing: list, action: str, text: str, would_be: str, customer_reads: str) -> None:
    """tester32 F7: ``resolve --reason`` with a refund date and a card number sent the customer's SMS "[date
    dd/dd/dddd]", with only a ``note:`` on stderr. The command now refuses, saying what would be masked and what the
    customer would read (never a value); ``--send-masked`` sends it masked, as before."""
    runner = CliRunner()
    refused = runner.invoke(omnibus, ["handoffs", action, "h3", "--by", "E1042", "--reason", text])
    assert refused.exit_code == 2 and not publishing, refused.output
    assert refused.stderr.startswith(f"error: --reason is quoted to the customer and would reach them altered: "
                                     f"{would_be} would be masked")
    assert repr(customer_reads) in refused.stderr and "--send-masked" in refused.stderr
    assert "0151" not in refused.stderr and "48765431" not in refused.stderr
    sent_masked = runner.invoke(omnibus, ["handoffs", action, "h3", "--by", "E1042", "--reason", text,
                                          "--send-masked"])
    assert sent_masked.exit_code == 0, sent_masked.output
    assert f"note: --reason: masked {would_be} before publishing" in sent_masked.stderr
    ((sent,),) = [publishing]
    assert sent.event.value["resolution" if action == "resolve" else "request"] == customer_reads


@pytest.mark.parametrize("action", sorted(CUSTOMER_QUOTED))
def test_tester32_f7_the_text_rewritten_as_the_refusal_suggests_is_sent_as_typed(publishing: list, action: str) -> None:
    text = "Hemos abonado 89,90 EUR el 4 de diciembre; la tarjeta terminada en 0002 sigue bloqueada"
    result = CliRunner().invoke(omnibus, ["handoffs", action, "h3", "--by", "E1042", "--reason", text])
    assert result.exit_code == 0 and not result.stderr, result.output
    ((sent,),) = [publishing]
    assert sent.event.value["resolution" if action == "resolve" else "request"] == text
