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


def test_topics_list_at_80_columns_prints_every_name_on_one_line() -> None:
    """New-user sample: ``topics list`` at 80 columns folded each topic name over several lines."""
    import os
    import subprocess
    import sys

    from bus.config import TopicSettings
    from bus.topics import ALL_TOPICS

    env = {**os.environ, "COLUMNS": "80", "OMNIBUS_TOPICS__PREFIX": "omnibus"}
    env.pop("OMNIBUS_TOPICS__PARTITIONS", None)
    done = subprocess.run([sys.executable, "-m", "omnibus", "topics", "list"], env=env, capture_output=True,
                          timeout=60, check=True)
    lines = done.stdout.decode().splitlines()
    assert max(len(line) for line in lines) <= 80
    for spec in ALL_TOPICS:
        name = spec.name(TopicSettings())
        assert any(line.split()[:1] == [name] for line in lines), name
    assert "COLUMNS=120" in done.stdout.decode()


def test_a_wide_terminal_shows_every_declared_column() -> None:
    console = Console(width=160, record=True)
    table = report_table("topic", "key", "what", narrow=("topic",), whole=("topic",), console=console)
    table.add_row("omnibus.contact.events.v1", "source entity id", "Contacts")
    console.print(table)
    assert "source entity id" in console.export_text()
    narrow = Console(width=80, record=True)
    table = report_table("topic", "key", "what", narrow=("topic",), whole=("topic",), console=narrow)
    table.add_row("omnibus.contact.events.v1", "source entity id", "Contacts")
    narrow.print(table)
    text = narrow.export_text()
    assert "source entity id" not in text and "omnibus.contact.events.v1" in text
