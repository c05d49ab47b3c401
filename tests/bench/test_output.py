"""A benchmark prints its report and writes a file only when one is named: the results pages keep every earlier run,
each added by hand, and a run that replaced one by default lost them."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.bench import (
    dedupe,
    handoffs,
    handoffs_directory,
    identity,
    kpis,
    state_growth,
    takeover,
    web_ingest,
)
from tests.bench.output import write


@pytest.mark.parametrize("bench", [identity, web_ingest, handoffs_directory, kpis, dedupe, takeover, handoffs,
                                   state_growth], ids=lambda bench: bench.__name__.rsplit(".", 1)[-1])
def test_every_bench_prints_only_unless_told_where_to_write(bench: ModuleType, tmp_path: Path) -> None:
    assert bench.parse([]).output is None
    assert bench.parse(["--output", str(tmp_path / "page.md")]).output == tmp_path / "page.md"


def test_a_named_file_is_replaced_and_its_folder_made(tmp_path: Path) -> None:
    page = tmp_path / "results" / "page.md"
    assert write("# first\n", page) == "# first\n"
    assert write("# second\n", page) == "# second\n" and page.read_text() == "# second\n"
    assert write("# printed\n", None) == "# printed\n"
