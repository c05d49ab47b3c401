"""Every generated deployment file is current: regenerate with `python -m deploy` after a change."""

from __future__ import annotations

from deploy.outputs import stale


def test_generated_files_are_current() -> None:
    assert not stale(), "run `python -m deploy` and commit the result"
