"""A POSTed body's CDR whose quoted field holds a line break is read whole, wherever it stands in the body: after a cut
line, first, last without a newline, with CRLF line ends, several of them (``mapper_asterisk.split_lines``, the
rule ``import-cdr`` reads a file by: ``test_ingress_file_multiline.py``).

The reported sample (tester52 F7): CDR 48, a cut line, CDR 49 whose userfield holds a line break, CDR 50. The POST
read it without the site's columns, so the cut line's quote, closed by CDR 49's first line, made a "record" of 20
columns: refused ``bad_columns``, and the rest of CDR 49 refused as cut: CDR 49 was lost while ``import-cdr`` of the
same file published it. A site with more columns (``newcdrcolumns``) lost it in a file too. A CDR's times and seconds
in their columns now tell the shifted join apart (``whole_cdr``), and a body read as the site's columns.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.call_center import mapper_asterisk
from adapters.call_center.ingress_http import CallCenterIngress
from adapters.call_center.mapper import Topics
from adapters.call_center.state import CallCenterState
from bus.config import TopicSettings
from tests.adapters.call_center.support import PARIS_KEY, call_center_settings, context
from tests.adapters.call_center.test_ingress_file_cut import cdr
from tests.adapters.call_center.test_ingress_file_multiline import noted
from tests.adapters.web.support import StandInPublisher
from tests.support.http import adapter_client

CUT = '"","0612340047","600","""Ana Gar'  # the reported cut line: inside a quoted field holding an escaped ""
NEW_COLUMNS = ("uniqueid", "userfield", "peeraccount", "linkedid", "sequence")  # newcdrcolumns: 21 columns
SITE_COLUMNS = pytest.mark.parametrize("optional", [("uniqueid", "userfield"), NEW_COLUMNS], ids=["18", "21"])
AFTER_CUT = noted(49, "after\ncut")  # the reported CDR 49: its userfield holds a line break
REPORTED = "\n".join([cdr(48), CUT, AFTER_CUT, cdr(50), ""])


def columns(optional: tuple[str, ...]) -> tuple[str, ...]:
    return context(asterisk_optional_columns=optional).settings.asterisk_columns


def read(body: str, optional: tuple[str, ...]) -> list[tuple[str | None, str]]:
    """Each record of ``body`` as ``split_lines`` cuts it: its refusal's code (None: read) and its text."""
    items = mapper_asterisk.split_lines(body.encode(), columns(optional))
    return [(item.error.code if item.error else None, item.record) for item in items]


@SITE_COLUMNS
def test_tester52_f7_a_cdr_over_two_lines_after_a_cut_line_is_read_whole(optional: tuple[str, ...]) -> None:
    assert read(REPORTED, optional) == [(None, cdr(48)), ("truncated", CUT), (None, AFTER_CUT), (None, cdr(50))]


@SITE_COLUMNS
@pytest.mark.parametrize(("expected", "end"), [
    pytest.param([noted(20, "a\nb"), cdr(21)], "\n", id="first"),
    pytest.param([cdr(20), noted(21, "a\nb")], "", id="last-without-newline"),
    pytest.param([noted(20, 'a\n\n"b"\nc')], "\n", id="alone-over-four-lines"),
    pytest.param([cdr(20), noted(21, "a\r\nb"), cdr(22)], "\r\n", id="crlf"),
    pytest.param([noted(20, "1\n2"), noted(21, "3\n4\n5"), noted(22, "x\ny")], "\n", id="several"),
])
def test_a_posted_cdr_over_several_lines_is_read_whole_wherever_it_stands(
    optional: tuple[str, ...], expected: list[str], end: str,
) -> None:
    body = (end or "\n").join(expected) + end
    assert read(body, optional) == [(None, record) for record in expected]


@SITE_COLUMNS
def test_cut_lines_among_multi_line_cdrs_with_crlf_are_refused_alone(optional: tuple[str, ...]) -> None:
    body = "\r\n".join([CUT, noted(20, "a\r\nb"), CUT, CUT, noted(21, "c\r\nd"), cdr(22), CUT])
    assert read(body, optional) == [("truncated", CUT), (None, noted(20, "a\r\nb")), ("truncated", CUT),
                                    ("truncated", CUT), (None, noted(21, "c\r\nd")), (None, cdr(22)),
                                    ("truncated", CUT)]


def test_a_cdr_split_between_two_bodies_is_refused_in_each_saying_so() -> None:
    """Its sender cut it at a line break inside its field: neither body holds it whole; each half is refused (a dead
    letter each), and the reasons name the split, not only a cut mid-write."""
    whole = noted(21, "a\nb")
    head, tail = whole.split("\n")
    first = mapper_asterisk.split_lines(f"{cdr(20)}\n{head}\n".encode(), columns(NEW_COLUMNS))
    second = mapper_asterisk.split_lines(f"{tail}\n{cdr(22)}\n".encode(), columns(NEW_COLUMNS))
    assert [item.error is None for item in first] == [True, False]
    assert [item.error is None for item in second] == [False, True]
    assert first[1].error is not None and "the body ends inside a quoted field" in first[1].error.reason
    assert second[0].error is not None and "the body starts with a line left inside" in second[0].error.reason
    assert first[1].error.code == second[0].error.code == "truncated"


