from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.base.checkpoint import Checkpoint
from adapters.base.runtime import adapter_runtime
from adapters.call_center import mapper_asterisk
from adapters.call_center.ingress_file import CdrFileReader, ImportReport
from adapters.call_center.mapper import MapContext, Topics
from bus.topics import CONTACT_EVENTS
from tests.adapters.call_center.support import call_center_settings, master_lines
from tests.support.kafka_io import read_dead_letters, read_events
from tests.support.settings import settings_with_topics

pytestmark = pytest.mark.kafka


async def _import(settings: Any, path: Path, state: Path, **reader: Any) -> ImportReport:
    adapter = call_center_settings(dedupe_path=state / "dedupe.sqlite")
    async with adapter_runtime("call_center", settings, adapter) as runtime:
        ctx = MapContext("paris", adapter.sites["paris"], Topics.of(settings.topics), adapter)
        return await CdrFileReader(path, ctx, runtime.publisher, Checkpoint(state / "master.json"), **reader
                                   ).read_available()


async def _contacts(settings: Any) -> list[str]:
    return [landed.event.value["contact_id"] for landed in await read_events(settings, CONTACT_EVENTS)
            if landed.event.schema == "omnibus.contact.CallCompleted"]


async def test_a_file_imported_twice_publishes_each_call_once(bootstrap_servers: str, tmp_path: Path) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    master = tmp_path / "Master.csv"
    master.write_text("\n".join(master_lines()) + "\n")
    first = await _import(settings, master, tmp_path)
    assert (first.lines, first.rejected) == (3, 0)
    assert (await _import(settings, master, tmp_path)).lines == 0  # the checkpoint is at the end
    (tmp_path / "master.json").unlink()  # lose the checkpoint: the dedupe store still knows every line
    again = await _import(settings, master, tmp_path)
    assert (again.lines, again.duplicates, again.published_events) == (3, 3, 0)
    assert len(await _contacts(settings)) == 3


async def test_only_complete_lines_are_read_and_appends_are_picked_up(bootstrap_servers: str, tmp_path: Path) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    master = tmp_path / "Master.csv"
    half = len(master_lines()[1]) // 2
    master.write_text(master_lines()[0] + "\n" + master_lines()[1][:half])
    assert (await _import(settings, master, tmp_path)).lines == 1
    with open(master, "a") as handle:
        handle.write(master_lines()[1][half:] + "\n" + master_lines()[2] + "\n")
    assert (await _import(settings, master, tmp_path)).lines == 2
    assert sorted(await _contacts(settings)) == sorted(
        mapper_asterisk.map_cdr(line, MapContext("paris", call_center_settings().sites["paris"],
                                                 Topics.of(settings.topics), call_center_settings())
                                ).events[0].event.value["contact_id"] for line in master_lines())


