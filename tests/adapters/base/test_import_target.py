"""Which folder remembers the imports to a cluster and topic prefix, and whose an earlier version's state is (F6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.base.import_target import TARGETS_DIR, Earlier, EarlierStateError, ImportTarget, target_state_dir

PROD = ImportTarget("4L6g3nShT-eMCtK--X86sw", "omnibus")
STAGING = ImportTarget("4L6g3nShT-eMCtK--X86sw", "staging")  # the same cluster, another prefix
OTHER = ImportTarget("bootstrap:10.0.0.7:9092", "omnibus")  # another cluster, the same prefix


def test_every_cluster_and_prefix_has_a_folder_of_its_own(tmp_path: Path) -> None:
    folders = {target_state_dir(tmp_path, target, has_earlier=False, earlier=None) for target in (PROD, STAGING, OTHER)}
    assert len(folders) == 3 and all(folder.parent == tmp_path / TARGETS_DIR for folder in folders)
    assert target_state_dir(tmp_path, PROD, has_earlier=False, earlier=None) in folders  # the same one next time


def test_a_folder_name_holds_no_character_a_path_cannot_and_two_targets_never_share_one() -> None:
    slashed, underscored = ImportTarget("bootstrap:a/b:9092", "p"), ImportTarget("bootstrap:a_b:9092", "p")
    assert "/" not in slashed.folder() and slashed.folder() != underscored.folder()


def test_earlier_state_is_never_guessed_nothing_is_decided_before_the_operator_says(tmp_path: Path) -> None:
    with pytest.raises(EarlierStateError, match=r"--earlier-imports here .* --earlier-imports elsewhere"):
        target_state_dir(tmp_path, PROD, has_earlier=True, earlier=None)
    assert not (tmp_path / TARGETS_DIR).exists()


def test_earlier_state_claimed_here_stays_in_place_for_that_target_and_no_other(tmp_path: Path) -> None:
    assert target_state_dir(tmp_path, PROD, has_earlier=True, earlier=Earlier.HERE) == tmp_path
    assert target_state_dir(tmp_path, PROD, has_earlier=True, earlier=None) == tmp_path  # asked once
    assert target_state_dir(tmp_path, STAGING, has_earlier=True, earlier=None) != tmp_path  # not asked again
    with pytest.raises(EarlierStateError, match="claimed on .* by cluster 4L6g3nShT-eMCtK--X86sw, prefix omnibus"):
        target_state_dir(tmp_path, OTHER, has_earlier=True, earlier=Earlier.HERE)
    with pytest.raises(EarlierStateError, match="claimed"):
        target_state_dir(tmp_path, PROD, has_earlier=True, earlier=Earlier.ELSEWHERE)


def test_earlier_state_of_elsewhere_leaves_this_target_a_fresh_memory_and_the_state_unclaimed(tmp_path: Path) -> None:
    fresh = target_state_dir(tmp_path, STAGING, has_earlier=True, earlier=Earlier.ELSEWHERE)
    assert fresh.parent == tmp_path / TARGETS_DIR
    assert target_state_dir(tmp_path, STAGING, has_earlier=True, earlier=None) == fresh  # asked once
    with pytest.raises(EarlierStateError, match="keeps a memory of its own"):
        target_state_dir(tmp_path, STAGING, has_earlier=True, earlier=Earlier.HERE)
    assert target_state_dir(tmp_path, PROD, has_earlier=True, earlier=Earlier.HERE) == tmp_path  # still claimable
