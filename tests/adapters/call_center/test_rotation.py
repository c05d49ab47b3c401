"""``rotation.resume``: where ``import-cdr`` resumes a ``Master.csv`` that may have been rotated since the last read.
The checkpoint was inode + byte offset only: a file truncated in place (logrotate ``copytruncate``) and written again
past the old offset before the next read resumed mid-file, its first CDRs skipped silently (tester53 F10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.call_center import rotation
from adapters.call_center.rotation import REPLACED, REWRITTEN, TRUNCATED, Resume, fingerprint, resume


def _saved(path: Path, offset: int, line: int, **more: Any) -> dict[str, Any]:
    """The checkpoint a read up to ``offset`` of ``path`` as it is now leaves."""
    with path.open("rb") as handle:
        return {"inode": path.stat().st_ino, "offset": offset, "line": line, "fingerprint": fingerprint(handle, offset),
                **more}


def _resume(path: Path, saved: dict[str, Any] | None) -> Resume:
    with path.open("rb") as handle:
        return resume(saved, handle)


def test_a_file_only_appended_to_resumes_at_its_offset(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_bytes(b"a,1\nb,2\n")
    saved = _saved(master, 8, 2)
    with master.open("ab") as handle:
        handle.write(b"c,3\n")
    assert _resume(master, saved) == Resume(8, 2)
    assert _resume(master, None) == Resume(0, 0)  # never read: from the start, no rotation to tell


def test_a_file_truncated_and_written_again_past_the_old_offset_is_read_from_its_start(tmp_path: Path) -> None:
    """The reported kind: same inode, the size past the old offset, but other bytes before it (a longer rewrite, and
    one of the very same size)."""
    master = tmp_path / "Master.csv"
    master.write_bytes(b"701,x\n")
    saved = _saved(master, 6, 1)
    with master.open("r+b") as handle:  # copytruncate: the same inode
        handle.truncate(0)
        handle.write(b"702,y\n703,z\n")
    assert _resume(master, saved) == Resume(0, 0, REWRITTEN)
    master.write_bytes(b"712,y\n")  # the same size again: only the bytes tell
    assert master.stat().st_ino == saved["inode"]
    assert _resume(master, _saved(master, 6, 1) | {"fingerprint": saved["fingerprint"]}) == Resume(0, 0, REWRITTEN)


def test_a_file_shorter_than_the_offset_or_another_inode_is_read_from_its_start(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_bytes(b"a,1\nb,2\n")
    saved = _saved(master, 8, 2)
    master.write_bytes(b"c,3\n")
    assert _resume(master, saved) == Resume(0, 0, TRUNCATED)
    master.rename(tmp_path / "Master.csv.1")  # create: the file moved away and a new one made
    master.write_bytes(b"a,1\nb,2\nc,3\n")
    assert _resume(master, saved) == Resume(0, 0, REPLACED)


def test_the_fingerprint_covers_only_the_bytes_just_before_the_offset(tmp_path: Path) -> None:
    """A long file is fingerprinted by its last ``FINGERPRINT_BYTES`` bytes read: a change before them is not read
    again (only appends are expected there), one inside them is."""
    master = tmp_path / "Master.csv"
    size = 3 * rotation.FINGERPRINT_BYTES
    master.write_bytes(b"x" * (size - 1) + b"\n")
    saved = _saved(master, size, 1)
    with master.open("r+b") as handle:
        handle.write(b"y")
    assert _resume(master, saved) == Resume(size, 1)
    with master.open("r+b") as handle:
        handle.seek(size - 2)
        handle.write(b"y")
    assert _resume(master, saved) == Resume(0, 0, REWRITTEN)


def test_a_checkpoint_without_a_fingerprint_or_line_numbers_is_trusted_as_before(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    master.write_bytes(b"a,1\nb,2\nc,3\n")
    inode = master.stat().st_ino
    assert _resume(master, {"inode": inode, "offset": 8, "line": 2}) == Resume(8, 2)
    assert _resume(master, {"inode": inode, "offset": 8}) == Resume(8, 2)  # the lines before it counted once
