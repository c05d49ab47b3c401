"""Where ``import-cdr`` resumes in a ``Master.csv`` that may have been rotated since the last read.

A checkpoint (``ingress_file``) holds the file's inode, the byte offset read up to, the lines before it and a
fingerprint: the SHA-256 (hex) of the ``FINGERPRINT_BYTES`` bytes just before the offset. A file only appended to
keeps all three; a rotation breaks one of them, as ``tail -F`` and log shippers tell it:

- ``create`` (the file moved away, a new one made): another inode at the path;
- ``copytruncate`` (the file copied, then truncated in place): the same inode, shorter than the offset;
- ``copytruncate`` and new CDRs written past the old offset before the next read: the same inode and a size that
  hides it, but the bytes before the offset are other bytes: the fingerprint differs.

Each is read from its start; the CDRs re-read that were already published are duplicates the dedupe store drops
(a CDR's version id holds its line's digest: ``mapper_asterisk``). A checkpoint written before fingerprints
(none saved) is trusted as it was.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

FINGERPRINT_BYTES = 1024  # how many bytes before the offset the fingerprint covers (fewer at a file's start)

REPLACED = "replaced by a new file"
TRUNCATED = "truncated"
REWRITTEN = "truncated and written again"


@dataclass(frozen=True)
class Resume:
    """Where to read from: ``offset`` (bytes), ``line`` (the lines before it), and why the file is read from its start
    again (``REPLACED``, ``TRUNCATED``, ``REWRITTEN``; empty when it is not, or when nothing was read before)."""

    offset: int
    line: int
    restarted: str = ""


def fingerprint(handle: BinaryIO, offset: int) -> str:
    """The SHA-256 (hex) of the ``FINGERPRINT_BYTES`` bytes of ``handle`` before ``offset`` (all of them when the
    offset is smaller). Moves the handle's position."""
    start = max(0, offset - FINGERPRINT_BYTES)
    handle.seek(start)
    return hashlib.sha256(handle.read(offset - start)).hexdigest()


def resume(saved: dict[str, Any] | None, handle: BinaryIO) -> Resume:
    """Where to read ``handle`` (an open ``Master.csv``) from, given the checkpoint ``saved`` (None: never read)."""
    if not saved:
        return Resume(0, 0)
    stat = os.fstat(handle.fileno())
    offset = int(saved.get("offset", 0))
    if saved.get("inode") != stat.st_ino:
        return Resume(0, 0, REPLACED)
    if offset > stat.st_size:
        return Resume(0, 0, TRUNCATED)
    if "fingerprint" in saved and fingerprint(handle, offset) != saved["fingerprint"]:
        return Resume(0, 0, REWRITTEN)
    if "line" in saved:
        return Resume(offset, int(saved["line"]))
    # a checkpoint from before line numbers: count the lines before the offset once
    return Resume(offset, sum(block.count(b"\n") for block in _blocks(handle, offset)))


def _blocks(handle: BinaryIO, size: int, block: int = 1 << 20) -> Iterator[bytes]:
    """The first ``size`` bytes of ``handle`` in blocks of ``block`` bytes."""
    handle.seek(0)
    while size > 0 and (data := handle.read(min(block, size))):
        size -= len(data)
        yield data
