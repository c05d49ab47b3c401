"""Merge reviews: the open queue, and what accept / reject do to the graph."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.announcements import Announcer
from processors.identity.graph.outputs import Merged, ReviewDecided, ReviewRequested
from processors.identity.matching.defaults import TRAINED_POPULATION
from processors.identity.review import (
    DECIDED,
    current_pair,
    decided_as,
    decision,
    describe,
    open_reviews,
    requested_review,
)
from processors.identity.rules import REVIEW_ACCEPTED, LinkPolicy
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings


def queued(h: Harness) -> list:
    """The review topic as the announcer would fill it."""
    announcer = Announcer(TopicSettings(), lambda ref: None)  # type: ignore[arg-type,return-value]
    return [item.event for output in h.local.decisions if isinstance(output, ReviewRequested | ReviewDecided)
            for item in announcer.outgoing(output)]


def a_review(h: Harness) -> None:
    h.observe(("ACCOUNT", "1000001"), ("PHONE", "+33612345678"))
    h.observe(("ACCOUNT", "2000002"), ("PHONE", "+33612345678"), minutes=1)  # no traits, two accounts


def test_a_request_stays_open_until_decided_and_is_listed_masked() -> None:
    h = Harness(settings())
    a_review(h)
    (review,) = open_reviews(queued(h))
    row = describe(review)
    assert "ACCOUNT" in row["differ"] and "PHONE" in row["agree"] and "1000001" not in row["identifiers"]
    _, record = decision(review, accept=True, operator="ops-7", reason="same person, confirmed by phone", command_id="c1")
    h.local.decisions.append(record)
    assert open_reviews(queued(h)) == []
    (decided,) = [event for event in queued(h) if event.schema == DECIDED]
    assert decided.value["operator"] == "ops-7" and decided.value["accepted"] is True


def test_accept_merges_and_reject_keeps_apart_for_good() -> None:
    for accept in (True, False):
        h = Harness(settings())
        a_review(h)
        (review,) = open_reviews(queued(h))
        send, _ = decision(review, accept=accept, operator="ops-7", reason="checked", command_id=f"c-{accept}")
        h.local.submit([send])
        h.local.run()
        together = h.customer("ACCOUNT", "1000001") == h.customer("ACCOUNT", "2000002")
        assert together is accept
        if accept:
            assert h.decisions(Merged)[-1].lineage.rule == REVIEW_ACCEPTED
        else:  # the same evidence again no longer asks for a review: the pair is do-not-merge
            before = len(h.decisions(ReviewRequested))
            h.observe(("ACCOUNT", "2000002"), ("PHONE", "+33612345678"), minutes=2)
            assert len(h.decisions(ReviewRequested)) == before
            assert h.customer("ACCOUNT", "1000001") != h.customer("ACCOUNT", "2000002")
        h.local.check_consistent()


def test_one_review_per_customer_pair_the_later_candidate_updates_it() -> None:
    """New-user sample: a second identifier shared by the same two customers opened a second review."""
    h = Harness(settings())
    h.observe(("ACCOUNT", "1000001"), ("PHONE", "+33612345678"), ("EMAIL", "a@x.org"))
    h.observe(("ACCOUNT", "2000002"), ("PHONE", "+33612345678"), minutes=1)
    h.observe(("ACCOUNT", "2000002"), ("EMAIL", "a@x.org"), minutes=2)  # the same pair, through the e-mail
    first, later = h.decisions(ReviewRequested)
    assert {first.customer_id, first.other_customer_id} == {later.customer_id, later.other_customer_id}
    assert first.review_id == later.review_id and first.event_id != later.event_id
    events = queued(h)
    assert len({event.value["envelope"]["event_id"] for event in events}) == 2
    (review,) = open_reviews(events)
    assert review.identifiers == later.identifiers  # the latest request is the one listed and decided
    _, record = decision(review, accept=False, operator="ops-7", reason="two people", command_id="c1")
    h.local.decisions.append(record)
    assert open_reviews(queued(h)) == []


def test_a_decided_review_says_by_whom_and_when() -> None:
    from processors.identity.review import decided_reviews

    h = Harness(settings())
    a_review(h)
    (review,) = open_reviews(queued(h))
    _, record = decision(review, accept=False, operator="ops-7", reason="two people", command_id="c1")
    h.local.decisions.append(record)
    decided = decided_reviews(queued(h))[review.review_id]
    assert decided.describe().startswith("rejected by ops-7 at 20")


def test_a_decision_refuses_a_blank_operator_or_reason_and_a_decided_review(capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a new user: `review reject ID --by "" --reason ""` was accepted; accepting a decided review
    said only "no open review"."""
    import typer
    from typer.testing import CliRunner

    from omnibus.cli import app
    from processors.identity.review_refusals import _no_open_review_exit

    for by, reason in (("", "why"), ("ops-7", "  ")):
        result = CliRunner().invoke(app, ["identity", "review", "reject", "r1", "--by", by, "--reason", reason])
        assert result.exit_code == 2 and "must not be empty" in result.output
        assert len(result.output.strip().splitlines()) == 1
    h = Harness(settings())
    a_review(h)
    (review,) = open_reviews(queued(h))
    _, record = decision(review, accept=True, operator="ops-7", reason="same", command_id="c1")
    h.local.decisions.append(record)
    for review_id, said in ((review.review_id, "was already accepted by ops-7 at 20"), ("unknown", "no open review")):
        with pytest.raises(typer.Exit) as exited:
            _no_open_review_exit(review_id, queued(h), {})
        assert exited.value.exit_code == 2 and said in capsys.readouterr().err


