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

With ``create``, the CDRs Asterisk wrote after the last read are in the file moved away (``Master.csv.1``):
``moved_away`` finds it beside the path by its inode (``tail -F`` reads on in the open old file alike), so its rest
is read first. logrotate's ``olddir`` or ``compress`` without ``delaycompress`` leave none to find: the caller says so.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
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


def moved_away(saved: dict[str, Any] | None, path: Path) -> Path | None:
    """The file the checkpoint ``saved`` was of, moved away from ``path`` since (``create``): a regular file in the
    same directory with the checkpoint's inode, at least as long as its offset and, when the checkpoint has one,
    the same fingerprint before it, also while nothing is at ``path`` (between a rotation's rename and its create).
    None when the path still is that file, or none is found."""
    if not saved or "inode" not in saved:
        return None
    try:
        if path.stat().st_ino == saved["inode"]:
            return None
    except FileNotFoundError:
        pass  # between a rotation's rename and its create: the file moved away may be beside it already
    try:
        candidates = [entry for entry in os.scandir(path.parent) if entry.is_file(follow_symlinks=False)]
    except OSError:
        return None
    offset = int(saved.get("offset", 0))
    for entry in candidates:
        stat = entry.stat(follow_symlinks=False)
        if stat.st_ino != saved["inode"] or stat.st_size < offset:
            continue
        with open(entry.path, "rb") as handle:
            if "fingerprint" in saved and fingerprint(handle, offset) != saved["fingerprint"]:
                return None
        return Path(entry.path)
    return None


def _blocks(handle: BinaryIO, size: int, block: int = 1 << 20) -> Iterator[bytes]:
    """The first ``size`` bytes of ``handle`` in blocks of ``block`` bytes."""
    handle.seek(0)
    while size > 0 and (data := handle.read(min(block, size))):
        size -= len(data)
        yield data