async def test_a_crash_mid_file_resumes_after_the_last_acknowledged_chunk(
    bootstrap_servers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    master = tmp_path / "Master.csv"
    master.write_text("\n".join(master_lines()) + "\n")
    real = mapper_asterisk.map_cdr

    def crash_on_the_third(line: str, ctx: Any) -> Any:
        if "1709632805" in line:
            raise KeyboardInterrupt("power cut")
        return real(line, ctx)

    monkeypatch.setattr(mapper_asterisk, "map_cdr", crash_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        await _import(settings, master, tmp_path, chunk_lines=1)
    saved = Checkpoint(tmp_path / "master.json").load()
    assert saved is not None and saved["offset"] == len(("\n".join(master_lines()[:2]) + "\n").encode())
    monkeypatch.setattr(mapper_asterisk, "map_cdr", real)
    resumed = await _import(settings, master, tmp_path, chunk_lines=1)
    assert (resumed.lines, resumed.duplicates) == (1, 0)
    assert len(await _contacts(settings)) == 3


async def test_a_bad_line_is_dead_lettered_with_its_offset_and_reading_goes_on(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    settings = await settings_with_topics(bootstrap_servers)
    master = tmp_path / "Master.csv"
    bad = '"","garbage"'
    master.write_text(f"{master_lines()[0]}\n{bad}\n{master_lines()[1]}\n")
    report = await _import(settings, master, tmp_path)
    assert (report.lines, report.rejected) == (3, 1)
    assert len(await _contacts(settings)) == 2
    (letter,) = await read_dead_letters(settings)
    headers = {h["key"]: h["value"] for h in letter["headers"]}
    # its clear copy: the src column (the caller's number) masked whatever it holds, the quotes as written
    assert letter["value"] == b'"","****"' and headers["file.offset"] == str(len(master_lines()[0]) + 1).encode()


async def test_a_refused_cdr_line_is_kept_as_its_columns_the_calling_and_called_numbers_masked(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    """The clear copy of a refused line (``bus.dead_letter_lines``): the caller's number is masked in its column
    (``src``), the caller ID's scrubbed, the other columns kept, so the operator finds the one that was wrong."""
    import csv

    settings = await settings_with_topics(bootstrap_servers)
    master = tmp_path / "Master.csv"
    bad = master_lines()[0].replace('"2024-03-05 10:09:31"', '"yesterday"')
    master.write_text(f"{bad}\n{master_lines()[1]}\n")
    report = await _import(settings, master, tmp_path)
    assert (report.lines, report.rejected) == (2, 1)
    (letter,) = await read_dead_letters(settings)
    text = letter["value"].decode("utf-8")
    assert "0612345678" not in text and "12345678" not in text
    (columns,) = csv.reader([text])
    assert len(columns) == len(next(csv.reader([bad])))  # the same columns, in their order
    assert columns[1] == "******5678" and columns[4] == '"Jean Dupont" <[digits]>'
    assert columns[3] == "from-pstn" and columns[9] == "yesterday" and columns[14] == "ANSWERED"


async def test_following_reads_a_cdr_over_two_lines_whole_when_its_rest_is_appended_after_a_read(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    """``import-cdr --follow`` while Asterisk writes a CDR whose userfield holds a line break: a read sees its first
    line (up to the line break) alone; the record is left, then read whole: published, no dead letter (tester52 F9:
    both halves were dead-lettered)."""
    import asyncio

    settings = await settings_with_topics(bootstrap_servers)
    master = tmp_path / "Master.csv"
    noted = master_lines()[1].removesuffix('""') + '"first line\nsecond line"'
    cut = noted.index("\n") + 1
    master.write_text(f"{master_lines()[0]}\n{noted[:cut]}")
    adapter = call_center_settings(dedupe_path=tmp_path / "dedupe.sqlite")
    async with adapter_runtime("call_center", settings, adapter) as runtime:
        ctx = MapContext("paris", adapter.sites["paris"], Topics.of(settings.topics), adapter)
        reader = CdrFileReader(master, ctx, runtime.publisher, Checkpoint(tmp_path / "master.json"))
        stop = asyncio.Event()
        following = asyncio.create_task(reader.follow(stop, poll_s=0.05))
        for _ in range(600):  # until a read saw the record's first line
            await asyncio.sleep(0.05)
            if reader.report.unended == 2:
                break
        assert reader.report.unended_open and reader.report.rejected == 0
        with master.open("a") as handle:
            handle.write(f"{noted[cut:]}\n")
        for _ in range(600):
            await asyncio.sleep(0.05)
            if reader.report.lines == 1 and reader.report.unended == 0:
                break
        stop.set()
        total = await following
    assert (total.lines, total.physical_lines, total.rejected, total.unended) == (2, 3, 0, 0)
    assert len(await _contacts(settings)) == 2
    assert await read_dead_letters(settings) == []


async def test_a_file_rotated_and_read_from_its_start_publishes_the_calls_already_published_once(
    bootstrap_servers: str, tmp_path: Path,
) -> None:
    """A file truncated in place and written again with the CDRs it held and a new one (a copy put back, then
    Asterisk appending): read from its start (``adapters.call_center.rotation``), the CDRs already published are
    duplicates the dedupe store drops, against Kafka."""
    settings = await settings_with_topics(bootstrap_servers)
    master = tmp_path / "Master.csv"
    master.write_text("\n".join(master_lines()[:2]) + "\n")
    assert (await _import(settings, master, tmp_path)).published_events == 6
    with master.open("r+") as handle:  # copytruncate, then the same CDRs and one more written past the old offset
        handle.truncate(0)
        handle.write(master_lines()[2] + "\n" + "\n".join(master_lines()[:2]) + "\n")
    again = await _import(settings, master, tmp_path)
    assert (again.lines, again.duplicates, again.published_events) == (3, 2, 3)
    assert dict(again.restarted) == {"truncated and written again": 1}
    assert len(await _contacts(settings)) == 3
