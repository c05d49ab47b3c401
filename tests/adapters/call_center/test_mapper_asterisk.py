from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.call_center import mapper_asterisk
from adapters.call_center.errors import RejectedInput
from tests.adapters.call_center.support import context, master_lines

NEW_COLUMNS = ("uniqueid", "userfield", "peeraccount", "linkedid", "sequence")


def completed(line: str, **settings: object) -> dict:
    return mapper_asterisk.map_cdr(line, context("paris", **settings)).events[0].event.value


def test_quoted_fields_with_commas_and_doubled_quotes_parse() -> None:
    row = mapper_asterisk.parse_line(master_lines()[0], context().settings.asterisk_columns)
    assert row["clid"] == '"Jean Dupont" <0612345678>' and row["lastdata"] == "billing,t,,,300"
    assert row["uniqueid"] == "1709629771.2591" and row["userfield"] == "payment-plan-agreed"


def test_local_times_use_the_site_zone() -> None:
    value = completed(master_lines()[0])
    assert value["initiated_at"].astimezone(UTC) == datetime(2024, 3, 5, 9, 9, 31, tzinfo=UTC)  # Paris is UTC+1


def test_utc_times_when_asterisk_logs_gmt() -> None:
    value = mapper_asterisk.map_cdr(master_lines()[0], context("lyon")).events[0].event.value  # lyon: UTC
    assert value["initiated_at"].astimezone(UTC) == datetime(2024, 3, 5, 10, 9, 31, tzinfo=UTC)


def test_queue_call_measures() -> None:
    answered, abandoned = completed(master_lines()[0]), completed(master_lines()[1])
    assert (answered["queue"], answered["queue_wait_ms"], answered["talk_ms"]) == ("billing", 31_000, 248_000)
    assert answered["answered_within_sla"] is False and answered["agent_id"] == "SIP/agent1001"
    assert answered["disposition"] == "payment-plan-agreed"  # the userfield wrap-up code wins
    assert abandoned["abandoned"] is True and abandoned["disposition"] == "NO ANSWER"


def test_outbound_calls_observe_the_dialled_customer() -> None:
    value = completed(master_lines()[2])
    assert value["initiation_method"] == "OUTBOUND" and value["queue"] is None
    assert value["caller_identifiers"] == [{"type": "PHONE", "value": "+33144556677"}]
    assert value["agent_id"] == "SIP/agent1001"


def test_optional_columns_may_be_absent_and_newcdrcolumns_name_each_leg() -> None:
    base = master_lines()[0].rsplit(",", 2)[0]  # without uniqueid and userfield
    legs = [f'{base},"1709629771.2591","","","1709629771.2590",{n}' for n in (4, 5)]
    ids = [mapper_asterisk.map_cdr(leg, context(asterisk_optional_columns=NEW_COLUMNS)).dedupe_id for leg in legs]
    assert ids == ["asterisk:paris/1709629771.2591/4", "asterisk:paris/1709629771.2591/5"]
    anonymous = mapper_asterisk.map_cdr(base, context())
    assert anonymous.dedupe_id.startswith("asterisk:paris/cdr-")
    assert anonymous.dedupe_id == mapper_asterisk.map_cdr(base, context()).dedupe_id


def test_more_columns_than_configured_are_refused() -> None:
    with pytest.raises(RejectedInput, match="more than the 18 configured"):
        mapper_asterisk.map_cdr(master_lines()[0] + ',"extra"', context())


def test_a_quoted_field_broken_over_two_lines_is_one_cdr_read_whole() -> None:
    """cdr_csv writes a line break inside a quoted field as it is (tester50 F5: each half was refused as cut): the two
    lines are one CDR, and the line after it one of its own (a cut line: ``test_ingress_file_cut.py``)."""
    two = master_lines()[1].replace('"repairs,t,,,300"', '"repairs\nline two"')
    body = f"{master_lines()[0]}\n{two}\n{master_lines()[2]}\n".encode()
    items = mapper_asterisk.split_lines(body, context().settings.asterisk_columns)
    assert [item.error.code if item.error else None for item in items] == [None, None, None]
    assert items[1].record == two and mapper_asterisk.map_cdr(items[1].record, context()).events


@pytest.mark.parametrize(("change", "reason"), [
    (("279,248", "279,lots"), "field billsec is malformed"),
    (('"2024-03-05 10:09:31"', ""), "start is empty"),
])
def test_bad_fields_are_named(change: tuple[str, str], reason: str) -> None:
    with pytest.raises(RejectedInput, match=reason):
        mapper_asterisk.map_cdr(master_lines()[0].replace(*change), context())


def test_tester19_f7_a_cdr_that_ends_before_it_starts_is_refused() -> None:
    line = master_lines()[0].replace('"2024-03-05 10:14:10"', '"2024-03-04 10:14:10"')
    with pytest.raises(RejectedInput, match=r"field end is malformed \(before start"):
        mapper_asterisk.map_cdr(line, context())


def test_a_cdr_lines_clear_copy_masks_the_calling_and_called_numbers_in_their_columns() -> None:
    """A refused CDR (a POSTed body's line or a Master.csv file's) is dead-lettered by its columns
    (``bus.dead_letter_lines``): ``src`` and ``dst`` masked, the caller ID scrubbed, the rest and the quoting kept."""
    from bus.dead_letter_lines import clear_line

    line = master_lines()[2]  # outbound: dst is the customer's number
    (item,) = mapper_asterisk.split_lines(f"{line}\n".encode(), context().settings.asterisk_columns)
    assert item.line is mapper_asterisk.CDR_LINE
    cleared = clear_line(item.raw, item.line, str).decode()
    assert "0144556677" not in cleared and "1001" in cleared  # an agent's extension is no customer's number
    assert cleared.startswith('"","****","******6677","from-internal","""Agent 1001"" <1001>",')
    assert '"SIP/trunk-orange/[digits],60"' in cleared and cleared.endswith('"callback-done"')
