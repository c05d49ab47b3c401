"""What each side of a merge review holds (``processors/identity/review_sides.py``), printed by ``identity review list``
(``review_list.py``). New-user finding on the demo: a review read "PHONE agree", every other field missing, and
could not be decided. It was a customer known only by the phone of an unanswered call (no IVR data) against a
counter record of a person with a national ID, name and birth date."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.announcements import Announcer
from processors.identity.graph.outputs import Created, Linked, Merged, Refused, ReviewRequested, Split
from processors.identity.review import as_json, decision, open_reviews
from processors.identity.review_list import print_reviews
from processors.identity.review_sides import customer_sides
from processors.identity.rules import LinkPolicy
from tests.processors.identity.support import Harness, envelope, ident, national_id
from tests.processors.identity.support import matcher_settings as settings

PHONE = ("PHONE", "+33611986000")
NID = ("NATIONAL_ID", national_id("11010519730502001"))


def _events(h: Harness, kinds: tuple[type, ...]) -> list[Event]:
    announcer = Announcer(TopicSettings(), lambda ref: None)  # type: ignore[arg-type,return-value]
    return [item.event for output in h.local.decisions if isinstance(output, kinds)
            for item in announcer.outgoing(output) if item.topic.endswith(("customer.events.v1", "reviews.v1"))]


def demo_like_review() -> tuple[Harness, Any, dict[str, Any]]:
    """An unanswered call (the phone only; its IVR took a postcode), then the same person at the counter (ID card:
    national ID, phone, name, birth date): the matcher asks an operator. (A call that tells nothing at all does not
    rank the phone, ``limits.tells``: the counter's record then claims it and the call's customer merges into hers,
    as when the counter came first.)"""
    h = Harness(settings())
    h.feed(Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("CALL_CENTER"), "identifiers": [ident(*PHONE)], "traits": {"postcode": "75011"}}),
        topic="identity.observed.v1")
    h.feed(Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("BRANCH", minutes=5), "identifiers": [ident(*NID), ident(*PHONE)],
        "traits": {"full_name": "Ines Nguyen", "birth_date": "1973-05-02"}}), topic="identity.observed.v1")
    (review,) = open_reviews(_events(h, (ReviewRequested,)))
    sides = customer_sides(_events(h, (Created, Linked, Merged, Split, Refused)))
    return h, review, sides


def test_each_side_of_a_review_says_what_it_holds_and_a_phone_only_side_says_what_to_decide() -> None:
    h, review, sides = demo_like_review()
    caller, counter = h.customer(*PHONE), h.customer(*NID)
    assert {review.customer_id, review.other_customer_id} == {caller, counter} and caller != counter
    assert [key.partition(":")[0] for key in sides[caller].identifiers] == ["PHONE"]
    assert sides[caller].channels == ["CALL_CENTER"] and len(sides[caller].records) == 1
    assert sides[counter].channels == ["BRANCH"] and {k.partition(":")[0] for k in sides[counter].identifiers} == {
        "NATIONAL_ID"}
    matcher = LinkPolicy(h.config).matcher
    for width in (80, 160):
        out = io.StringIO()
        print_reviews([review], matcher, Console(file=out, width=width, color_system=None), sides=sides)
        text, lines = out.getvalue(), out.getvalue().splitlines()
        assert max(len(line) for line in lines) <= width
        assert caller in lines[lines.index(f"  {caller}")] and "holds PHONE:+33*****6000; 1 record from CALL_CENTER" \
            in text.replace("\n      ", " ")
        assert "holds NATIONAL_ID:" in text and "1 record from BRANCH" in text
        said = " ".join(text.split())
        assert f"to decide: {caller} holds nothing but the PHONE the two share (1 record from CALL_CENTER)" in said
        assert "nothing to compare, missing on one side or both" in said
        assert PHONE[1] not in text and NID[1] not in text
    listed = as_json(review, matcher, sides)
    assert [side["customer_id"] for side in listed["customers"]] == [review.customer_id, review.other_customer_id]
    assert listed["to_decide"].startswith(f"{caller} holds nothing but the PHONE")
    assert PHONE[1] not in json.dumps(listed) and NID[1] not in json.dumps(listed)


def test_sides_follow_merges_claims_splits_and_evictions() -> None:
    def event(kind: str, **value: Any) -> Event:
        lineage = {"triggering_event_id": value.pop("by"), "channel": value.pop("channel", "WEB"), "rule": "r"}
        return Event(f"omnibus.identity.{kind}", {**value, "lineage": lineage})

    phone, mail, nid = ({"type": t, "value": v} for t, v in (("PHONE", "+1"), ("EMAIL", "a@x"), ("NATIONAL_ID", "n")))
    sides = customer_sides([
        event("CustomerCreated", customer_id="a", identifiers=[phone], by="e1", channel="CALL_CENTER"),
        event("CustomerCreated", customer_id="b", identifiers=[mail, nid], by="e2"),
        event("CustomerLinked", customer_id="b", identifier=phone, by="e3", channel="BRANCH"),  # a claim moved it
        event("CustomerMerged", survivor_customer_id="b", merged_customer_id="a", moved_identifiers=[], by="e4"),
        event("CustomerSplit", source_customer_id="b", new_customer_id="c", moved_identifiers=[mail], reason=None,
              by="e5", channel="BACK_OFFICE"),
        event("LinkRefused", customer_id="b", identifier=nid, evicted=True, by="e6"),
    ])
    assert set(sides) == {"b", "c"}
    assert sides["b"].identifiers == {"PHONE:+1"} and sides["b"].records == {"e2", "e3", "e1"}
    assert sides["b"].channels == ["CALL_CENTER", "WEB", "BRANCH"]  # first seen: a merged-away customer's included
    assert sides["c"].identifiers == {"EMAIL:a@x"} and sides["c"].channels == ["BACK_OFFICE"]


def test_two_phones_that_mask_alike_are_told_apart_across_the_two_sides() -> None:
    """tester12: the review list showed ``PHONE:+33*****0003`` twice, for two different phones."""
    from processors.identity.review import OpenReview
    from processors.identity.review_sides import Side

    first, second = "PHONE:+33612340003", "PHONE:+33698760003"
    sides = {"cus_a": Side("cus_a", {first, "EMAIL:ann@example.org"}, {"e1"}, ["WEB"]),
             "cus_b": Side("cus_b", {second}, {"e2"}, ["CALL_CENTER"])}
    review = OpenReview("r1", "cus_a", "cus_b", ("EMAIL:ann@example.org", second), -0.5,
                        {"PHONE": "different", "given_name": "exact"})
    shown = as_json(review, LinkPolicy(settings()).matcher, sides)
    held = [customer["identifiers"] for customer in shown["customers"]]
    assert held == [["PHONE:+33*****0003 (1)", "EMAIL:a***@example.org"], ["PHONE:+33*****0003 (2)"]]
    assert shown["identifiers"] == ["EMAIL:a***@example.org", "PHONE:+33*****0003 (2)"]
    out = io.StringIO()
    print_reviews([review], LinkPolicy(settings()).matcher, Console(file=out, width=200), sides)
    assert "+33*****0003 (1)" in out.getvalue() and "+33*****0003 (2)" in out.getvalue()


def test_a_review_comparing_traits_says_their_values_are_not_on_it_and_where_the_names_are() -> None:
    """tester12: review list showed levels of names, dates and postcodes but no values to decide with."""
    h, review, sides = demo_like_review()
    review.levels.update({"given_name": "exact", "birth_date": "different"})
    out = io.StringIO()
    print_reviews([review], LinkPolicy(h.config).matcher, Console(file=out, width=200, color_system=None), sides)
    said = " ".join(out.getvalue().split())
    assert "values not on the review record (" in said and "GET /customers/<customer id>" in said
    assert "given_name" in said.split("values not on the review record (")[1].split(":")[0]


FRANK_NID = ("NATIONAL_ID", national_id("11010519700502001"))


def father_and_son_through_a_phone_only_record() -> tuple[Harness, list[Event]]:
    """tester F4's family: Hugo logs in on the web (a login, an e-mail, his name), an unanswered call gives the family
    phone only, Frank comes to the counter (ID card, the phone, his name and birth date), Hugo logs in again with the
    phone: two reviews, each against the phone-only record (+1.6 bits, the phone in common). An operator accepts
    Hugo's: the record merges into Hugo. Frank's review now compares Frank with Hugo, a father and his minor son."""
    h = Harness(settings())
    hugo = {"full_name": "Hugo Martin", "birth_date": "2010-03-04"}
    for minutes, channel, identifiers, traits in (
            (0, "WEB", [("USER_ID", "hugo.m"), ("EMAIL", "hugo@example.fr")], hugo),
            (2, "CALL_CENTER", [PHONE], {"postcode": "75011"}),  # its IVR took a postcode: demo_like_review
            (5, "BRANCH", [FRANK_NID, PHONE], {"full_name": "Frank Martin", "birth_date": "1970-05-02"}),
            (10, "WEB", [("USER_ID", "hugo.m"), PHONE], hugo)):
        h.feed(Event("omnibus.contact.IdentifiersObserved", {
            "envelope": envelope(channel, minutes=minutes), "identifiers": [ident(*i) for i in identifiers],
            **({"traits": traits} if traits else {})}), topic="identity.observed.v1")
    requests = _events(h, (ReviewRequested,))
    hugos = next(review for review in open_reviews(requests) if h.customer("USER_ID", "hugo.m") in (
        review.customer_id, review.other_customer_id))
    send, record = decision(hugos, accept=True, operator="ann", reason="his first call", command_id="c1")
    h.local.submit([send])
    h.local.run()
    announcer = Announcer(TopicSettings(), lambda ref: None)  # type: ignore[arg-type,return-value]
    return h, [*requests, *(item.event for item in announcer.outgoing(record))]


@pytest.mark.parametrize("merges_first", [False, True], ids=["in-order", "merge-read-first"])
def test_a_review_of_a_record_merged_since_names_the_survivor_and_advises_for_it(merges_first: bool) -> None:
    """tester F4: the list showed "customers cus_65cc… (Frank) cus_6619…" and "to decide: cus_6619… holds nothing but
    the PHONE the two share … Accept if its contacts were cus_65cc…'s person", cus_6619… having merged into Hugo (a
    login, an e-mail, a name): an operator would merge father and son. The list names the survivors, says which
    record merged into which, and what each holds now; no phone-only advice. ``merge-read-first``: the merge is read
    before the merged-away record's ``CustomerCreated`` (customer.events.v1 is keyed by customer id: two partitions
    read one after the other)."""
    h, reviews = father_and_son_through_a_phone_only_record()
    frank, hugo, record = h.customer(*FRANK_NID), h.customer("USER_ID", "hugo.m"), h.decisions(Merged)[0].merged_id
    assert hugo == h.customer(*PHONE) and frank != hugo and record not in (frank, hugo)
    customer_events = _events(h, (Created, Linked, Merged, Split, Refused))
    if merges_first:
        customer_events.sort(key=lambda event: event.schema != "omnibus.identity.CustomerMerged")
    survivors = {m.merged_id: m.survivor_id for m in h.decisions(Merged)}
    owners = {key: owner for key in h.local.store.nodes if not key.startswith("cus_")
              and (owner := h.local.customer_of(key)) is not None}
    (review,) = open_reviews(reviews, survivors)
    assert {review.customer_id, review.other_customer_id} == {frank, hugo} and record in review.requested_as
    matcher = LinkPolicy(h.config).matcher
    for sides in (customer_sides(customer_events), customer_sides(customer_events, owners)):
        assert record not in sides
        assert {key.partition(":")[0] for key in sides[hugo].identifiers} == {"USER_ID", "EMAIL", "PHONE"}
        assert "CALL_CENTER" in sides[hugo].channels
        out = io.StringIO()
        print_reviews([review], matcher, Console(file=out, width=120, color_system=None), sides=sides)
        said = " ".join(out.getvalue().split())
        assert f"customers {review.customer_id} {review.other_customer_id}" in said
        assert f"requested as {record}, merged into {hugo} since" in said
        assert "holds nothing but" not in said and f"  {record}\n" not in out.getvalue()
        listed = as_json(review, matcher, sides)
        assert listed["to_decide"] is None and record in listed["requested_as"]
        assert {side["customer_id"] for side in listed["customers"]} == {frank, hugo}
        assert "hugo@example.fr" not in said and PHONE[1] not in said


def test_a_review_whose_two_customers_have_merged_since_is_listed_as_closed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The moot kind of F4: both sides of a request now resolve to one customer. Not open (nothing to decide; `review
    accept` says so), and the list says so rather than leaving the request out unexplained."""
    from processors.identity.review import closed_reviews

    h, reviews = father_and_son_through_a_phone_only_record()
    frank, hugo = h.customer(*FRANK_NID), h.customer("USER_ID", "hugo.m")
    survivors = {**{m.merged_id: m.survivor_id for m in h.decisions(Merged)}, frank: hugo}  # say Frank merged too
    assert open_reviews(reviews, survivors) == []
    (closed,) = closed_reviews(reviews, survivors)
    assert closed.customer_id == closed.other_customer_id == hugo and frank in closed.requested_as
    out = io.StringIO()
    print_reviews([], LinkPolicy(h.config).matcher, Console(file=out, width=200, color_system=None), closed=[closed])
    said = " ".join(out.getvalue().split())
    assert f"review {closed.review_id} closed: " in said and f"have merged into {hugo} since, nothing to decide" in said
    assert said.endswith("0 open reviews, 1 closed: their two customers have merged since")
    import typer

    from processors.identity.review_refusals import _no_open_review_exit

    with pytest.raises(typer.Exit):  # not "already accepted": Hugo's review decided another pair, now the same one
        _no_open_review_exit(closed.review_id, reviews, survivors)
    assert "its two customers have merged since" in capsys.readouterr().err


