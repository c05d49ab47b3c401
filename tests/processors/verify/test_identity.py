"""The identity checks on crafted runs: each passes on correct outputs and fails when its property is broken."""

from __future__ import annotations

from processors.identity.graph.state import encode_state
from processors.profile.book import ProfileBook
from processors.replay import Replayed
from processors.replay.identity import recompute
from processors.verify.identity import check_identity, customers_of_groups
from processors.verify.report import Report
from processors.verify.reviews import TOGETHER_IN_TABLE, TOGETHER_RECOMPUTED
from tests.processors.identity.support import observed, unlimited_settings
from tests.processors.verify.support import CONTACTS_IN, INPUT, SETTINGS, Run, checked, record, row


def test_correct_outputs_pass_every_check() -> None:
    run = Run()
    report = checked(run, run.outputs())
    assert report.ok, report.lines()
    assert report.figures == {"events": 3, "lost": 0, "stale rows": 0, TOGETHER_RECOMPUTED: 0, TOGETHER_IN_TABLE: 0}
    assert report.check("identity: every identifier of an accepted input is assigned").checked == 3


def test_a_missing_row_is_lost() -> None:
    run = Run()
    outputs = run.outputs()
    outputs.assignments = outputs.assignments[1:]
    report = checked(run, outputs)
    assert len(report.check("identity: every identifier of an accepted input is assigned").failures) == 1
    assert report.figures["lost"] == 1
    assert "a@example.org" not in " ".join(report.failures())  # identifiers are masked in the report


def test_a_newer_row_naming_a_merged_away_customer_is_stale_an_older_one_is_not() -> None:
    run = Run()
    outputs = run.outputs()
    key = outputs.assignments[0].key.decode()  # type: ignore[union-attr]
    outputs.assignments.append(row(key, "cus_c", 1, 10))  # older version, written last: the reader ignores it
    assert checked(run, outputs).ok
    outputs.assignments.append(row(key, "cus_c", 3, 11))
    report = checked(run, outputs)
    assert report.figures["stale rows"] == 1
    assert report.check("identity: identifiers are grouped as the recomputation groups them").failures


def test_identifiers_split_over_two_customers_are_not_grouped_as_recomputed() -> None:
    run = Run()
    outputs = run.outputs()
    outputs.assignments[0] = row(outputs.assignments[0].key.decode(), "cus_z", 2, 0)  # type: ignore[union-attr]
    report = checked(run, outputs)
    recomputed = run.recomputed.graph.customer_of(run.keys[0])
    assert report.check("identity: identifiers are grouped as the recomputation groups them").failures == [
        f"customer of EMAIL:a***@example.org: 3 identifiers recomputed on 1 customer ({recomputed}), on the topic "
        "(customer.identifiers) spread over 2 customers (cus_a, cus_z) with 0 other identifiers"]


def test_a_table_that_differs_from_the_recomputation_fails() -> None:
    run = Run()
    outputs = run.outputs()
    outputs.changelog = [r for r in outputs.changelog if not r.key.startswith(b"cus_")]  # type: ignore[union-attr]
    assert not checked(run, outputs).check("identity: node table equals the recomputation from its inputs").ok


def test_a_late_changelog_write_of_a_worker_that_lost_the_partition_is_read_as_a_restore_reads_it() -> None:
    from dataclasses import replace

    from bus.fencing import fence_headers
    from processors.identity.graph.state import CustomerState, encode_state

    run = Run()
    outputs = run.outputs()
    good = [replace(r, headers=fence_headers(2)) for r in outputs.changelog]
    last = good[-1].offset
    stale = [replace(r, offset=last + 1 + i, headers=fence_headers(1), value=encode_state(CustomerState()))
             for i, r in enumerate(good) if r.key.startswith(b"cus_")]  # type: ignore[union-attr]
    outputs.changelog = good + stale  # the paused worker's records land after the new owner's
    assert checked(run, outputs).check("identity: node table equals the recomputation from its inputs").ok
    outputs.changelog = good + [replace(r, headers=fence_headers(3)) for r in stale]  # a newer owner's: they count
    assert not checked(run, outputs).check("identity: node table equals the recomputation from its inputs").ok


