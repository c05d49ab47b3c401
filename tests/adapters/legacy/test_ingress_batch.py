"""Nightly batch files against the real broker."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from contextlib import AsyncExitStack, closing
from pathlib import Path
from typing import Any

import pytest

from adapters.base.errors import Unavailable
from adapters.base.import_target import ImportTarget
from adapters.base.runtime import adapter_runtime
from adapters.legacy import batch_file, batch_lines, ingress_batch
from adapters.legacy.ingress_batch import BatchImporter, BatchReport
from adapters.legacy.layout import Layout, load_layout
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.legacy.revisions import REVISIONS_FILE, LineRevision, Revision, RevisionStore, content_digest
from bus.identifiers import IdentifierSettings
from bus.identifiers.masking import mask
from bus.topics import BUSINESS_EVENTS
from tests.adapters.contract import AdapterContract, BadSample, Delivery, Sample
from tests.adapters.legacy.support import EXAMPLES, SAMPLES, legacy_context, legacy_settings, utc
from tests.support.kafka_io import read_dead_letters, read_events
from tests.support.settings import settings_with_topics

BILLS = load_layout(EXAMPLES / "bills_layout.yaml")
BILL_LINES = (EXAMPLES / "bills.csv").read_text().splitlines()
HEADER, BILL_ROWS = BILL_LINES[0], BILL_LINES[1:]
BILL = "omnibus.business.BillIssued"


def _as_mapped(line: str) -> Any:
    fields = BILLS.parse(line, BILLS.columns_from(HEADER))
    ctx = legacy_context()
    return map_business(BusinessRecord(BILLS.event, fields, batch_lines.line_id(BILLS, fields, "0" * 64, 2,
                                                                                  ctx.normaliser),
                                       utc(2024, 4, 1)), ctx)


async def start_importer(stack: AsyncExitStack, settings: Any, state_dir: Path, **overrides: Any) -> BatchImporter:
    legacy = legacy_settings(state_dir, **overrides)
    runtime = await stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    return BatchImporter(legacy_context(settings.topics), runtime.publisher, state_dir,
                         chunk_lines=legacy.batch_chunk_lines)


class TestBatchFileContract(AdapterContract):
    """A native is one data line of the bills export, delivered as a file with the export's header."""

    source_component = "adapter.legacy"
    samples = [Sample(f"bill {n}", line, [(BILL, line.split(";")[0])]) for n, line in enumerate(BILL_ROWS, 1)]
    bad_samples = [
        BadSample("French date expected", BILL_ROWS[0].replace("15/04/2024", "2024-04-15"),
                  reason="field due_date is malformed"),
        BadSample("amount not a number", BILL_ROWS[1].replace("24,50", "vingt"), reason="field amount is malformed"),
        BadSample("no bill number", BILL_ROWS[2].replace("F2024-03-0042119", ""), reason="bill_id is missing"),
    ]

    @pytest.fixture
    def mapper(self) -> Any:
        return _as_mapped

    @pytest.fixture
    def adapter(self, exit_stack: AsyncExitStack, tmp_path: Path) -> Any:
        async def start(settings: Any, **overrides: Any) -> Any:
            state = tmp_path / uuid.uuid4().hex
            importer = await start_importer(exit_stack, settings, state, **overrides)

            async def deliver(line: str) -> Delivery:
                path = state / f"bills-{hashlib.sha256(line.encode()).hexdigest()[:8]}.csv"
                path.write_text(f"{HEADER}\n{line}\n")
                try:
                    report = await importer.import_file(path, BILLS)
                except Unavailable as exc:
                    return Delivery(accepted=False, reason=exc.reason)
                reason = next(iter(report.rejected.values()), None)
                return Delivery(accepted=reason is None, reason=reason)

            return deliver

        return start


async def _bills(settings: Any) -> list[str]:
    return [landed.event.value["bill_id"] for landed in await read_events(settings, BUSINESS_EVENTS)]


