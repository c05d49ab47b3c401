from processors.offers.machine import present, respond
from processors.offers.state import CustomerState, OfferStatus, merge, split
from tests.processors.offers.factories import customer

PHONE, EMAIL, ACCOUNT = "PHONE:+8613900000001", "EMAIL:a@x.org", "ACCOUNT:42"


def test_round_trip() -> None:
    person = customer(identifiers=[PHONE], offers={"a": present(None, 1, 1, "WEB", 5, (PHONE,)).state},
                      ledger=[[5, "WEB", "a", "e1", [PHONE]]], products={"DSL": [ACCOUNT]}, signals={"REPEAT_CONTACT": 9})
    assert CustomerState.from_dict(person.to_dict()) == person


def test_merge_answer_wins_and_counters_add() -> None:
    shown = present(None, 1, 1, "CALL_CENTER", 10, (PHONE,)).state
    survivor = customer("cus_1", identifiers=[PHONE], offers={"a": shown, "b": shown},
                        ledger=[[10, "CALL_CENTER", "a", "e1", [PHONE]]])
    declined = respond(present(None, 1, 1, "WEB", 5, (EMAIL,)).state, 1, "DECLINED", "WEB", 6, (EMAIL,), 0)
    merged = customer("cus_2", identifiers=[EMAIL], offers={"a": declined},
                      ledger=[[5, "WEB", "a", "e2", [EMAIL]], [10, "CALL_CENTER", "a", "e1", [PHONE]]])
    result = merge(survivor, merged)
    assert result.customer_id == "cus_1" and result.identifiers == [PHONE, EMAIL]
    assert result.offers["a"].status is OfferStatus.DECLINED  # the answer under the other identifier wins
    assert result.offers["a"].presentations == 2 and result.offers["a"].last_channel == "CALL_CENTER"
    assert result.offers["b"].status is OfferStatus.PRESENTED
    assert [row[3] for row in result.ledger] == ["e2", "e1"]  # counters add, a shared event counts once


def test_merge_two_answers_keeps_the_later() -> None:
    early = respond(None, 1, "DECLINED", "WEB", 5, (EMAIL,), 0)
    late = respond(None, 1, "ACCEPTED", "BRANCH", 9, (PHONE,), 0)
    assert merge(customer(offers={"a": early}), customer("cus_2", offers={"a": late})).offers["a"].status is OfferStatus.ACCEPTED


def test_split_divides_by_the_identifiers_that_produced_each_part() -> None:
    by_phone = present(None, 1, 1, "CALL_CENTER", 10, (PHONE,)).state
    by_email = respond(None, 1, "ACCEPTED", "WEB", 11, (EMAIL,), 0)
    both = present(None, 1, 1, "WEB", 12, (PHONE, EMAIL)).state
    source = customer("cus_1", identifiers=[PHONE, EMAIL], offers={"p": by_phone, "e": by_email, "both": both},
                      ledger=[[10, "CALL_CENTER", "p", "e1", [PHONE]], [11, "WEB", "e", "e2", [EMAIL]]],
                      contacts=[[10, "CALL_CENTER", "bill", "e1", [PHONE]]], products={"DSL": [PHONE], "TV": [EMAIL]})
    kept, new = split(source, "cus_9", {EMAIL})
    assert (kept.identifiers, new.identifiers) == ([PHONE], [EMAIL])
    assert set(kept.offers) == {"p", "both"} and set(new.offers) == {"e", "both"}
    assert new.offers["e"].status is OfferStatus.ACCEPTED
    assert [r[3] for r in kept.ledger] == ["e1"] and [r[3] for r in new.ledger] == ["e2"]
    assert (set(kept.products), set(new.products)) == ({"DSL"}, {"TV"})
    assert kept.contacts and not new.contacts


def test_merge_then_split_gives_back_the_parts() -> None:
    a = customer("cus_1", identifiers=[PHONE], offers={"x": respond(None, 1, "DECLINED", "BRANCH", 3, (PHONE,), 0)})
    b = customer("cus_2", identifiers=[EMAIL], offers={"y": present(None, 1, 1, "WEB", 4, (EMAIL,)).state})
    kept, new = split(merge(a, b), "cus_3", {EMAIL})
    assert set(kept.offers) == {"x"} and set(new.offers) == {"y"}


def test_split_moves_billing_facts_with_the_identifiers_they_came_through() -> None:
    """tester15 F3: segment, tier and arrears stayed with the source of a split whatever they came through."""
    source = customer("cus_1", identifiers=[PHONE, EMAIL, ACCOUNT],
                      profile={"segment": "residential", "service_tier": "gold", "city": "Lyon"},
                      overdue={"b1": 30, "b2": 5},
                      fact_via={"segment": [ACCOUNT], "service_tier": [ACCOUNT, EMAIL], "overdue:b1": [ACCOUNT],
                                "overdue:b2": [EMAIL]})
    kept, new = split(source, "cus_9", {ACCOUNT})
    assert kept.profile == {"service_tier": "gold", "city": "Lyon"} and kept.overdue == {"b2": 5}
    assert new.profile == {"segment": "residential", "service_tier": "gold"} and new.overdue == {"b1": 30}
    assert new.fact_via == {"segment": [ACCOUNT], "service_tier": [ACCOUNT], "overdue:b1": [ACCOUNT]}
    assert CustomerState.from_dict(source.to_dict()) == source


def test_merge_keeps_where_each_billing_fact_came_from() -> None:
    survivor = customer("cus_1", profile={"segment": "business"}, fact_via={"segment": [ACCOUNT]})
    merged = customer("cus_2", profile={"segment": "residential", "service_tier": "gold"}, overdue={"b1": 3},
                      fact_via={"segment": [EMAIL], "service_tier": [EMAIL], "overdue:b1": [EMAIL]})
    result = merge(survivor, merged)
    assert result.profile == {"segment": "business", "service_tier": "gold"}
    assert result.fact_via == {"segment": [ACCOUNT], "service_tier": [EMAIL], "overdue:b1": [EMAIL]}


def test_tester32_f9_merge_keeps_each_reserved_push_once_and_split_leaves_them_with_the_source() -> None:
    sms = [10, "SMS", "a", "show-1", "cus_1", None]
    mail = [11, "EMAIL", "a", "show-2", "cus_2", None]
    survivor = customer("cus_1", identifiers=[PHONE], reserved=[sms])
    result = merge(survivor, customer("cus_2", identifiers=[EMAIL], reserved=[mail, sms]))
    assert result.reserved == [sms, mail]
    assert CustomerState.from_dict(result.to_dict()) == result
    kept, new = split(result, "cus_3", {EMAIL})
    assert kept.reserved == [sms, mail] and new.reserved == []  # the SHOWs were keyed by the source