def test_an_input_the_intake_refuses_must_be_dead_lettered() -> None:
    run = Run()
    poison = record(INPUT, "p", observed([("EMAIL", "d@example.org")], event_id="e9"), 5)
    del poison.event.value["envelope"]  # type: ignore[union-attr]
    from processors.profile.book import ProfileBook
    from processors.replay.identity import recompute
    from tests.processors.identity.support import unlimited_settings
    from tests.processors.verify.support import SETTINGS

    run.recomputed = recompute([*run.inputs, poison], SETTINGS, unlimited_settings(), ProfileBook([]))
    outputs = run.outputs()
    assert len(checked(run, outputs).check("identity: inputs the intake refuses are dead-lettered").failures) == 1
    outputs.dead_lettered = {(INPUT, 0, 5)}
    assert checked(run, outputs).ok


def test_a_screen_pop_name_that_is_not_the_recomputations_fails() -> None:
    """tester12 S1: ``verify`` said "all checks hold" while Jean's screen pop showed his housemate Marie's name. The
    profile changelog is read back and each customer's name compared with the recomputation's (case aside)."""
    from processors.identity.graph.profile_codec import encode_profile
    from processors.profile.book import ProfileBook
    from processors.replay import Replayed
    from processors.replay.identity import recompute
    from processors.verify.identity_outputs import IdentityOutputs
    from tests.processors.identity.support import matcher_settings
    from tests.processors.verify.support import SETTINGS

    def person(user: str, given: str, birth: str, offset: int):  # type: ignore[no-untyped-def]
        event = observed([("USER_ID", user), ("PHONE", "+33679000001")], event_id=f"e-{user}", minutes=offset)
        event.value["traits"] = {"given_name": given, "family_name": "Dumas", "birth_date": birth}
        return record(INPUT, user, event, offset)

    inputs = [person("jean-I", "Jean", "1984-03-02", 0), person("marie-I", "Marie", "1987-07-19", 1)]
    recomputed = recompute(inputs, SETTINGS, matcher_settings(), ProfileBook.from_registry())
    store = recomputed.graph.store
    nodes = [Replayed("v.identity-identity-nodes-changelog", 0, i, key.encode(), None, encode_state(state))
             for i, (key, state) in enumerate(store.nodes.items())]
    jean = next(key for key, state in store.nodes.items() if getattr(state, "members", None)
                and any(member.startswith("USER_ID:jean") for member in state.members))

    def profiles(swap: bool) -> list[Replayed]:
        values = dict(store.profiles)
        if swap:  # Jean's screen pop shows the profile of Marie's
            values[jean] = next(p for key, p in store.profiles.items() if key != jean and p)
        return [Replayed("v.identity-identity-profiles-changelog", 0, i, key.encode(), None, encode_profile(p))
                for i, (key, p) in enumerate(values.items()) if p]

    check = "identity: each screen pop shows the name the recomputation shows"
    right = Report()
    check_identity(recomputed, IdentityOutputs(changelog=nodes, profiles=profiles(False)), CONTACTS_IN, right)
    assert right.check(check).checked == 2 and not right.check(check).failures
    wrong = Report()
    check_identity(recomputed, IdentityOutputs(changelog=nodes, profiles=profiles(True)), CONTACTS_IN, wrong)
    assert len(wrong.check(check).failures) == 1 and "Marie" not in " ".join(wrong.check(check).failures)
    # tester24 F7: the failure names Jean's customer on both sides, never his phone
    assert wrong.check(check).failures[0].endswith(f"(recomputed {jean}; in the table {jean})")
    assert "679000001" not in " ".join(wrong.lines())


def _everything_printed(report: Report) -> str:
    return "\n".join([*report.lines(), *(line for lines in report.items.values() for line in lines)])