@pytest.mark.kafka
async def test_a_fixed_width_file_with_header_and_trailer_records(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    importer = await start_importer(exit_stack, settings, tmp_path)
    report = await importer.import_file(EXAMPLES / "overdue.txt", load_layout(EXAMPLES / "overdue_layout.yaml"))
    assert (report.lines, report.published_events, report.rejected) == (2, 2, {})
    values = [landed.event.value for landed in await read_events(settings, BUSINESS_EVENTS)]
    assert sorted((v["bill_id"], v["amount_due"]["amount_minor"], v["days_overdue"]) for v in values) == [
        ("F2024-02-0039904", 2450, 43), ("F2024-03-0042117", 5999, 12)]


@pytest.mark.kafka
async def test_a_crash_mid_file_resumes_at_the_first_unacknowledged_chunk(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    path = tmp_path / "bills.csv"
    shutil.copy(EXAMPLES / "bills.csv", path)
    real = batch_file.map_business

    def power_cut_on_the_third_bill(record: BusinessRecord, ctx: Any) -> Any:
        if record.fields["bill_id"] == "F2024-03-0042119":
            raise KeyboardInterrupt("power cut")
        return real(record, ctx)

    monkeypatch.setattr(batch_file, "map_business", power_cut_on_the_third_bill)
    async with AsyncExitStack() as crashing:
        importer = await start_importer(crashing, settings, tmp_path, batch_chunk_lines=1)
        with pytest.raises(KeyboardInterrupt):
            await importer.import_file(path, BILLS)
    saved = importer.checkpoint(BILLS, ingress_batch.file_checksum(path)).load()
    assert saved.pop("exported_at")  # the instant the file's undated records are stamped with (batch_lines)
    assert saved == {"file": "bills.csv", "line": 3, "complete": False, "accepted": 2, "rejected": 0,
                     "offset": len("\n".join(BILL_LINES[:3]).encode()) + 1}

    monkeypatch.setattr(batch_file, "map_business", real)
    importer = await start_importer(exit_stack, settings, tmp_path, batch_chunk_lines=1)
    resumed = await importer.import_file(path, BILLS)
    assert (resumed.lines, resumed.published_events, resumed.duplicates) == (1, 1, 0)
    assert sorted(await _bills(settings)) == ["F2024-03-0042117", "F2024-03-0042118", "F2024-03-0042119"]


@pytest.mark.kafka
async def test_a_file_imported_twice_or_its_facts_in_a_later_file_publish_nothing_new(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    importer = await start_importer(exit_stack, settings, tmp_path)
    first = await importer.import_file(EXAMPLES / "bills.csv", BILLS)
    assert first.published_events == 3
    assert (await importer.import_file(EXAMPLES / "bills.csv", BILLS)).already_imported
    later = tmp_path / "bills-2024-04-02.csv"  # yesterday's bills again, plus a new one
    later.write_text("\n".join([HEADER, *BILL_ROWS, BILL_ROWS[0].replace("0042117", "0042120")]) + "\n")
    again: BatchReport = await importer.import_file(later, BILLS)
    assert (again.lines, again.duplicates, again.published_events) == (4, 3, 1)
    assert sorted(await _bills(settings)) == [f"F2024-03-00421{n}" for n in (17, 18, 19, 20)]


@pytest.mark.kafka
async def test_without_a_business_key_the_file_checksum_and_line_identify_a_fact(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    keyless = Layout.model_validate({**BILLS.model_dump(), "key": ()})
    importer = await start_importer(exit_stack, settings, tmp_path)
    assert (await importer.import_file(EXAMPLES / "bills.csv", keyless)).published_events == 3
    for checkpoint in (tmp_path / "batch").iterdir():
        checkpoint.unlink()  # forget the file was imported: the dedupe store still knows its lines
    again = await importer.import_file(EXAMPLES / "bills.csv", keyless)
    assert (again.lines, again.duplicates, again.published_events) == (3, 3, 0)
    assert len(await _bills(settings)) == 3


@pytest.mark.kafka
async def test_a_bad_line_is_dead_lettered_with_its_line_number_and_the_import_goes_on(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    path = tmp_path / "bills.csv"
    path.write_text("\n".join([HEADER, BILL_ROWS[0], "ACC-1;;;;;;;;", BILL_ROWS[1]]) + "\n")
    report = await (await start_importer(exit_stack, settings, tmp_path)).import_file(path, BILLS)
    assert report.published_events == 2 and list(report.rejected) == [3]
    (letter,) = await read_dead_letters(settings)
    headers = {h["key"]: h["value"] for h in letter["headers"]}
    assert headers["file.line"] == b"3"  # its clear copy: the account column masked, the other columns as they were
    assert letter["value"] == f"{mask('ACCOUNT', 'ACC-1')};;;;;;;;".encode()
    assert "bills.csv line 3" in letter["reason"]


@pytest.mark.kafka
async def test_tester15_f6_a_malformed_birth_date_loses_the_trait_not_the_account(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester15 F6: ``31/02/1980`` dead-lettered the whole AccountOpened (exit 3). The account flows without the
    birth date, the trait is counted on its line, nothing is dead-lettered; the IBAN column is an ACCOUNT (F5)."""
    from adapters.legacy.cli import context
    from bus.topics import IDENTIFIERS_OBSERVED

    settings = await settings_with_topics(bootstrap_servers)
    legacy = legacy_settings(tmp_path)
    runtime = await exit_stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    layout = load_layout(SAMPLES / "energy_accounts_layout.yaml")
    importer = BatchImporter(context(settings, legacy, layout.phone_region), runtime.publisher, tmp_path)
    path = tmp_path / "a2.csv"
    shutil.copy(SAMPLES / "energy_accounts.csv", path)
    report = await importer.import_file(path, layout)
    assert report.summary("a2.csv") == (  # the sample's phones 04 00 00 00 0x are no numbers; its IBAN is mistyped
        "a2.csv: 2 lines, 4 events published (2 AccountOpened, 2 IdentifiersObserved), 0 duplicates, 0 rejected, "
        "3 identifiers dropped (ACCOUNT 1 malformed, PHONE 2 malformed) on lines 2, 3, 2 traits dropped (birth_date 2) "
        "on lines 2, 3")
    accounts = [landed.event.value for landed in await read_events(settings, BUSINESS_EVENTS)]
    assert sorted(value["account_number"] for value in accounts) == ["400055556666", "400055557777"]
    observed = {landed.event.value["traits"]["given_name"]: landed.event.value
                for landed in await read_events(settings, IDENTIFIERS_OBSERVED)}
    assert "birth_date" not in observed["PAUL"]["traits"] and observed["PAUL"]["traits"]["family_name"] == "MARTIN"
    assert [item["code"] for item in observed["PAUL"]["rejected_identifiers"]] == ["phone-invalid", "iban-checksum"]
    assert await read_dead_letters(settings) == []


@pytest.mark.kafka
async def test_tester32_the_card_example_imports_in_madrid_time_and_counts_the_words_it_does_not_know(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester32 F3: the 08:30 Madrid block was published at 08:30Z; F12: an unknown status word was imported without
    a word. The docs' card example, with one line of a word neither list knows."""
    from adapters.legacy.cli import context
    from bus.config import OmnibusSettings

    base = await settings_with_topics(bootstrap_servers)
    settings = OmnibusSettings(kafka=base.kafka, topics=base.topics, identifiers=IdentifierSettings(
        hmac_key="k" * 32, default_region="ES", national_id_schemes=["es.dni", "es.nie"]))
    legacy = legacy_settings(tmp_path)
    runtime = await exit_stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    layout = load_layout(EXAMPLES / "tarjetas_layout.yaml")
    importer = BatchImporter(context(settings, legacy, layout.phone_region, layout), runtime.publisher, tmp_path)
    path = tmp_path / "tarjetas.csv"
    path.write_text((EXAMPLES / "tarjetas.csv").read_text()
                    + "5105105105105100;EN REVISIÓN;;;51234567C;04/11/2026 09:00\n")
    report = await importer.import_file(path, layout)
    assert report.summary("tarjetas.csv") == (
        "tarjetas.csv: 6 lines, 6 events published, 0 duplicates, 0 rejected, 1 card status word unknown "
        "(EN REVISIÓN 1) on line 7: published as UNKNOWN; map them in the card_status field's status_words")
    cards = [landed.event.value for landed in await read_events(settings, BUSINESS_EVENTS)]
    statuses = sorted((card["envelope"]["occurred_at"], card["source_status"], card["status"]) for card in cards)
    assert [(word, status, at) for at, word, status in statuses] == [
        ("BLOQUEADA", "BLOCKED", utc(2026, 11, 3, 7, 30)), ("SUSTITUIDA", "REPLACED", utc(2026, 11, 3, 7, 45)),
        ("DUPLICADO", "REPLACED", utc(2026, 11, 3, 9, 2)), ("BLOQUEO POR FRAUDE", "BLOCKED", utc(2026, 11, 3, 10, 47)),
        ("BLQ-PREV", "BLOCKED", utc(2026, 11, 3, 11, 5)), ("EN REVISIÓN", "UNKNOWN", utc(2026, 11, 4, 8))]


async def test_tester17_n7_a_layout_that_no_longer_describes_a_file_imported_before_is_refused_not_already_imported(
    tmp_path: Path,
) -> None:
    """tester17 N7: a layout whose column the header lacks answered ``already imported`` (rc 0) for a file imported
    before; the header is checked first, so it is the documented ``LayoutError`` (rc 2) whether or not it was."""
    from adapters.legacy.errors import LayoutError

    importer = BatchImporter(legacy_context(), None, tmp_path)  # type: ignore[arg-type]  # nothing to publish
    path = EXAMPLES / "bills.csv"
    importer.checkpoint(BILLS, ingress_batch.file_checksum(path)).save({"file": path.name, "complete": True})
    assert (await importer.import_file(path, BILLS)).already_imported
    renamed = BILLS.fields["due_date"].model_copy(update={"column": "DATE_ECHEANCE"})
    changed = Layout.model_validate({**BILLS.model_dump(), "fields": {**BILLS.fields, "due_date": renamed}})
    with pytest.raises(LayoutError, match="the header line has no column 'DATE_ECHEANCE'"):
        await importer.import_file(path, changed)


async def test_f6_a_file_imported_before_names_the_cluster_prefix_and_time_it_was_imported_to(tmp_path: Path) -> None:
    """F6: "already imported" named neither where nor when; a checkpoint of an earlier version (no target, no time)
    belongs to the target that claimed that state, and its time is when it was written last."""
    target = ImportTarget("4L6g3nShT-eMCtK--X86sw", "omnibus")
    importer = BatchImporter(legacy_context(), None, tmp_path, target=target)  # type: ignore[arg-type]
    path = EXAMPLES / "bills.csv"
    checkpoint = importer.checkpoint(BILLS, ingress_batch.file_checksum(path))
    checkpoint.save({"file": path.name, "complete": True})
    os.utime(checkpoint.path, (1_764_670_000, 1_764_670_000))
    report = await importer.import_file(path, BILLS)
    assert report.summary("bills.csv") == ("bills.csv: already imported to cluster 4L6g3nShT-eMCtK--X86sw, prefix "
                                           f"omnibus on 2025-12-02T10:06:40+00:00 (sha256 {report.checksum[:12]}); "
                                           "to publish it again (a corrected layout, an identifier setting set since), "
                                           "import it under a new layout `name` (under this one it is imported "
                                           "already: docs/legacy-batch.md)")
    checkpoint.save({"file": path.name, "complete": True, "completed_at": "2026-12-02T11:08:42+00:00"})
    assert "on 2026-12-02T11:08:42+00:00" in (await importer.import_file(path, BILLS)).summary("bills.csv")


def test_f6_state_of_an_earlier_version_is_its_batch_checkpoints_or_revisions(tmp_path: Path) -> None:
    assert not ingress_batch.has_batch_state(tmp_path)
    (tmp_path / "batch").mkdir()
    (tmp_path / "dedupe.sqlite").touch()  # the relay's and pollers' too: no import remembered by it alone
    assert not ingress_batch.has_batch_state(tmp_path)
    (tmp_path / "batch" / "bills-0a1b.json").write_text("{}")
    assert ingress_batch.has_batch_state(tmp_path)


def test_f2_the_summary_counts_changed_lines_only_when_there_are_some() -> None:
    report = BatchReport("0" * 64, lines=4, published_events=4, duplicates=2, changed=1)
    assert report.summary("accounts_2.csv") == (
        "accounts_2.csv: 4 lines, 4 events published, 2 duplicate lines, 1 changed, 0 rejected")
    assert BatchReport("0" * 64, lines=1, published_events=1).summary("a.csv") == (
        "a.csv: 1 line, 1 event published, 0 duplicates, 0 rejected")


@pytest.mark.kafka
async def test_f2_a_changed_master_record_is_a_newer_fact_not_a_duplicate(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester F2: the next night's customer-master export had a moved customer's line (new address, new mobile) under
    the same account number; it was counted a duplicate and dropped. It is published as a newer fact, with an event
    id of its own, and so is the line changed back the night after; an unchanged line stays a duplicate."""
    settings = await settings_with_topics(bootstrap_servers)
    layout = load_layout(SAMPLES / "energy_accounts_layout.yaml")
    header, *rows = (SAMPLES / "energy_accounts.csv").read_text(encoding="latin-1").splitlines()
    paul, paule = (row.replace("31/02/1980", "28/02/1980").replace("1980-02-01", "01/02/1980") for row in rows)
    moved = paul.replace("1 rue X;69001;Lyon;04 00 00 00 01", "9 quai Y;69002;Lyon;06 12 34 56 78")
    newcomer = paule.replace("4000 5555 7777", "4000 5555 8888")
    importer = await start_importer(exit_stack, settings, tmp_path)
    nights = {"a1.csv": [paul, paule], "a2.csv": [moved, paule, newcomer], "a3.csv": [paul, paule, newcomer]}
    summaries = []
    for name, rows in nights.items():
        path = tmp_path / name
        path.write_text("\n".join([header, *rows]) + "\n", encoding="latin-1")
        summaries.append((await importer.import_file(path, layout)).summary(name))
    assert summaries == [
        "a1.csv: 2 lines, 2 events published, 0 duplicates, 0 rejected",
        "a2.csv: 3 lines, 2 events published, 1 duplicate line, 1 changed, 0 rejected",
        "a3.csv: 3 lines, 1 event published, 2 duplicate lines, 1 changed, 0 rejected",
    ]
    accounts = [landed.event.value for landed in await read_events(settings, BUSINESS_EVENTS)]
    paul_ids = [value["envelope"]["event_id"] for value in accounts if value["account_number"] == "400055556666"]
    assert len(paul_ids) == len(set(paul_ids)) == 3


@pytest.mark.kafka
async def test_f2_a_changed_line_of_a_one_shot_layout_is_dead_lettered_not_dropped(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    bills = Layout.model_validate({**BILLS.model_dump(), "on_change": "dead-letter"})
    importer = await start_importer(exit_stack, settings, tmp_path)
    assert (await importer.import_file(EXAMPLES / "bills.csv", bills)).published_events == 3
    later = tmp_path / "bills-2024-04-02.csv"  # the first bill again, with another amount
    later.write_text("\n".join([HEADER, BILL_ROWS[0].replace("59,99", "69,99"), *BILL_ROWS[1:]]) + "\n")
    again = await importer.import_file(later, bills)
    assert (again.lines, again.duplicates, again.published_events, list(again.rejected)) == (3, 2, 0, [2])
    (letter,) = await read_dead_letters(settings)
    assert "published before with other content" in letter["reason"]


def test_tester19_f15_a_byte_not_in_the_layouts_encoding_is_a_layout_error_naming_line_byte_and_fix() -> None:
    from io import BytesIO

    from adapters.legacy.errors import LayoutError

    assert batch_lines.decoded("Hélène".encode("latin-1"), "latin-1", 2) == "Hélène"
    with pytest.raises(LayoutError, match=r"^line 2 is not utf-8: byte 0xE9 at byte 2 of the line; set the layout's "
                                          r"encoding to the file's \(e.g. `encoding: latin-1`\)"):
        batch_lines.decoded("Hélène".encode("latin-1"), "utf-8", 2)
    header = BytesIO((HEADER + ";REMARQUÉ").encode("latin-1") + b"\n")
    with pytest.raises(LayoutError, match=r"^line 1 is not utf-8-sig: byte 0xC9"):  # the header too: no traceback
        batch_lines.header_columns(header, BILLS)


@pytest.mark.kafka
async def test_tester19_f5_a_record_cut_by_an_unquoted_newline_is_two_refused_lines_not_a_half_bill(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester19 F5: the first half of a record cut by a newline was published with its other fields empty."""
    settings = await settings_with_topics(bootstrap_servers)
    cells = BILL_ROWS[1].split(";")
    head, tail = ";".join(cells[:3]) + ";" + cells[3][:4], cells[3][4:] + ";" + ";".join(cells[4:])
    path = tmp_path / "bills.csv"
    path.write_text("\n".join([HEADER, BILL_ROWS[0], head, tail, BILL_ROWS[2]]) + "\n")
    report = await (await start_importer(exit_stack, settings, tmp_path)).import_file(path, BILLS)
    header = len(HEADER.split(";"))
    assert report.rejected == {3: f"bills.csv line 3: the line has 4 fields, the header {header}",
                               4: f"bills.csv line 4: the line has {header - 3} fields, the header {header}"}
    assert sorted(await _bills(settings)) == sorted(row.split(";")[1] for row in (BILL_ROWS[0], BILL_ROWS[2]))
    assert {letter["error_type"] for letter in await read_dead_letters(settings)} == {"RejectedInput.field_count"}


class _Publisher:
    """In process: an ``AdapterPublisher`` whose Kafka acknowledges everything, with a dedupe store of the ids it
    published (a record published twice would be counted twice in ``events``)."""

    name = "legacy"

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.events: list[Any] = []
        self.dead_letters: list[str] = []

    def encode_now(self, record: Any) -> Any:
        return record

    async def submit(self, records: list[Any], *, received_at: float | None = None) -> Any:
        from adapters.base.publisher import SubmitResult

        new = [record for record in records if record.dedupe_id not in self.ids]
        self.ids.update(record.dedupe_id for record in new)
        self.events += [event for record in new for event in record.events]
        return SubmitResult(sum(len(record.events) for record in new), len(records) - len(new),
                            tuple(record.dedupe_id for record in new))

    async def reject(self, raw: Any, error: Any) -> None:
        self.dead_letters.append(error.reason)


# Every due date of bills.csv is written 15/04/2024: read as ISO, every line is rejected, the layout still valid.
ISO_DUE = Layout.model_validate({**BILLS.model_dump(), "fields": {
    **BILLS.fields, "due_date": BILLS.fields["due_date"].model_copy(update={"format": "%Y-%m-%d"})}})


async def test_tester24_f15_a_file_of_which_every_line_was_rejected_is_imported_again_once_the_layout_is_fixed(
    tmp_path: Path,
) -> None:
    """tester24 F15: every line rejected by a wrong layout, and the re-run with the layout fixed (same name) answered
    "already imported". Nothing was published, so nothing is remembered: the fixed layout publishes every line once."""
    publisher = _Publisher()
    importer = BatchImporter(legacy_context(), publisher, tmp_path, chunk_lines=2)  # type: ignore[arg-type]
    path = EXAMPLES / "bills.csv"
    wrong = await importer.import_file(path, ISO_DUE)
    assert wrong.published_events == 0 and len(wrong.rejected) == len(BILL_ROWS) and wrong.not_remembered
    assert wrong.summary("bills.csv").endswith(", every line rejected, nothing published: the file is not remembered "
                                               "as imported, import it again once the layout or the export is fixed")
    assert not importer.checkpoint(BILLS, wrong.checksum).path.exists()
    fixed = await importer.import_file(path, BILLS)
    assert not fixed.already_imported and not fixed.rejected
    assert fixed.published_events == len(publisher.events) > 0
    again = await importer.import_file(path, BILLS)
    assert again.already_imported and len(publisher.events) == fixed.published_events  # nothing published twice
    assert "rejected then" not in again.summary("bills.csv")


async def test_a_file_partly_published_stays_imported_and_its_re_run_says_how_many_lines_were_rejected(
    tmp_path: Path,
) -> None:
    publisher = _Publisher()
    importer = BatchImporter(legacy_context(), publisher, tmp_path, chunk_lines=2)  # type: ignore[arg-type]
    path = tmp_path / "bills.csv"
    path.write_text("\n".join([HEADER, BILL_ROWS[0].replace("15/04/2024", "2024-04-15"), *BILL_ROWS[1:]]) + "\n")
    first = await importer.import_file(path, BILLS)
    assert len(first.rejected) == 1 and first.published_events and not first.not_remembered
    again = await importer.import_file(path, BILLS)
    assert again.already_imported and (
        "; 1 line was rejected then (dead-lettered): import the corrected lines in a new file; to publish it again"
        in again.summary("bills.csv"))


async def test_a_resumed_import_that_published_before_stays_remembered_even_if_its_last_lines_are_rejected(
    tmp_path: Path,
) -> None:
    """The runs it resumes count: lines published before a crash are not published again by a run from the start."""
    importer = BatchImporter(legacy_context(), _Publisher(), tmp_path)  # type: ignore[arg-type]
    path = tmp_path / "bills.csv"
    path.write_text("\n".join([HEADER, BILL_ROWS[0], BILL_ROWS[1].replace("15/04/2024", "2024-04-15")]) + "\n")
    checkpoint = importer.checkpoint(BILLS, ingress_batch.file_checksum(path))
    offset = len(f"{HEADER}\n{BILL_ROWS[0]}\n".encode())
    checkpoint.save({"file": path.name, "offset": offset, "line": 2, "complete": False, "accepted": 1, "rejected": 0})
    resumed = await importer.import_file(path, BILLS)
    assert len(resumed.rejected) == 1 and not resumed.not_remembered
    assert (await importer.import_file(path, BILLS)).already_imported


# tester27 (a bank's integration engineer): the core system's nightly account export, one line per holder of an account
# (a joint account has two), keyed by the IBAN and the holder's CIF (customer number).
HOLDERS_LAYOUT = Layout.model_validate({
    "name": "holders", "format": "csv", "event": "AccountOpened", "delimiter": ";", "key": ["iban", "customer_id"],
    "fields": {"account_number": {"column": "IBAN"}, "iban": {"column": "IBAN"}, "customer_id": {"column": "CIF"},
               "account_type": {"value": "joint-current"}, "full_name": {"column": "NAME"},
               "email": {"column": "EMAIL"}, "phone": {"column": "PHONE"}},
})
HOLDERS_HEADER = "IBAN;CIF;NAME;EMAIL;PHONE"
HOLDER_ROWS = ["FR7630006000011234567890189;C-0770002;Luc Martin;luc@t27.example;+33140000001",
               "FR7630006000011234567890189;C-0770003;Emma Martin;emma@t27.example;+33140000001"]
# the same lines in the next night's export, spelled by another extraction job
RESPELLED_ROWS = ["fr76 3000 6000 0112 3456 7890 189;770002;Luc Martin;luc@t27.example;+33140000001",
                  "FR76 3000 6000 0112 3456 7890 189;c-770003;Emma Martin;emma@t27.example;+33140000001"]


def _holders_importer(tmp_path: Path, publisher: Any) -> BatchImporter:
    settings = IdentifierSettings.model_validate({"customer_number_format": {"prefix": "C-", "width": 7}})
    ctx = LegacyContext("core-banking", "business", identity_topic="observed", identifiers=settings)
    return BatchImporter(ctx, publisher, tmp_path / "state")


def _export(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HOLDERS_HEADER, *rows]) + "\n")
    return path


async def test_tester27_f3_a_re_spelled_iban_or_re_padded_cif_is_a_duplicate_not_a_new_record(tmp_path: Path) -> None:
    """The next export spelled the IBAN with spaces and in lower case, the CIF without its padding: its lines were
    published as new records, under other event ids, and the joint account moved to the other holder (equal event
    times: the event id decides which holder's line ranks first on the account). They are duplicates now."""
    publisher = _Publisher()
    importer = _holders_importer(tmp_path, publisher)
    first = await importer.import_file(_export(tmp_path, "a1.csv", HOLDER_ROWS), HOLDERS_LAYOUT)
    again = await importer.import_file(_export(tmp_path, "a2.csv", RESPELLED_ROWS), HOLDERS_LAYOUT)
    assert (first.published_events, first.duplicates) == (4, 0)  # each line: the account and its holder's record
    assert (again.published_events, again.duplicates, again.changed) == (0, 2, 0)


async def test_a_line_keyed_by_a_placeholder_account_number_is_rejected_with_its_line_number(tmp_path: Path) -> None:
    """legacy29's leftover: a line whose account number was ``0000000`` published its events keyed by it. It is a
    rejected line (counted, dead-lettered with its line number); the other lines flow."""
    publisher = _Publisher()
    filler = HOLDER_ROWS[0].replace("FR7630006000011234567890189", "0000000")
    report = await _holders_importer(tmp_path, publisher).import_file(
        _export(tmp_path, "a1.csv", [filler, HOLDER_ROWS[1]]), HOLDERS_LAYOUT)
    assert report.summary("a1.csv") == (
        "a1.csv: 2 lines, 2 events published (1 AccountOpened, 1 IdentifiersObserved), 0 duplicates, 1 rejected")
    assert list(report.rejected) == [2] and report.rejected[2].startswith(
        "a1.csv line 2: field account_number is a placeholder or test value")
    assert publisher.dead_letters == [report.rejected[2]]
    assert {event.key for event in publisher.events if event.topic == "business"} == {"FR7630006000011234567890189"}


async def test_tester29_f8_a_line_keyed_by_a_mistyped_iban_is_rejected_with_its_line_number_not_published(
    tmp_path: Path,
) -> None:
    """tester29 F8: the line of a joint account's IBAN with a check digit off published an AccountOpened keyed by it
    (``0 rejected``, rc 0). It is a rejected line now (counted, dead-lettered with its line number, exit 3), its
    holder's record with it; the other lines flow."""
    publisher = _Publisher()
    mistyped = HOLDER_ROWS[0].replace("FR763000", "FR773000").replace("C-0770002", "C-0770009")
    report = await _holders_importer(tmp_path, publisher).import_file(
        _export(tmp_path, "a1.csv", [mistyped, HOLDER_ROWS[1]]), HOLDERS_LAYOUT)
    assert report.summary("a1.csv") == (
        "a1.csv: 2 lines, 2 events published (1 AccountOpened, 1 IdentifiersObserved), 0 duplicates, 1 rejected")
    assert list(report.rejected) == [2] and report.rejected[2].startswith(
        "a1.csv line 2: field account_number is malformed: IBAN fails its check digits")
    assert publisher.dead_letters == [report.rejected[2]] and "FR77" not in report.rejected[2]
    assert {event.key for event in publisher.events if event.topic == "business"} == {"FR7630006000011234567890189"}
    assert all(identifier["value"] != "C-0770009" for event in publisher.events
               for identifier in event.event.value.get("customer_identifiers") or event.event.value["identifiers"])


async def test_tester27_f4_batch_source_ids_carry_no_identifier_and_the_same_lines_later_dedupe_to_them(
    tmp_path: Path,
) -> None:
    publisher = _Publisher()
    importer = _holders_importer(tmp_path, publisher)
    await importer.import_file(_export(tmp_path, "a1.csv", HOLDER_ROWS), HOLDERS_LAYOUT)
    ids = {event.event.value["envelope"]["source_event_id"] for event in publisher.events}
    assert len(ids) == 2 and all(re.fullmatch(r"batch:holders:key-[0-9a-f]{32}", source_id) for source_id in ids)
    assert not any(part in source_id for source_id in ids for part in ("FR76", "0770002", "770003", "C-"))
    later = await importer.import_file(_export(tmp_path, "a2.csv", HOLDER_ROWS[::-1]), HOLDERS_LAYOUT)
    assert (later.published_events, later.duplicates) == (0, 2) and publisher.ids == {f"core-banking:{i}" for i in ids}


async def test_tester27_f4_lines_an_earlier_version_published_under_their_written_key_stay_duplicates(
    tmp_path: Path,
) -> None:
    """Upgrade: the revisions and dedupe store of an earlier version hold the ids ``batch:<layout>:<IBAN>|<CIF>``. The
    same lines imported after the upgrade are duplicates; a changed one is published under an id of the new form."""
    publisher = _Publisher()
    importer = _holders_importer(tmp_path, publisher)
    columns = HOLDERS_LAYOUT.columns_from(HOLDERS_HEADER)
    written = []
    for row in HOLDER_ROWS:
        fields = HOLDERS_LAYOUT.parse(row, columns)
        old_id = f"batch:holders:{fields['iban']}|{fields['customer_id']}"
        written.append(LineRevision(old_id, Revision(content_digest(fields), old_id), changed=False))
        publisher.ids.add(f"core-banking:{old_id}")
    with closing(RevisionStore(tmp_path / "state" / "batch" / REVISIONS_FILE)) as store:
        store.save(written)
    moved = HOLDER_ROWS[1].replace("emma@t27.example", "emma.martin@t27.example")
    report = await importer.import_file(_export(tmp_path, "a3.csv", [HOLDER_ROWS[0], moved]), HOLDERS_LAYOUT)
    assert (report.published_events, report.duplicates, report.changed) == (2, 1, 1)
    (source_id,) = {event.event.value["envelope"]["source_event_id"] for event in publisher.events}
    assert re.fullmatch(r"batch:holders:key-[0-9a-f]{32}@[0-9a-f]{16}", source_id)


@pytest.mark.kafka
async def test_tester33_brazilian_orders_and_amounts_import_as_written_and_say_what_they_could_not_read(
    exit_stack: AsyncExitStack, bootstrap_servers: str, tmp_path: Path
) -> None:
    """tester33 F6: ``executada`` was published UNKNOWN, uncounted (``1 published, 0 rejected``); F5: ``1.500`` was
    published as R$ 1,50. Orders map their Portuguese words and count the one no list knows; the overdue bill that
    reads two ways is dead-lettered with the fix, the others published in BRL."""
    from adapters.legacy.cli import context
    from bus.config import OmnibusSettings

    base = await settings_with_topics(bootstrap_servers)
    settings = OmnibusSettings(kafka=base.kafka, topics=base.topics, identifiers=IdentifierSettings(
        hmac_key="k" * 32, default_region="BR", national_id_schemes=["br.cpf", "br.cnpj"]))
    legacy = legacy_settings(tmp_path)
    runtime = await exit_stack.enter_async_context(adapter_runtime("legacy", settings, legacy))
    orders, bills = load_layout(SAMPLES / "br" / "ordens.yaml"), load_layout(SAMPLES / "br" / "vencidas.yaml")
    for layout, name in ((orders, "ordens_2026-12-01.csv"), (bills, "vencidas.csv")):
        shutil.copy(SAMPLES / "br" / name, tmp_path / name)
    imported = BatchImporter(context(settings, legacy, layout=orders), runtime.publisher, tmp_path)
    report = await imported.import_file(tmp_path / "ordens_2026-12-01.csv", orders)
    assert report.summary("ordens.csv") == (
        "ordens.csv: 5 lines, 5 events published, 0 duplicates, 0 rejected, 1 order status word unknown (suspensa 1) "
        "on line 6: published as UNKNOWN; map them in the status field's status_words")
    imported = BatchImporter(context(settings, legacy, layout=bills), runtime.publisher, tmp_path)
    report = await imported.import_file(tmp_path / "vencidas.csv", bills)
    assert report.summary("vencidas.csv") == "vencidas.csv: 4 lines, 3 events published, 0 duplicates, 1 rejected"
    events = [landed.event for landed in await read_events(settings, BUSINESS_EVENTS)]
    assert sorted(event.value["status"] for event in events if event.schema.endswith("OrderStatusChanged")) == [
        "CANCELLED", "COMPLETED", "CREATED", "IN_PROGRESS", "UNKNOWN"]
    assert sorted(event.value["amount_due"]["amount_minor"] for event in events
                  if event.schema.endswith("PaymentOverdue")) == [31290, 123456, 123456700]
    [refused] = await read_dead_letters(settings)
    assert "field amount_due is ambiguous ('1.500' reads 1.5 with a decimal point" in str(refused)
