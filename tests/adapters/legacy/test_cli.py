from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from adapters.base.checkpoint import Checkpoint
from adapters.base.cli import EXIT_REJECTED_LINES
from adapters.base import import_target
from adapters.base.import_target import ImportTarget
from adapters.legacy import cli as legacy_cli
from adapters.legacy.cli import app, context, import_exit_code
from adapters.legacy.config import LegacySettings
from adapters.legacy.ingress_batch import BatchReport
from adapters.legacy.mapper import BusinessRecord, map_business
from bus.config import OmnibusSettings
from bus.errors import MissingTopicError
from bus.topics import BUSINESS_EVENTS
from tests.adapters.base.support import MissingTopicAdmin
from tests.adapters.legacy.support import EXAMPLES, SAMPLES
from tests.bus.identifiers.support import identifier_settings
from tests.support.kafka_io import read_events
from tests.support.ports import metrics_port_taken
from tests.support.settings import settings_with_topics

runner = CliRunner()


def _environment_on_the_broker(
    monkeypatch: pytest.MonkeyPatch, bootstrap_servers: str, tmp_path: Path
) -> OmnibusSettings:
    """Point the CLI at fresh topics of the session broker, with its state in ``tmp_path``; returns their settings."""
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    for name, value in {"KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "TOPICS__PREFIX": settings.topics.prefix,
                        "TOPICS__PARTITIONS": "3", "METRICS__ENABLED": "false", "LOG__JSON_OUTPUT": "false",
                        "ADAPTER_LEGACY__STATE_DIR": str(tmp_path / "state")}.items():
        monkeypatch.setenv(f"OMNIBUS_{name}", value)
    return settings


def test_install_outbox_prints_its_ddl_for_the_configured_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__OUTBOX", '{"table": "billing_outbox"}')
    result = runner.invoke(app, ["install-outbox", "--print"])
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE IF NOT EXISTS billing_outbox" in result.output and "omnibus_outbox" not in result.output


