from __future__ import annotations

from pathlib import Path

from adapters.base.checkpoint import Checkpoint


def test_a_checkpoint_round_trips_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    checkpoint = Checkpoint(tmp_path / "deep" / "file.json")
    assert checkpoint.load() is None
    checkpoint.save({"offset": 10, "inode": 3})
    checkpoint.save({"offset": 20, "inode": 3})
    assert checkpoint.load() == {"offset": 20, "inode": 3}
    assert [p.name for p in (tmp_path / "deep").iterdir()] == ["file.json"]
    checkpoint.clear()
    assert checkpoint.load() is None