def test_review_list_json_lists_the_closed_and_superseded_reviews_the_text_lists_each_with_its_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """New-user finding: with 12 closed reviews and none open, ``review list`` named the 12, ``review list --json``
    printed nothing (it passed the open ones only). Now every line the text lists is a JSON line saying its state."""
    import json

    from typer.testing import CliRunner

    from omnibus.cli import app
    from processors.identity.review import closed_reviews

    h, reviews = father_and_son_through_a_phone_only_record()
    frank, hugo = h.customer(*FRANK_NID), h.customer("USER_ID", "hugo.m")
    survivors = {**{m.merged_id: m.survivor_id for m in h.decisions(Merged)}, frank: hugo}
    (closed,) = closed_reviews(reviews, survivors)
    (still_open,) = open_reviews(reviews, {m.merged_id: m.survivor_id for m in h.decisions(Merged)})

    async def listing(_: object) -> tuple[list, dict, list, dict]:
        return [still_open], {}, [closed], {"rev-earlier": still_open.review_id}

    monkeypatch.setattr("processors.identity.review_cli._listing", listing)
    monkeypatch.setattr("processors.identity.review_cli._settings_or_exit", lambda: (None, h.config))
    text = CliRunner().invoke(app, ["identity", "review", "list"])
    listed = CliRunner().invoke(app, ["identity", "review", "list", "--json"])
    assert text.exit_code == 0 and listed.exit_code == 0, (text.output, listed.output)
    lines = [json.loads(line) for line in listed.output.splitlines()]
    assert [(line["review_id"], line["state"]) for line in lines] == [
        (still_open.review_id, "open"), (closed.review_id, "closed"), ("rev-earlier", "superseded")]
    assert lines[0]["fields"] and lines[0]["customer_id"] == still_open.customer_id
    assert lines[1]["closed_because"] == "merged" and lines[1]["customer_id"] == hugo
    assert frank in lines[1]["requested_as"]
    assert lines[2]["superseded_by"] == still_open.review_id
    for line in lines:  # the text names the same reviews
        assert line["review_id"] in text.output
    assert "1 open review, 1 closed" in text.output