def _listed_review() -> tuple[Harness, object]:
    h = Harness(settings())
    a_review(h)
    (review,) = open_reviews(queued(h))
    return h, review


def test_the_list_shows_per_field_level_and_weight_and_never_folds_ids_at_80_columns() -> None:
    """New-user finding: the list showed too little to decide, and folded the review id at 80 columns."""
    import io

    from rich.console import Console

    from processors.identity.review_list import print_reviews

    h, review = _listed_review()
    matcher = LinkPolicy(h.config).matcher
    for width in (80, 160):
        out = io.StringIO()
        print_reviews([review], matcher, Console(file=out, width=width, color_system=None))
        text = out.getvalue()
        lines = text.splitlines()
        assert any(review.review_id in line for line in lines), text  # whole, on one line
        assert any(review.customer_id in line for line in lines) and any(review.other_customer_id in line
                                                                        for line in lines)
        assert "1000001" not in text and "2000002" not in text and "612345678" not in text
        rows = {line.split()[0]: line.split()[1:] for line in lines if line.split() and "│" in line}
        assert rows["PHONE"][1] == "agree" and rows["PHONE"][3].startswith("+")
        assert rows["ACCOUNT"][1] == "different" and rows["ACCOUNT"][3].startswith("-")
        assert "ACCOUNT:****" in text and "birth_date" in text
        # the identifier the two agree on comes first, before the two linked ones (new-user finding)
        assert text.index("in common    PHONE") < text.index("identifiers  ")
        assert max(len(line) for line in lines) <= width


def test_the_json_list_gives_the_weight_of_every_compared_field_and_masked_identifiers() -> None:
    import json

    from typer.testing import CliRunner

    from omnibus.cli import app

    h, review = _listed_review()

    async def reviews(_: object) -> tuple[list, dict, list, dict]:
        return [review], {}, [], {}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("processors.identity.review_cli._listing", reviews)
        patch.setenv("OMNIBUS_IDENTIFIERS__HMAC_KEY", "test-hmac-key-0123456789")
        result = CliRunner().invoke(app, ["identity", "review", "list", "--json"])
    assert result.exit_code == 0, result.output
    (listed,) = [json.loads(line) for line in result.stdout.splitlines()]  # JSON Lines
    fields = {item["field"]: item for item in listed["fields"]}
    assert fields["ACCOUNT"]["level"] == "different" and fields["ACCOUNT"]["weight"] < 0
    assert fields["PHONE"]["level"] == "agree" and fields["PHONE"]["weight"] > 0
    assert fields["given_name"] == {"field": "given_name", "level": "missing", "weight": 0.0}
    assert listed["identifiers_in_common"] == ["PHONE"]
    # The per-field weights and the prior add up to the weight the matcher decided on.
    assert listed["prior"] + sum(item["weight"] for item in listed["fields"]) == pytest.approx(
        listed["match_weight"], abs=0.05)
    assert listed["review_id"] == review.review_id
    assert all("1000001" not in i and "2000002" not in i and "612345678" not in i for i in listed["identifiers"])
    assert {i.partition(":")[0] for i in listed["identifiers"]} == {"ACCOUNT"}


# Two namesakes (the demo's "Ines Nguyen", born 1973 and 1986), each known by three records that merge late:
# web (e-mail, login), counter (national ID, phone, birth date), billing (account, e-mail, phone).
NAMESAKES = {
    1: {"email": "ines.nguyen1@example.com", "user": "u-01002", "nid": "110105197310020016", "phone": "+33610000001",
        "account": "ACC-100001", "birth": "1973-10-02"},
    6: {"email": "ines.nguyen6@example.com", "user": "u-01007", "nid": "110105198605180021", "phone": "+33610000006",
        "account": "ACC-100006", "birth": "1986-05-18"},
}


