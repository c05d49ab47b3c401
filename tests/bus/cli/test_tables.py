"""Found by a new user: at 80 columns ``identity review list`` cut review ids short ("rev_8f1c…")."""

from rich.console import Console

from bus.cli.tables import report_table


def test_a_long_id_is_printed_whole_on_an_80_column_terminal() -> None:
    review_id = "rev_" + "8f1c2b9a" * 8
    table = report_table("review", "customers", "weight (bits)", "agree", "differ", "identifiers")
    table.add_row(review_id, "cus_0123456789abcdef, cus_fedcba9876543210", "4.2", "surname, birth date",
                  "given name", "PHONE, EMAIL")
    console = Console(width=80, record=True)
    console.print(table)
    rows = [line.split("│") for line in console.export_text().splitlines() if line.startswith("│")]
    assert "".join(cells[1].strip() for cells in rows) == review_id
