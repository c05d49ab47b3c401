"""``omnibus verify``'s command line: a bad argument exits 2 with the reason; the report renders every check."""

from __future__ import annotations

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
    assert "identity: a" in text and "row 1 is stale" in text and "1 failure(s)" in text and "lost 0" in text


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