def test_tester24_f7_each_failing_grouping_check_names_the_customer_ids_on_both_sides() -> None:
    """tester24 F7: ``customer of ACCOUNT:****0002`` named two customers (masked identifiers are ambiguous). Every
    failure of the identifiers' and the table's grouping names the customer ids involved, recomputed and live; the
    figures list the same ids; no identifier value appears anywhere."""
    run = Run()
    mine = run.recomputed.graph.customer_of(run.keys[0])
    outputs = run.outputs()
    outputs.assignments = [row(outputs.assignments[0].key.decode(), "cus_z", 2, 0),  # type: ignore[union-attr]
                           *outputs.assignments[2:]]  # one row on another customer, one missing
    half = recompute(run.inputs[:1], SETTINGS, unlimited_settings(), ProfileBook([]))  # a table that lost e2
    theirs = half.graph.customer_of(run.keys[0])
    outputs.changelog = [Replayed(outputs.changelog[0].topic, 0, i, key.encode(), None, encode_state(state))
                         for i, (key, state) in enumerate(half.graph.store.nodes.items())]
    report = checked(run, outputs)
    (lost,) = report.check("identity: every identifier of an accepted input is assigned").failures
    assert f"recomputed customer {mine})" in lost and report.items["lost"] == [lost]
    (spread,) = report.check("identity: identifiers are grouped as the recomputation groups them").failures
    assert f"({mine}), on the topic (customer.identifiers) spread over 2 customers (cus_a, cus_z)" in spread
    table = report.check("identity: node table equals the recomputation from its inputs").failures
    assert table == [f"customer of EMAIL:a***@example.org: 3 identifiers recomputed, 2 in the table "
                     f"(recomputed {mine}; in the table {theirs})"]
    printed = _everything_printed(report)
    assert not any(value in printed for value in ("a@example.org", "b@example.org", "c@example.org"))


def test_tester24_f7_a_customer_on_one_side_only_is_named_by_its_customer_ids() -> None:
    """``customer of ANONYMOUS_ID:anon… only in the recomputation`` named no customer: each side's ids are given."""
    run = Run()
    mine = run.recomputed.graph.customer_of(run.keys[0])
    outputs = run.outputs()
    outputs.changelog = [r for r in outputs.changelog if not r.key.startswith(b"cus_")]  # type: ignore[union-attr]
    report = checked(run, outputs)  # the table lost its customer's node; its identifiers' nodes still name it
    assert report.check("identity: node table equals the recomputation from its inputs").failures == [
        f"customer of EMAIL:a***@example.org only in the recomputation (recomputed {mine}; in the table {mine})"]
    other = Run()
    other.inputs = [record(INPUT, "d", observed([("PHONE", "+33611223344")], event_id="e4"), 0)]
    other.recomputed = recompute(other.inputs, SETTINGS, unlimited_settings(), ProfileBook([]))
    outputs = run.outputs()  # the table holds a customer the recomputation of ``other``'s inputs does not
    report = checked(other, outputs)
    only_table = [line for line in report.check("identity: node table equals the recomputation from its inputs")
                  .failures if "only in the table" in line]
    assert only_table == [f"customer of EMAIL:a***@example.org only in the table (recomputed none; in the table "
                          f"{mine})"]
    assert "611223344" not in _everything_printed(report)


def test_tester50_f12_a_grouping_failure_counts_the_customer_ids_it_lists() -> None:
    """tester50 F12: "spread over 1 customer(s) (cus_b, cus_c)" and "recomputed (cus_r, cus_s)" for "the customer": a
    group the customers a review links are joined into was counted once and its ids all listed. The count is now that
    of the ids listed, and the ids a review links are said to be."""
    owner = {"k1": "cus_b", "k2": "cus_c", "k3": "cus_d", "k4": "cus_e", "k5": "cus_e"}
    assert customers_of_groups([frozenset({"k1", "k2"})], owner) == "2 customers (cus_b, cus_c; a review links " \
                                                                    "cus_b + cus_c)"
    assert customers_of_groups([frozenset({"k1", "k2"}), frozenset({"k3"})], owner) == \
        "3 customers (cus_b, cus_c, cus_d; a review links cus_b + cus_c)"
    assert customers_of_groups([frozenset({"k4", "k5"})], owner) == "1 customer (cus_e)"
    assert customers_of_groups([frozenset({"k1", "k2"}), frozenset({"k3", "k4"})], owner) == \
        "4 customers (cus_b, cus_c, cus_d, cus_e; a review links cus_b + cus_c; cus_d + cus_e)"
    assert customers_of_groups([frozenset({"unowned"})], owner) == "0 customers (none)"