@pytest.mark.postgres
def test_install_outbox_can_run_twice(monkeypatch: pytest.MonkeyPatch, postgres_dsn: str) -> None:
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__DATABASE_URL", postgres_dsn)
    monkeypatch.setenv("OMNIBUS_METRICS__ENABLED", "false")
    for _ in range(2):
        result = runner.invoke(app, ["install-outbox"])
        assert result.exit_code == 0, result.output
    with psycopg.connect(postgres_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM omnibus_outbox").fetchone() == (0,)


@pytest.mark.kafka
def test_import_batch_reports_and_remembers_what_it_imported(
    monkeypatch: pytest.MonkeyPatch, bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = _environment_on_the_broker(monkeypatch, bootstrap_servers, tmp_path)
    export = tmp_path / "bills.csv"
    shutil.copy(EXAMPLES / "bills.csv", export)
    arguments = ["import-batch", "--layout", str(EXAMPLES / "bills_layout.yaml"), str(export)]
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    assert "bills.csv: 3 lines, 3 events published, 0 duplicates, 0 rejected" in first.output
    second = runner.invoke(app, arguments)
    assert "already imported" in second.output
    assert len(asyncio.run(read_events(settings, BUSINESS_EVENTS))) == 3


@pytest.mark.kafka
def test_f6_a_file_imported_to_one_prefix_is_imported_in_full_to_another_from_the_same_host(
    monkeypatch: pytest.MonkeyPatch, bootstrap_servers: str, tmp_path: Path
) -> None:
    """F6: the memory of what was imported was the host's: a new stack (another prefix here, another broker alike) run
    from the same machine answered "already imported" and published nothing. It is the cluster's and prefix's now,
    and a file imported there before names them and when."""
    first = _environment_on_the_broker(monkeypatch, bootstrap_servers, tmp_path)
    export = tmp_path / "bills.csv"
    shutil.copy(EXAMPLES / "bills.csv", export)
    arguments = ["import-batch", "--layout", str(EXAMPLES / "bills_layout.yaml"), str(export)]
    assert runner.invoke(app, arguments).exit_code == 0
    second = asyncio.run(settings_with_topics(bootstrap_servers))
    monkeypatch.setenv("OMNIBUS_TOPICS__PREFIX", second.topics.prefix)  # the same state directory
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "bills.csv: 3 lines, 3 events published, 0 duplicates, 0 rejected" in result.output
    assert len(asyncio.run(read_events(second, BUSINESS_EVENTS))) == 3
    monkeypatch.setenv("OMNIBUS_TOPICS__PREFIX", first.topics.prefix)
    again = runner.invoke(app, arguments)
    assert again.exit_code == 0, again.output
    assert re.search(rf"bills.csv: already imported to cluster \S+, prefix {first.topics.prefix} on "
                     r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 \(sha256 [0-9a-f]{12}\)", again.output), again.output
    assert len(asyncio.run(read_events(first, BUSINESS_EVENTS))) == 3


def test_f6_state_of_an_earlier_version_stops_the_import_before_anything_is_published_until_told_whose(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """F6's migration: the earlier version recorded no cluster, so neither re-publishing nor skipping is guessed."""
    async def the_cluster(settings: OmnibusSettings, topics: object = ()) -> ImportTarget:
        return ImportTarget("4L6g3nShT-eMCtK--X86sw", settings.topics.prefix)

    monkeypatch.setattr(legacy_cli, "current_target", the_cluster)
    monkeypatch.setattr(legacy_cli, "adapter_runtime", None)  # reached, it would fail with a TypeError
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__STATE_DIR", str(tmp_path / "state"))
    Checkpoint(tmp_path / "state" / "batch" / "bills-0a1b.json").save({"file": "bills.csv", "complete": True})
    result = runner.invoke(app, ["import-batch", "--layout", str(EXAMPLES / "bills_layout.yaml"),
                                 str(EXAMPLES / "bills.csv")])
    assert result.exit_code == 2, result.output
    assert "error: " in result.output and "--earlier-imports here" in result.output
    assert "cluster 4L6g3nShT-eMCtK--X86sw, prefix omnibus" in result.output


def test_an_import_with_rejected_lines_exits_non_zero_unless_asked_not_to() -> None:
    """tester12: "4 lines, 6 events published, 0 duplicates, 1 rejected" exited 0, so a nightly scheduler saw success."""
    clean, bad, again = BatchReport("a", lines=3), BatchReport("b", lines=4, rejected={3: "bad amount"}), \
        BatchReport("b", already_imported=True)
    assert import_exit_code([clean]) == 0 and import_exit_code([again]) == 0
    assert import_exit_code([clean, bad]) == EXIT_REJECTED_LINES != 0
    assert import_exit_code([clean, bad], rejected_ok=True) == 0


def test_rejected_ok_does_not_waive_a_file_of_which_every_line_was_rejected() -> None:
    """``--rejected-ok`` exited 0 for "every line rejected, nothing published": what a changed export format looks
    like, a night of which nothing was imported, so a cron job could not tell it from a good one. It waives rejected
    lines of a file that was imported, nothing else; the ``error:`` line says which it was."""
    from adapters.legacy.cli import exit_reasons

    some = BatchReport("a", lines=4, published_events=3, rejected={3: "bad amount"})
    every = BatchReport("b", lines=2, rejected={1: "bad date", 2: "bad date"}, not_remembered=True)
    assert import_exit_code([some], rejected_ok=True) == 0
    assert import_exit_code([every], rejected_ok=True) == EXIT_REJECTED_LINES
    assert import_exit_code([some, every], rejected_ok=True) == EXIT_REJECTED_LINES
    (only,) = exit_reasons([every])
    assert only.startswith("every line of an export file was rejected") and "--rejected-ok does not waive it" in only
    assert len(exit_reasons([some, every])) == 2 and "--rejected-ok: exit 0" in exit_reasons([some, every])[0]
    # with the flag, waived lines are no reason: the run exits 3 for the other file alone, and says only that
    assert exit_reasons([some, every], rejected_ok=True) == [only]


@pytest.mark.kafka
def test_import_batch_exits_3_when_a_line_is_rejected_and_0_with_rejected_ok(
    monkeypatch: pytest.MonkeyPatch, bootstrap_servers: str, tmp_path: Path
) -> None:
    _environment_on_the_broker(monkeypatch, bootstrap_servers, tmp_path)
    lines = (EXAMPLES / "bills.csv").read_text(encoding="utf-8").splitlines()
    for name, extra in (("strict.csv", []), ("lenient.csv", ["--rejected-ok"])):
        export = tmp_path / name  # a bad amount on line 3; each file its own bills (a re-import is "already imported")
        rows = [lines[0], lines[1].replace("F2024", name[:3]), lines[2].replace("24,50", "vingt").replace("F2024", name[:3])]
        export.write_text("\n".join(rows) + "\n", encoding="utf-8")
        result = runner.invoke(app, ["import-batch", *extra, "--layout", str(EXAMPLES / "bills_layout.yaml"), str(export)])
        assert f"{name}: 2 lines, 1 event published, 0 duplicates, 1 rejected" in result.output, result.output
        assert result.exit_code == (0 if extra else EXIT_REJECTED_LINES), result.output


@pytest.mark.kafka
def test_import_batch_needs_no_metrics_port_and_runs_beside_a_process_holding_it(
    monkeypatch: pytest.MonkeyPatch, bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester13 S4: with 9464 taken (an adapter on the same host, an overlapping import) a nightly import-batch ended
    in ``OSError: [Errno 98] Address already in use``, a traceback and status 1. A one-shot import serves no metrics."""
    settings = _environment_on_the_broker(monkeypatch, bootstrap_servers, tmp_path)
    export = tmp_path / "bills.csv"
    shutil.copy(EXAMPLES / "bills.csv", export)
    with metrics_port_taken(monkeypatch):
        result = runner.invoke(app, ["import-batch", "--layout", str(EXAMPLES / "bills_layout.yaml"), str(export)])
    assert result.exit_code == 0, result.output
    assert "bills.csv: 3 lines, 3 events published" in result.output
    assert len(asyncio.run(read_events(settings, BUSINESS_EVENTS))) == 3


@pytest.mark.kafka
def test_import_batch_summary_counts_dropped_identifiers_by_type_never_their_values(
    monkeypatch: pytest.MonkeyPatch, bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester13 M3: the line ``...;not-a-phone;broken@`` was summed up as "1 lines, 2 events published, 0 duplicates,
    0 rejected", saying nothing of the phone and e-mail left off."""
    _environment_on_the_broker(monkeypatch, bootstrap_servers, tmp_path)
    export = tmp_path / "accounts_2026-12-01.csv"
    shutil.copy(SAMPLES / "accounts_bad_identifiers.csv", export)
    result = runner.invoke(app, ["import-batch", "--layout", str(SAMPLES / "accounts_layout.yaml"), str(export)])
    assert result.exit_code == 0, result.output
    assert ("accounts_2026-12-01.csv: 1 line, 2 events published (1 AccountOpened, 1 IdentifiersObserved), "
            "0 duplicates, 0 rejected, "
            "2 identifiers dropped (EMAIL 1 malformed, PHONE 1 malformed) on line 2") in result.output, result.output
    assert "not-a-phone" not in result.output and "broken@" not in result.output


@pytest.mark.parametrize(("layout", "message"), [
    (SAMPLES / "misspelt_event_layout.yaml", "event: unknown event type 'AccountOpend'; known: AccountOpened"),
    ({"name": "x", "format": "csv", "event": "BillIssued", "fields": {"due": {"column": 0, "type": "date",
                                                                          "format": "%d/%Q"}}}, "is not a strptime"),
    ({"name": "x", "format": "csv", "event": "BillIssued", "fields": {"bill_id": {"colum": 0}}},
     "fields.bill_id.colum: Extra inputs are not permitted"),
    ({"name": "x", "format": "csv", "event": "BillIssued", "fields": {
        "account_number": {"column": 0}, "bill_id": {"column": 1}, "amount": {"column": 2, "type": "decimal"},
        "due_date": {"column": 3, "type": "date", "format": "%d/%m/%Y"}}},
     ": BillIssued requires fields period_start_date, period_end_date, missing from the layout"),
    ({"name": "x", "format": "csv", "event": "AccountOpened", "fields": {
        "account_number": {"column": 0}, "account_type": {"column": 1}, "effective": {"column": 2}}},
     "unknown field 'effective'"),
    ({"name": "x", "format": "csv", "event": "PaymentOverdue", "fields": {
        "account_number": {"column": 0}, "bill_id": {"column": 1}, "amount_due": {"column": 2, "type": "date"},
        "due_date": {"column": 3, "type": "date"}}},
     "field amount_due of PaymentOverdue cannot be read from type date"),
], ids=["misspelt event (tester13 M2)", "bad date format", "unknown key", "missing required field (tester24 F15)",
        "unknown field", "type not convertible"])
def test_an_invalid_layout_is_one_error_line_and_exit_2(
    layout: Path | dict, message: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """tester13 M2: ``event: AccountOpend`` printed two Rich tracebacks and exited 1. Refused before Kafka is asked."""
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("OMNIBUS_METRICS__ENABLED", "false")
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__STATE_DIR", str(tmp_path / "state"))
    if isinstance(layout, dict):
        path = tmp_path / "layout.json"
        path.write_text(json.dumps(layout))
        layout = path
    export = tmp_path / "export.csv"
    export.write_text("A\n1\n")
    result = runner.invoke(app, ["import-batch", "--layout", str(layout), str(export)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "╭" not in result.output
    assert result.output.startswith(f"error: layout {layout}: ") and result.output.count("\n") == 1, result.output
    assert message in result.output
    # tester25 F4: the field path and the reason, not pydantic's "value: Value error," before a validator's own words
    assert "Value error" not in result.output and ": value: " not in result.output, result.output


@pytest.mark.kafka
def test_a_file_missing_a_column_of_its_layout_is_one_error_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, bootstrap_servers: str, tmp_path: Path
) -> None:
    _environment_on_the_broker(monkeypatch, bootstrap_servers, tmp_path)
    export = tmp_path / "accounts.csv"
    lines = (SAMPLES / "accounts_bad_identifiers.csv").read_text().splitlines()
    export.write_text(lines[0].replace(";EMAIL", "") + "\n" + lines[1].rsplit(";", 1)[0] + "\n")
    result = runner.invoke(app, ["import-batch", "--layout", str(SAMPLES / "accounts_layout.yaml"), str(export)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "╭" not in result.output, result.output
    last = result.output.splitlines()[-1]  # after the runtime's start-up log line
    assert last.startswith(f"error: layout {SAMPLES / 'accounts_layout.yaml'} does not describe {export}: "
                           "the header line has no column 'EMAIL'"), result.output


def test_tester15_f6_a_line_left_without_a_trait_is_counted_in_its_file_summary() -> None:
    report = BatchReport("c" * 64, lines=2, published_events=4)
    report.traits.note("birth_date", 2)
    report.traits.note("birth_date", 3)
    assert report.summary("a2.csv") == ("a2.csv: 2 lines, 4 events published, 0 duplicates, 0 rejected, "
                                        "2 traits dropped (birth_date 2) on lines 2, 3")


@pytest.mark.kafka
def test_tester19_f15_a_latin1_export_under_a_utf8_layout_stops_at_its_line_and_resumes_once_corrected(
    monkeypatch: pytest.MonkeyPatch, bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester19 F15: ``CL\\xc9MENT;H\\xe9l\\xe8ne`` read as UTF-8 was published as 'H�l�ne', exit 0. Exit 2 naming the
    line, the byte and the fix; the lines before it are published, the corrected layout's run resumes there."""
    settings = _environment_on_the_broker(monkeypatch, bootstrap_servers, tmp_path)
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__BATCH_CHUNK_LINES", "1")
    latin1 = SAMPLES / "energy_accounts_layout.yaml"
    utf8 = tmp_path / "utf8_layout.yaml"
    utf8.write_text(latin1.read_text().replace("encoding: latin-1\n", ""))
    lines = (SAMPLES / "energy_accounts.csv").read_text(encoding="latin-1").splitlines()
    export = tmp_path / "latin1.csv"
    accented = lines[2].replace("MARTIN", "CLÉMENT").replace("4000 5555 7777", "4000 5555 8888")
    export.write_bytes("\n".join([*lines[:2], accented, lines[1].replace("6666", "9999")]).encode("latin-1") + b"\n")
    at = accented.encode("latin-1").index(b"\xc9") + 1
    wrong = runner.invoke(app, ["import-batch", "--layout", str(utf8), str(export)])
    assert wrong.exit_code == 2, wrong.output
    assert wrong.output.splitlines()[-1] == (
        f"error: layout {utf8} does not describe {export}: line 3 is not utf-8: byte 0xC9 at byte {at} of the line; "
        "set the layout's encoding to the file's (e.g. `encoding: latin-1`) and import it again"), wrong.output
    right = runner.invoke(app, ["import-batch", "--layout", str(latin1), str(export)])
    assert right.exit_code == 0, right.output
    assert "latin1.csv: 2 lines, " in right.output, right.output
    assert len(asyncio.run(read_events(settings, BUSINESS_EVENTS))) == 3  # line 2 once, lines 3 and 4 after it


TESTER24_BILLS_LAYOUT = {  # tester24 F15's billing layout, with the period fields it had left out
    "name": "bills", "format": "csv", "event": "BillIssued", "delimiter": ";", "key": ["bill_id"], "fields": {
        "account_number": {"column": "NUM_COMPTE"}, "bill_id": {"column": "NUM_FACTURE"},
        "amount": {"column": "MONTANT", "type": "decimal"}, "currency": {"column": "DEVISE"},
        "period_start_date": {"column": "DEBUT", "type": "date", "format": "%d/%m/%Y"},
        "period_end_date": {"column": "FIN", "type": "date", "format": "%d/%m/%Y"},
        "due_date": {"column": "ECHEANCE", "type": "date", "format": "%d/%m/%Y"}}}


def test_tester24_f15_check_layout_reads_a_sample_without_kafka_and_names_each_line_it_would_reject(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")  # nothing listens: nothing is published
    layout = tmp_path / "bills.json"
    layout.write_text(json.dumps(TESTER24_BILLS_LAYOUT))
    export = tmp_path / "bills.csv"
    export.write_text("NUM_COMPTE;NUM_FACTURE;MONTANT;DEVISE;DEBUT;FIN;ECHEANCE\n"
                      "ACC-1;F-1;59,99;EUR;01/11/2026;30/11/2026;15/12/2026\n"
                      "ACC-2;F-2;12x;EUR;01/11/2026;30/11/2026;15/12/2026\n"
                      "ACC-3;F-3;10,00;EUR;01/11/2026;30/11/2026;32/12/2026\n"
                      "ACC-4;F-4;10,00;EUR;01/11/2026;30/11/2026;15/12/2026\n")
    result = runner.invoke(app, ["check-layout", "--layout", str(layout), str(export)])
    assert result.exit_code == EXIT_REJECTED_LINES, result.output
    assert result.output.splitlines() == [
        f"layout {layout}: valid (BillIssued, 7 fields)",
        "bills.csv line 3: field amount is malformed (expected decimal, got '12x')",
        "bills.csv line 4: field due_date is malformed (expected date %d/%m/%Y, got '32/12/2026')",
        "bills.csv: 4 lines checked, 2 would be published as 2 events, 2 rejected"]
    assert runner.invoke(app, ["check-layout", "--layout", str(layout), "--lines", "1", str(export)]).exit_code == 0
    assert runner.invoke(app, ["check-layout", "--layout", str(layout)]).exit_code == 0
    fields = {name: spec for name, spec in TESTER24_BILLS_LAYOUT["fields"].items() if name != "period_end_date"}  # type: ignore[attr-defined]
    layout.write_text(json.dumps({**TESTER24_BILLS_LAYOUT, "fields": fields}))
    invalid = runner.invoke(app, ["check-layout", "--layout", str(layout), str(export)])
    assert invalid.exit_code == 2 and invalid.output.startswith(f"error: layout {layout}: BillIssued requires field "
                                                                "period_end_date"), invalid.output  # tester25 F4


@pytest.mark.parametrize("sample", ["", "\n", "\nACC-1;F-1;59,99;EUR;01/11/2026;30/11/2026;15/12/2026\n"])
def test_check_layout_on_a_sample_without_its_header_line_says_to_give_a_complete_export_exit_3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sample: str
) -> None:
    """A zero-byte sample (or a blank first line) is a failed export, not a wrong layout: ``import-batch`` exits 3 for
    it, importing nothing; ``check-layout`` exited 2 ("does not describe"). Now 3 as the import, naming what to do;
    the other samples are still checked."""
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    layout = tmp_path / "bills.json"
    layout.write_text(json.dumps(TESTER24_BILLS_LAYOUT))
    empty, good = tmp_path / "bills_empty.csv", tmp_path / "bills.csv"
    empty.write_text(sample)
    good.write_text("NUM_COMPTE;NUM_FACTURE;MONTANT;DEVISE;DEBUT;FIN;ECHEANCE\n"
                    "ACC-1;F-1;59,99;EUR;01/11/2026;30/11/2026;15/12/2026\n")
    result = runner.invoke(app, ["check-layout", "--layout", str(layout), str(empty), str(good)])
    assert result.exit_code == EXIT_REJECTED_LINES, result.output
    lines = result.output.splitlines()
    assert ("bills_empty.csv: no header line (the file is empty, or its first line is blank: a failed export?): "
            "nothing checked") in lines
    assert "bills.csv: 1 line checked, 1 would be published as 1 event, 0 rejected" in lines
    assert lines[-1].startswith("error: a sample file has no header line") and "complete export" in lines[-1]
    assert lines[-1].endswith(f"exit {EXIT_REJECTED_LINES}") and "does not describe" not in result.output


def test_tester29_f1_check_layout_prints_the_identifiers_and_traits_the_import_would_drop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """tester29 F1: the dry run printed ``0 rejected`` (rc 0) for an export whose import dropped an identifier on every
    line; it prints the import's ``N identifiers dropped (TYPE n) on lines ...`` (never a value), exit 0 still: the
    lines would be published."""
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")  # nothing listens: nothing is published
    layout = tmp_path / "accounts.json"
    layout.write_text(json.dumps({
        "name": "accounts", "format": "csv", "event": "AccountOpened", "delimiter": ";", "phone_region": "FR",
        "fields": {"account_number": {"column": "COMPTE"}, "account_type": {"column": "TYPE"},
                   "email": {"column": "EMAIL"}, "phone": {"column": "TEL"},
                   "birth_date": {"column": "NAISSANCE", "type": "date", "format": "%d/%m/%Y"}}}))
    export = tmp_path / "accounts.csv"
    export.write_text("COMPTE;TYPE;EMAIL;TEL;NAISSANCE\n"
                      "ACC-1;residential;paul@;06 12 34 56 78;31/02/1980\n"
                      "ACC-2;residential;paule@example.fr;123;01/02/1980\n")
    result = runner.invoke(app, ["check-layout", "--layout", str(layout), str(export)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "accounts.csv: 2 lines checked, 2 would be published as 4 events (2 AccountOpened, 2 IdentifiersObserved), "
        "0 rejected, 2 identifiers dropped (EMAIL 1 malformed, PHONE 1 malformed) on lines 2, 3, 1 trait dropped "
        "(birth_date 1) on line 2"]
    assert "paul@" not in result.output and "123" not in result.output


def test_tester25_f5_an_import_to_a_prefix_without_topics_leaves_no_state_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """tester25 F5: ``OMNIBUS_TOPICS__PREFIX=t25staging ... import-batch`` was refused for its missing topics (exit 2)
    after it had made ``targets/<cluster>~t25staging~<digest>/`` and its dedupe file: a folder per typo. The
    topics are checked with the cluster id, before any state."""
    monkeypatch.setattr(import_target, "admin_client", lambda kafka: MissingTopicAdmin())
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("OMNIBUS_TOPICS__PREFIX", "t25staging")
    monkeypatch.setenv("OMNIBUS_METRICS__ENABLED", "false")
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__STATE_DIR", str(tmp_path / "state"))
    result = runner.invoke(app, ["import-batch", "--layout", str(EXAMPLES / "bills_layout.yaml"),
                                 str(EXAMPLES / "bills.csv")])
    assert isinstance(result.exception, MissingTopicError), result.output  # ``omnibus.cli.main``: status 2
    assert str(result.exception).startswith("topics t25staging.business.events.v1, t25staging.identity.observed.v1,")
    assert not (tmp_path / "state").exists()


@pytest.mark.kafka
def test_tester24_f8_an_import_to_a_prefix_whose_topics_were_never_created_exits_2_at_once_naming_them(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester24 F8: ``OMNIBUS_TOPICS__PREFIX=staging ... import-batch`` on a broker without the ``staging.*`` topics
    waited as for an outage ("Kafka has not acknowledged for 90 s", "Topic ... not found in cluster metadata" 577
    times) and gave up after 600 s with 69. The broker answers, so it is configuration: 2 at once, one line naming the
    topics and ``omnibus topics apply``, nothing published. Run as an operator runs it (``omnibus.cli.main``)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"  # no ``topics apply``: none of its topics exists
    env = {**os.environ, "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": prefix,
           "OMNIBUS_METRICS__ENABLED": "false", "OMNIBUS_LOG__JSON_OUTPUT": "false",
           "OMNIBUS_ADAPTER_LEGACY__STATE_DIR": str(tmp_path / "state")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "from omnibus.cli import main; main()", "adapter", "legacy", "import-batch",
         "--layout", str(EXAMPLES / "bills_layout.yaml"), str(EXAMPLES / "bills.csv")],
        env=env, capture_output=True, text=True, timeout=120)  # before: 600 s (``GIVE_UP_AFTER_S``), then 69
    took = time.monotonic() - started
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    last = done.stderr.strip().splitlines()[-1]
    assert last == (f"error: topics {prefix}.business.events.v1, {prefix}.identity.observed.v1, "
                    f"{prefix}.handoff.events.v1, {prefix}.deadletter.v1 do not exist: run `omnibus topics apply` "
                    "(or check OMNIBUS_TOPICS__PREFIX)"), done.stderr[-2000:]
    assert "not acknowledged" not in done.stderr and "infrastructure unavailable" not in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert took < 60, took  # the interpreter's start and imports included; the check itself is one request
    assert not (tmp_path / "state").exists()  # tester25 F5: checked before the target's folder is made


def test_tester32_check_layout_names_the_zone_refuses_a_skipped_time_and_counts_unknown_card_words(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """tester32 F3/F12 on the docs' card example: the zone is named, the spring-forward 02:30 is refused with its
    reason, and a status word no list knows is counted (check-layout said "would be published, 0 rejected")."""
    monkeypatch.setenv("OMNIBUS_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")  # nothing listens: nothing is published
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__HMAC_KEY", "k" * 32)
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES", '["es.dni", "es.nie"]')
    layout = EXAMPLES / "tarjetas_layout.yaml"
    export = tmp_path / "tarjetas.csv"
    export.write_text((EXAMPLES / "tarjetas.csv").read_text()
                      + "5105105105105100;retenida;;;51234567C;29/03/2026 02:30\n"
                      + "5105105105105100;RETENIDA;;;51234567C;29/03/2026 03:30\n")
    result = runner.invoke(app, ["check-layout", "--layout", str(layout), str(export)])
    assert result.exit_code == EXIT_REJECTED_LINES, result.output
    assert result.output.splitlines() == [
        f"layout {layout}: valid (CardStatusChanged, 6 fields, times without a zone in Europe/Madrid)",
        "tarjetas.csv line 7: field changed_at is 2026-03-29 02:30:00, a time that does not exist in Europe/Madrid "
        "(the clocks went forward over it): the export is not written in that zone's wall-clock time, or its clock is "
        "wrong; correct the layout's timezone or the export",
        "tarjetas.csv: 7 lines checked, 6 would be published as 6 events, 1 rejected, 1 card status word unknown "
        "(RETENIDA 1) on line 8: published as UNKNOWN; map them in the card_status field's status_words"]


# tester33 F8: the outbox row of a Brazilian deployment whose amount names no currency
BR_OVERDUE_ROW = {"account_number": "000700777001", "bill_id": "FAT-2026-11-0077001", "amount_due": "312.90",
                  "due_date": "2026-11-10", "given_name": "Carlos", "family_name": "Souza"}


@pytest.mark.parametrize(("region", "currency"), [("BR", "BRL"), ("ES", "EUR")])
def test_tester33_f8_every_path_publishes_an_amount_without_a_currency_in_the_regions(
    region: str, currency: str, tmp_path: Path,
) -> None:
    """The outbox relay, the pollers and the batch import all map through ``context``: R$ 312,90 was € 312,90."""
    settings = OmnibusSettings(identifiers=identifier_settings(default_region=region, national_id_schemes=["br.cpf"]))
    ctx = context(settings, LegacySettings(state_dir=tmp_path))
    record = BusinessRecord("PaymentOverdue", BR_OVERDUE_ROW, "outbox:1", datetime(2026, 12, 4, tzinfo=UTC))
    assert map_business(record, ctx).events[0].event.value["amount_due"] == {"amount_minor": 31290,
                                                                             "currency": currency}


@pytest.mark.parametrize("command", [
    ["relay"], ["poll"], ["check-layout", "--layout", str(EXAMPLES / "bills_layout.yaml")],
    ["import-batch", "--layout", str(EXAMPLES / "bills_layout.yaml"), str(EXAMPLES / "bills.csv")],
])
def test_tester33_f8_a_region_without_one_currency_stops_every_command_at_start(
    command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    """Panama tenders PAB and USD: which one an amount without a currency is cannot be guessed."""
    for name, value in {"KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1", "METRICS__ENABLED": "false",
                        "ADAPTER_LEGACY__STATE_DIR": str(tmp_path), "IDENTIFIERS__DEFAULT_REGION": "PA",
                        "IDENTIFIERS__NATIONAL_ID_SCHEMES": '["us.ssn"]'}.items():
        monkeypatch.setenv(f"OMNIBUS_{name}", value)
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "OMNIBUS_ADAPTER_LEGACY__DEFAULT_CURRENCY" in result.output
    monkeypatch.setenv("OMNIBUS_ADAPTER_LEGACY__DEFAULT_CURRENCY", "USD")
    if command[0] == "check-layout":
        assert runner.invoke(app, command).exit_code == 0