def test_a_cut_line_joined_to_a_cdrs_first_line_is_no_cdr_even_when_its_column_count_fits() -> None:
    """The shifted join the reported POST took for a record: 20 columns, which a site with 21 accepts by count."""
    joined = f"{CUT}\n{AFTER_CUT.split(chr(10))[0]}\n".encode()
    assert not mapper_asterisk.whole_cdr(joined, columns(NEW_COLUMNS))
    assert mapper_asterisk.whole_cdr(f"{AFTER_CUT}\n".encode(), columns(NEW_COLUMNS))
    assert mapper_asterisk.whole_cdr(f"{cdr(20)}\r\n".encode(), columns(NEW_COLUMNS))


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


@pytest.fixture(params=[("uniqueid", "userfield"), NEW_COLUMNS], ids=["18", "21"])
async def client(request: pytest.FixtureRequest, publisher: StandInPublisher) -> AsyncIterator[TestClient]:
    settings = call_center_settings(asterisk_optional_columns=request.param)
    topics, state = Topics.of(TopicSettings()), CallCenterState(None)
    ingress = CallCenterIngress(settings, topics, publisher, state)  # type: ignore[arg-type]
    async with adapter_client(ingress.app()) as client:
        yield client


async def post(client: TestClient, body: str) -> tuple[int, Any]:
    response = await client.post("/v1/asterisk/cdr", data=body.encode(),
                                 headers={"X-Amz-Firehose-Access-Key": PARIS_KEY, "Content-Type": "text/csv"})
    return response.status, await response.json()


def uniqueids(publisher: StandInPublisher) -> list[str]:
    return [record.dedupe_id.split("/")[1].split("@")[0] for record in publisher.submitted]


async def test_tester52_f7_the_posted_sample_publishes_cdr_49_and_dead_letters_the_cut_line_alone(
    client: TestClient, publisher: StandInPublisher,
) -> None:
    status, answer = await post(client, REPORTED)
    assert status == 200 and (answer["accepted"], answer["duplicates"]) == (3, 0), answer
    assert [(refused["index"], refused["code"]) for refused in answer["rejected"]] == [(1, "truncated")]
    assert uniqueids(publisher) == ["1733390048.1", "1733390049.1", "1733390050.1"]
    (raw, error), = publisher.rejected
    assert raw.value == CUT.encode() and "(cut mid-write?)" in error.reason  # not "a later line closes" its quote


async def test_a_posted_crlf_body_without_a_last_newline_publishes_each_multi_line_cdr(
    client: TestClient, publisher: StandInPublisher,
) -> None:
    status, answer = await post(client, "\r\n".join([noted(20, "a\r\nb"), CUT, noted(21, "c\r\nd")]))
    assert status == 200 and answer["accepted"] == 2 and [r["index"] for r in answer["rejected"]] == [1], answer
    assert uniqueids(publisher) == ["1733390020.1", "1733390021.1"] and len(publisher.rejected) == 1


async def test_a_posted_half_of_a_multi_line_cdr_is_a_400_and_a_dead_letter(
    client: TestClient, publisher: StandInPublisher,
) -> None:
    head = noted(21, "a\nb").split("\n")[0]
    status, answer = await post(client, f"{head}\n")
    assert status == 400 and answer["code"] == "truncated", answer
    assert "the body ends inside a quoted field" in answer["error"] and "send each CDR whole" in answer["error"]
    assert len(publisher.rejected) == 1 and publisher.submitted == []


@pytest.mark.parametrize("note", ["p\nq", "p\n", 'p\n""q""'], ids=["text", "field-ends-at-the-break", "quote"])
def test_tester53_f6_a_body_of_only_the_second_half_of_a_split_cdr_is_told_so(note: str) -> None:
    """The reported sample: the second body holds only the rest of the CDR (one line, with or without its line end).
    Being the body's last line too, it was told "the body ends inside a quoted field ... its last lines left for
    another body", the first half's reason; a line that starts no CDR (cdr_csv opens every CDR with a quoted field)
    is the rest of one."""
    head, tail = noted(21, note).split("\n", 1)
    for body in (tail, f"{tail}\n"):
        (item,) = mapper_asterisk.split_lines(body.encode(), columns(NEW_COLUMNS))
        assert item.error is not None and item.error.code == "truncated"
        assert "the body starts with a line left inside a quoted field" in item.error.reason, body
        assert "its first lines sent in another body" in item.error.reason
    (item,) = mapper_asterisk.split_lines(f"{head}\n".encode(), columns(NEW_COLUMNS))  # the first half alone
    assert item.error is not None and "the body ends inside a quoted field" in item.error.reason


def test_a_cut_first_line_that_starts_a_cdr_is_not_told_the_rest_of_one() -> None:
    """A body's first line left inside a quoted field, whole CDRs after it: it starts a CDR, so it is no second half of
    a split one: cut mid-write."""
    (cut, after) = mapper_asterisk.split_lines(f"{CUT}\n{cdr(50)}\n".encode(), columns(NEW_COLUMNS))
    assert cut.error is not None and "(cut mid-write?)" in cut.error.reason and "another body" not in cut.error.reason
    assert after.error is None
