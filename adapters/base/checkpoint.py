"""A small JSON position file, replaced atomically: where a file reader or table poller resumes.

Written only after Kafka acknowledged everything before the position, so a crash re-reads at most the
last unacknowledged chunk (whose records the dedupe store and deterministic event ids then absorb).
The write is crash-safe: a temporary file is fsynced, renamed over the old one, and the folder fsynced,
so the file always holds either the old or the new position, never half of one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class Checkpoint:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def save(self, position: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(position, handle, sort_keys=True, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
