"""``omnibus verify``'s command line: a bad argument exits 2 with the reason; the report renders every check."""

from __future__ import annotations

import pytest
from rich.console import Console
from typer.testing import CliRunner

from omnibus.cli import app
from processors.verify.cli import render
from processors.verify.report import Check, Report


def test_an_unknown_processor_exits_2_with_the_known_ones() -> None:
    result = CliRunner().invoke(app, ["verify", "--processor", "nope", "--bootstrap-servers", "127.0.0.1:1"])
    assert result.exit_code == 2
    assert "identity, handoffs" in result.output


def test_the_help_says_which_processors_are_not_covered() -> None:
    """tester11 #9: ``verify --processor`` covers identity and handoffs only, and nothing said so."""
    shown = " ".join(CliRunner().invoke(app, ["verify", "--help"], env={"COLUMNS": "200"}).output.replace("│", " ").split())
    assert "identity and handoff processors only" in shown and "omnibus replay kpis" in shown and "offer" in shown


def test_the_report_lists_each_check_and_the_failures() -> None:
    report = Report([Check("identity: a", 3), Check("identity: b", 2, ["row 1 is stale"])], {"lost": 0})
    console = Console(record=True, width=140)
    render(report, console)
    text = console.export_text()
    assert "identity: a" in text and "row 1 is stale" in text and "1 failure" in text and "lost 0" in text


def test_notes_past_the_listed_ones_are_counted() -> None:
    """tester F9: 503 groups "awaiting review", 20 notes shown and nothing said of the rest."""
    report = Report([Check("identity: a", 1)], {"awaiting review": 25}, [f"customer {n}" for n in range(25)])
    console = Console(record=True, width=140)
    render(report, console)
    assert "… and 5 more (the figures count them all)" in console.export_text()
    assert "note … and 5 more (the figures count them all)" in report.lines()


def test_list_figures_prints_what_a_figure_counts_and_without_it_says_which_figures_list() -> None:
    """tester17 N7: the operator can follow a "contacts left by a claim" figure up (ids only)."""
    report = Report([Check("identity: a", 1)], {"contacts left by a claim": 1},
                    items={"contacts left by a claim": ["contact i-1 (event e-1) under cus_b; its identifiers lead to "
                                                        "cus_a"]})
    console = Console(record=True, width=200)
    render(report, console)
    assert "(--list-figures lists the contacts left by a claim)" in console.export_text()
    console = Console(record=True, width=200)
    render(report, console, list_figures=True)
    assert "  - contact i-1 (event e-1) under cus_b; its identifiers lead to cus_a" in console.export_text()


def test_tester24_f11_list_figures_prints_the_ids_behind_each_figure_and_no_identifier_value() -> None:
    """tester24 F11: ``verify --list-figures`` printed the same as ``verify``. On a failing run (a row lost, one on
    another customer, a stale one) every figure that counts something lists it by ids, the first ``MAX_LISTED``
    with a count of the rest; e-mails stay masked."""
    from processors.verify.identity import check_identity
    from tests.processors.verify.support import CONTACTS_IN, Run, row

    run = Run()
    outputs = run.outputs()
    outputs.assignments = [row(outputs.assignments[0].key.decode(), "cus_z", 2, 0),  # type: ignore[union-attr]
                           *outputs.assignments[2:],
                           row(outputs.assignments[2].key.decode(), "cus_c", 3, 9)]  # type: ignore[union-attr]
    report = Report()
    check_identity(run.recomputed, outputs, CONTACTS_IN, report)
    plain, listed = Console(record=True, width=400), Console(record=True, width=400)
    render(report, plain)
    render(report, listed, list_figures=True)
    counted = {name for name, value in report.figures.items() if value and name != "events"}
    assert counted == {"lost", "stale rows"} and set(report.items) == counted
    text = listed.export_text()
    assert text != plain.export_text()
    for name in counted:
        assert f"{name}:\n" + "".join(f"  - {line}\n" for line in report.items[name]) in text
    assert "cus_c (merged away)" in text and "recomputed customer cus_" in text
    assert not any(value in text for value in ("a@example.org", "b@example.org", "c@example.org"))


def test_list_figures_prints_the_first_items_of_a_figure_and_counts_the_rest() -> None:
    report = Report([Check("identity: a", 1)], {"lost": 25}, items={"lost": [f"event e-{n}" for n in range(25)]})
    console = Console(record=True, width=200)
    render(report, console, list_figures=True)
    text = console.export_text()
    assert "  - event e-19\n" in text and "e-20" not in text and "  … and 5 more" in text


def test_tester25_f8_every_figure_but_a_total_lists_what_it_counts() -> None:
    """tester25 F8: after the demo ``--list-figures`` listed one figure although "contacts without an identifier 36"
    was non-zero: it was counted without its items. Every figure except a total of what was read (``TOTALS``) is
    counted with its items, and listed; counting another one without them is refused."""
    report = Report()
    report.count("events", 371)
    report.count_items("contacts without an identifier", [f"contact e-{n}" for n in range(36)])
    with pytest.raises(ValueError, match="count it with its items"):
        report.count("contacts through shared identifiers only", 1)
    console = Console(record=True, width=200)
    render(report, console, list_figures=True)
    text = console.export_text()
    assert "contacts without an identifier:\n  - contact e-0\n" in text and "  … and 16 more" in text
    assert "events:" not in text  # a total: nothing to list


def test_tester29_f11_records_not_read_yet_are_not_judged_lost_and_exit_75(monkeypatch: pytest.MonkeyPatch) -> None:
    """tester29 F11: verify right after an import, identity still reading, said "lost 9999" and exit 1. With the
    consumer lag read first it says what is not read yet, judges nothing, and exits ``NOT_READ_YET_EXIT``;
    ``--wait`` reaches ``verify`` as seconds."""
    from processors.verify import cli
    from processors.verify.lag import Unread

    seen: dict[str, object] = {}

    def lagging(settings: object, **options: object) -> Report:
        seen.update(options)
        return Report(unread=[Unread("identity", "omnibus.identity", "omnibus.identity.observed.v1", 9999)])

    monkeypatch.setattr(cli, "verify", lagging)
    result = CliRunner().invoke(app, ["verify", "--wait", "30", "--bootstrap-servers", "127.0.0.1:1"],
                                env={"COLUMNS": "300"})
    assert result.exit_code == cli.NOT_READ_YET_EXIT == 75, result.output
    assert seen["wait_s"] == 30
    shown = " ".join(result.output.split())
    assert ("not judged: identity has 9999 records not read yet on omnibus.identity.observed.v1 (consumer group "
            "omnibus.identity); run again when its consumer lag is 0") in shown
    assert "lost" not in shown.replace("not lost", "") and "FAIL" not in shown and "failure" not in shown


def test_a_report_with_unread_records_is_not_ok_and_its_lines_say_so() -> None:
    from processors.verify.lag import Unread

    report = Report([Check("identity: a", 3)], unread=[Unread("handoffs", "o.handoffs", "o.handoff.events.v1", 1)])
    assert not report.ok and not report.judged
    assert report.lines()[0].startswith("not judged: handoffs has 1 record not read yet on o.handoff.events.v1")