def _namesake_events(order: list[int]) -> list[Any]:
    from tests.processors.identity.support import national_id

    per_person: dict[int, list[Any]] = {}
    for index, p in NAMESAKES.items():
        name = {"given_name": "Ines", "family_name": "Nguyen"}
        per_person[index] = [
            ([("EMAIL", p["email"]), ("USER_ID", p["user"])], name),
            ([("NATIONAL_ID", national_id(p["nid"][:17])), ("PHONE", p["phone"])], {**name, "birth_date": p["birth"]}),
            ([("ACCOUNT", p["account"]), ("EMAIL", p["email"]), ("PHONE", p["phone"])], name),
        ]
    return [per_person[index].pop(0) for index in order]


def _replay(order: list[int]) -> tuple[list[Event], dict[str, str]]:
    """The review topic's events and the merges (merged id -> survivor) after the namesakes' records arrive."""
    from tests.processors.identity.graph.test_evidence import with_traits

    # In a customer base the size of the training set (3 000 people): among a million (the default,
    # ``MATCH_POPULATION``), two records that share only a name are refused, not reviewed.
    h = Harness(settings(match_population=TRAINED_POPULATION))
    for minute, (identifiers, traits) in enumerate(_namesake_events(order)):
        with_traits(h, identifiers, traits, minutes=minute)
    announcer = Announcer(TopicSettings(), lambda ref: None)  # type: ignore[arg-type,return-value]
    events = [o.event for d in h.decisions(ReviewRequested) for o in announcer.outgoing(d)]  # type: ignore[union-attr]
    return events, {m.merged_id: m.survivor_id for m in h.decisions(Merged)}


# Arrival orders in which reviews are requested two to four times under ids of records that merge later: the
# two people from either side (A-B, then B'-A'; the first two orders), or one person's two records.
# The old list showed each request.
SWAPPED_ORDERS = [[1, 6, 1, 6, 6, 1], [1, 1, 6, 6, 1, 6], [6, 1, 6, 6, 1, 1], [6, 1, 1, 1, 6, 6]]


@pytest.mark.parametrize("order", SWAPPED_ORDERS)
def test_two_people_requested_again_under_their_merged_ids_are_one_open_review(order: list[int]) -> None:
    events, survivors = _replay(order)
    assert len(open_reviews(events)) >= 2  # the graph asked more than once; without the merges, all listed
    (review,) = open_reviews(events, survivors)
    assert len(current_pair(review, survivors)) == 2


