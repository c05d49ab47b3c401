"""A benchmark prints its report and writes a file only when one is named: the results pages keep every earlier run,
each added by hand, and a run that replaced one by default lost them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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

# the benches cheap enough to run here, each at a tiny size: (its results page, a run printing its report)
RUNS: dict[str, tuple[str, Callable[[], str]]] = {
    "handoffs": ("handoffs.md", lambda: asyncio.run(handoffs.run(handoffs.parse(
        ["--handoffs", "20", "--open", "500", "--partitions", "2", "--ticks", "2"])))),
    "kpis": ("kpis.md", lambda: kpis.main(["--events", "200"])),
    "dedupe": ("dedupe.md", lambda: dedupe.main(["--batches", "3", "--batch-size", "10"])),
}


@pytest.mark.parametrize("bench", [identity, web_ingest, handoffs_directory, kpis, dedupe, takeover, handoffs,
                                   state_growth], ids=lambda bench: bench.__name__.rsplit(".", 1)[-1])
def test_every_bench_prints_only_unless_told_where_to_write(bench: ModuleType, tmp_path: Path) -> None:
    assert bench.parse([]).output is None
    assert bench.parse(["--output", str(tmp_path / "page.md")]).output == tmp_path / "page.md"


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_run_without_output_only_prints_and_leaves_the_results_page_alone(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The results page keeps earlier runs by hand: a run without ``--output`` must not replace it (the handoffs
    bench's did; kpis' too, and dedupe's unless told ``--no-write``)."""
    page_name, run = RUNS[name]
    monkeypatch.chdir(tmp_path)
    page = Path(__file__).parent / "results" / page_name
    before = page.read_bytes()
    assert run().startswith("# ")
    assert list(tmp_path.iterdir()) == [] and page.read_bytes() == before


def test_a_named_file_is_replaced_and_its_folder_made(tmp_path: Path) -> None:
    page = tmp_path / "results" / "page.md"
    assert write("# first\n", page) == "# first\n"
    assert write("# second\n", page) == "# second\n" and page.read_text() == "# second\n"
    assert write("# printed\n", None) == "# printed\n"
