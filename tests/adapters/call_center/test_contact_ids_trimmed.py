"""A contact's id with white space around it is the same contact, as the counter's and the web hall's ids are
(``adapters.base.whole_ids.id_text``): a CTR ``ContactId`` `` X `` was another contact beside ``X`` (a second
contact on the screen pop, counted twice by the KPIs: tester52 F11). Read trimmed where it enters, its version id,
event ids and case id are those of ``X``, the version store holds it under ``X`` (a re-sent version with the spaces
is dropped as already published), and so are the CTR's other contact ids, a TaskRouter task sid and an Asterisk
uniqueid (and sequence)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from adapters.call_center import mapper_asterisk, mapper_ctr, mapper_taskrouter
from adapters.call_center.errors import RejectedInput
from adapters.call_center.ingress_http import CallCenterIngress
from adapters.call_center.mapper import Topics
from adapters.call_center.mapper_taskrouter import Timeline
from adapters.call_center.state import CallCenterState
from bus.config import TopicSettings
from tests.adapters.call_center.support import PARIS_KEY, call_center_settings, context, sample
from tests.adapters.call_center.test_ingress_file_cut import cdr
from tests.adapters.web.support import StandInPublisher
from tests.support.http import adapter_client

ANSWERED = sample("ctr_inbound_answered.json")
CONTACT = ANSWERED["ContactId"]
SPACES = (" ", "  ", "\t", "\u00a0")  # a space, two, a tab, a no-break space


def events(record: Any) -> list[tuple[str, Any]]:
    """Each event's key and value, but the instant it was mapped (``envelope.received_at``)."""
    return [(outgoing.key, {**outgoing.event.value, "envelope": {
        name: value for name, value in outgoing.event.value["envelope"].items() if name != "received_at"}})
        for outgoing in record.events]


@pytest.mark.parametrize("space", SPACES)
def test_tester52_f11_a_contact_id_with_white_space_around_it_maps_to_the_same_record(space: str) -> None:
    plain = mapper_ctr.map_ctr(ANSWERED, context())
    spaced = mapper_ctr.map_ctr({**ANSWERED, "ContactId": f"{space}{CONTACT}{space}"}, context())
    assert spaced.dedupe_id == plain.dedupe_id and events(spaced) == events(plain)


def test_the_ctrs_other_contact_ids_are_read_trimmed_too() -> None:
    linked = {"InitialContactId": "init-1", "PreviousContactId": "prev-1", "NextContactId": "next-1"}
    plain = mapper_ctr.ctr_call({**ANSWERED, **linked}, context())
    spaced = mapper_ctr.ctr_call({**ANSWERED, **{name: f" {value} " for name, value in linked.items()}}, context())
    assert (spaced.previous_contact_id, spaced.next_contact_id) == ("prev-1", "next-1")
    assert spaced.properties["initial_contact_id"] == "init-1" and spaced == plain


def test_a_contact_id_of_white_space_only_is_missing() -> None:
    with pytest.raises(RejectedInput, match="ContactId is missing"):
        mapper_ctr.ctr_call({**ANSWERED, "ContactId": "   "}, context())


def test_a_task_sid_with_white_space_around_it_is_the_same_task() -> None:
    terminal = sample("taskrouter_answered.json")[-1]
    plain = mapper_taskrouter.map_task(terminal, Timeline(), context("lyon"))
    spaced = mapper_taskrouter.map_task({**terminal, "TaskSid": f" {terminal['TaskSid']} "}, Timeline(),
                                        context("lyon"))
    assert spaced.dedupe_id == plain.dedupe_id and events(spaced) == events(plain)


@pytest.mark.parametrize("optional", [("uniqueid", "userfield"), ("uniqueid", "userfield", "peeraccount",
                                                                   "linkedid", "sequence")], ids=["18", "21"])
def test_an_asterisk_uniqueid_with_white_space_around_it_is_the_same_contact(optional: tuple[str, ...]) -> None:
    line = cdr(20) + (',"","1733390020.1","3"' if "sequence" in optional else "")
    spaced = line.replace('"1733390020.1"', '" 1733390020.1 "').replace(',"3"', ',"3 "')
    ctx = context(asterisk_optional_columns=optional)
    plain, other = (mapper_asterisk.cdr_call(text, ctx) for text in (line, spaced))
    assert other.contact_id == plain.contact_id
    if "sequence" in optional:  # the version is the contact's sequence: one record
        assert other.version_id == plain.version_id


@pytest.fixture
def publisher() -> StandInPublisher:
    return StandInPublisher()


@pytest.fixture
async def client(publisher: StandInPublisher) -> AsyncIterator[TestClient]:
    ingress = CallCenterIngress(call_center_settings(), Topics.of(TopicSettings()), publisher,  # type: ignore[arg-type]
                                CallCenterState(None))
    async with adapter_client(ingress.app()) as client:
        yield client


async def post(client: TestClient, ctr: Any) -> Any:
    response = await client.post("/v1/connect/ctr", json=ctr, headers={"Authorization": f"Bearer {PARIS_KEY}"})
    assert response.status == 200
    return await response.json()


async def test_tester52_f11_a_version_re_sent_with_spaces_around_its_contact_id_is_not_published_again(
        client: TestClient, publisher: StandInPublisher) -> None:
    newer = {**ANSWERED, "ContactId": f" {CONTACT} ", "LastUpdateTimestamp": "2024-03-05T09:20:00Z"}
    answers = [await post(client, ctr) for ctr in (ANSWERED, {**ANSWERED, "ContactId": f" {CONTACT} "}, newer)]
    assert [answer["duplicates"] for answer in answers] == [0, 1, 0], answers
    first, second = publisher.submitted
    assert second.dedupe_id == f"amazon-connect:{CONTACT}@2024-03-05T09:20:00+00:00"
    causes = [event.value["envelope"]["causation_id"] for event in (first.events[0].event, second.events[0].event)]
    assert causes == [None, first.events[0].event.value["envelope"]["event_id"]]  # the newer version names the first