@pytest.mark.parametrize("order", SWAPPED_ORDERS[:2])
def test_once_one_request_of_a_pair_is_decided_its_other_requests_are_already_decided(
    order: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    import typer

    from processors.identity.review_refusals import _no_open_review_exit

    events, survivors = _replay(order)
    (review,) = open_reviews(events, survivors)
    between_the_two = {event.value["review_id"] for event in events
                       if len(current_pair(requested_review(event.value), survivors)) == 2}
    assert len(between_the_two) >= 2  # the same two people, requested from both sides
    _, record = decision(review, accept=False, operator="ann", reason="two people", command_id="cmd-1")
    value = {"envelope": {"occurred_at": datetime(2026, 1, 1, tzinfo=UTC)}, "review_id": record.review_id,
             "accepted": False, "operator": "ann"}
    decided = [*events, Event(DECIDED, value)]
    assert open_reviews(decided, survivors) == []
    assert {decided_as(review_id, decided, survivors) for review_id in between_the_two} == {review.review_id}
    (other, *_) = between_the_two - {review.review_id}
    with pytest.raises(typer.Exit):
        _no_open_review_exit(other, decided, survivors)
    said = capsys.readouterr().err
    assert f"was already rejected by ann at 2026-01-01T00:00:00+00:00 (as review {review.review_id}" in said
    merged = next(event.value["review_id"] for event in events
                  if len(current_pair(requested_review(event.value), survivors)) < 2)
    with pytest.raises(typer.Exit):
        _no_open_review_exit(merged, decided, survivors)
    assert "its two customers have merged since" in capsys.readouterr().err


def _from_both_sides(first: str, b_then: str) -> tuple[list[ReviewRequested], list[Event]]:
    """A-B through a shared identifier (B named ``b_then``) and B-A as a blocking candidate, ``first`` first: the
    requests and the review topic's events."""
    from processors.identity.graph.outputs import Lineage
    from processors.identity.rules import BLOCKING_CANDIDATE, MATCH_REVIEW

    link = ReviewRequested("cus_a", b_then, ("PHONE:+33612345678", "ACCOUNT:2000002"), 3.0, {"PHONE": "agree"},
                           Lineage("e1", "WEB", MATCH_REVIEW))
    blocking = ReviewRequested("cus_b", "cus_a", ("ACCOUNT:2000002", "ACCOUNT:1000001"), 2.0, {"PHONE": "missing"},
                               Lineage("e2", "WEB", BLOCKING_CANDIDATE))
    requests = [link, blocking] if first == "link" else [blocking, link]
    announcer = Announcer(TopicSettings(), lambda ref: None)  # type: ignore[arg-type,return-value]
    return requests, [item.event for request in requests for item in announcer.outgoing(request)]  # type: ignore[union-attr]


@pytest.mark.parametrize("first", ["link", "blocking"])
@pytest.mark.parametrize("merged_since", [False, True])
def test_a_pair_requested_from_both_sides_through_a_link_and_blocking_is_one_review(
    first: str, merged_since: bool
) -> None:
    """A-B through a shared identifier and B-A as a blocking candidate, in either arrival order, and with
    B's side named by a record that has merged into B since: one review, the latest request."""
    requests, events = _from_both_sides(first, "cus_b2" if merged_since else "cus_b")
    (review,) = open_reviews(events, {"cus_b2": "cus_b"})
    assert review.match_weight == requests[-1].match_weight


def _owners(h: Harness) -> dict[str, str]:
    """Identifier key -> customer, as a reader of ``customer.identifiers.v1`` holds it."""
    return {key: owner for key in h.local.store.nodes if not key.startswith("cus_")
            and (owner := h.local.customer_of(key)) is not None}


@pytest.mark.parametrize("other_identifier", [True, False], ids=["holds-another", "holds-nothing"])
def test_accept_links_the_reviews_customers_as_they_are_now_or_says_why_it_cannot(other_identifier: bool) -> None:
    """New-user finding: `review accept` of a pair one side of which no longer held the review's identifier
    said "accepted" and merged nothing (the saga looks customers up by identifier). Here the review's account
    of one side is split off to a third customer after the request: the decision must link the review's two
    customers by what they hold now, or refuse with the reason when one holds nothing."""
    from processors.identity.graph.messages.commands import SplitCustomer
    from processors.identity.graph.outputs import Send
    from processors.identity.review import NothingToLink, linking_identifiers

    h = Harness(settings())
    a_review(h)
    (review,) = open_reviews(queued(h))
    b_account = next(key for key in review.identifiers if key.endswith("2000002"))
    a, b = h.customer("ACCOUNT", "1000001"), h.customer("ACCOUNT", "2000002")
    assert a is not None and b is not None
    if not other_identifier:  # the graph no longer lets a customer give its only identifier away (15568af):
        owners = {**_owners(h), b_account: "cus_c"}  # the state the new user met, as the reader saw it
        with pytest.raises(NothingToLink, match=f"customer {b} holds no identifier") as refused:
            linking_identifiers(review, owners, {})
        assert f"omnibus identity merge {min(a, b)} {max(a, b)}" in str(refused.value)  # a command that works
        return
    h.observe(("ACCOUNT", "2000002"), ("EMAIL", "bob@example.org"), minutes=2)
    assert h.customer("EMAIL", "bob@example.org") == b
    h.local.submit([Send(b, SplitCustomer([b_account], "moved", "cmd-s", 10**15, "BACK_OFFICE"))])
    h.local.run()
    assert h.customer("ACCOUNT", "2000002") not in (a, b)  # the review's identifier now leads elsewhere
    # With the review's own pair, accept would have merged a with the split-off customer, not with b.
    identifiers = linking_identifiers(review, _owners(h), {})
    send, _ = decision(review, accept=True, operator="ops-7", reason="same", command_id="c1", identifiers=identifiers)
    h.local.submit([send])
    h.local.run()
    assert h.customer("ACCOUNT", "1000001") == h.customer("EMAIL", "bob@example.org")  # a and b merged
    assert h.customer("ACCOUNT", "2000002") != h.customer("ACCOUNT", "1000001")  # the split-off one did not
    h.local.check_consistent()


def test_review_commands_need_no_token_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """New-user finding: the read-only `review list` exited 2 asking for the HMAC key it never uses. Listing
    and deciding tokenise nothing; `split` (which normalises the identifiers typed in) still needs the key."""
    from typer.testing import CliRunner

    from omnibus.cli import app

    _, review = _listed_review()

    async def reviews(_: object) -> tuple[list, dict, list, dict]:
        return [review], {}, [], {}

    for variable in ("OMNIBUS_IDENTIFIERS__HMAC_KEY", "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr("processors.identity.review_cli._listing", reviews)
    listed = CliRunner().invoke(app, ["identity", "review", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    from processors.identity import cli_common

    _, identity = cli_common._settings_or_exit()  # the settings `review accept | reject` load too
    assert len(identity.hmac_key.get_secret_value()) >= 16
    split = CliRunner().invoke(app, ["identity", "split", "--customer", "cus_x", "--identifier", "PHONE:+33612345678",
                                     "--by", "ops-1", "--reason", "r"])
    assert split.exit_code == 2 and "HMAC_KEY" in split.output


def test_a_review_is_found_by_the_first_characters_of_its_id_when_no_other_begins_with_them() -> None:
    """tester15 F12: ``identity review accept fec68f08`` answered "no open review fec68f08"."""
    from processors.identity.review import AmbiguousReviewId, resolved_review_id

    first, second = "fec68f08-1111-4000-8000-000000000001", "fec6aa00-2222-4000-8000-000000000002"
    decided = "0badcafe-3333-4000-8000-000000000003"
    assert resolved_review_id("fec68f08", [first, second], [first, second, decided]) == first
    assert resolved_review_id("FEC6AA", [first, second], []) == second
    assert resolved_review_id(first, [first], []) == first
    assert resolved_review_id("0badcafe", [first], [first, decided]) == decided  # for "already decided ..."
    assert resolved_review_id("fe", [first], []) == "fe"  # too short to stand for one
    assert resolved_review_id("deadbeef", [first], []) == "deadbeef"  # none: "no open review deadbeef"
    with pytest.raises(AmbiguousReviewId, match=f"begins 2 reviews \\({first}, {second}\\)"):
        resolved_review_id("fec6", [first, second], [])


def test_a_side_that_held_no_identifier_is_said_in_words_not_as_an_unknown_identifier() -> None:
    """Tester17 M3: a review of a call's own customer (no identifier: ``seek.own_customer``) showed ``UNKNOWN:…``.
    Here the caller's identify never carried the landline, so blocking meets the two on traits alone (the README's
    review for a first name and a birth date)."""
    import io

    from rich.console import Console

    from processors.identity.review_list import print_reviews
    from processors.identity.review import NO_IDENTIFIER
    from tests.processors.identity.graph.test_seek_landline import LEA, PAUL, identify, ivr_call

    h = Harness(settings())
    own_login = (LEA[0], {key: value for key, value in LEA[1].items() if key != "phone"})
    for item in (identify(PAUL, 0), identify(own_login, 1), *ivr_call()):
        h.feed(*item)
    (review,) = open_reviews(queued(h))
    out = io.StringIO()
    print_reviews([review], LinkPolicy(h.config).matcher, Console(file=out, width=120, color_system=None))
    assert "UNKNOWN" not in out.getvalue() and "UNKNOWN" not in describe(review)["identifiers"]
    assert f"identifiers  {NO_IDENTIFIER}  USER_ID:" in out.getvalue()


@pytest.mark.parametrize("first", ["link", "blocking"])
def test_tester27_f7_a_review_superseded_by_a_later_request_of_the_same_two_says_which(
    first: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A-B requested, then B-A under another review id (B's record merged into B since): one review is listed, the
    later one, and the earlier id vanished from ``review list`` without a word, and ``review accept`` of it answered
    "no open review". Both say it was superseded, and by which."""
    import io

    import typer
    from rich.console import Console

    from processors.identity.review_refusals import _no_open_review_exit
    from processors.identity.review import superseded_reviews
    from processors.identity.review_list import print_reviews

    _, events = _from_both_sides(first, "cus_b2")
    survivors = {"cus_b2": "cus_b"}
    (review,) = open_reviews(events, survivors)
    earlier = next(event.value["review_id"] for event in events if event.value["review_id"] != review.review_id)
    assert superseded_reviews(events, survivors) == {earlier: review.review_id}
    out = io.StringIO()
    print_reviews([review], LinkPolicy(settings()).matcher, Console(file=out, width=100, color_system=None),
                  superseded=superseded_reviews(events, survivors))
    text = out.getvalue()
    assert f"review {earlier}  superseded by review {review.review_id}" in text
    assert text.rstrip().endswith("1 open review, 1 superseded by a later request for the same two customers")
    with pytest.raises(typer.Exit):
        _no_open_review_exit(earlier, events, survivors)
    assert f"review {earlier} was superseded by review {review.review_id}" in capsys.readouterr().err
    assert superseded_reviews(events) == {}  # without the merge, two pairs: two open reviews
