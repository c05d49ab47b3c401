"""tester30 F9: an HTTP adapter's dedupe memory was per port, not per Kafka cluster and topic prefix: pointed at a
rebuilt cluster, it answered re-sent messages "duplicate" and refused re-sent service requests. Each target now has
a file of its own; an earlier version's file is claimed once, by the first target after the upgrade."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.base.config import AdapterSettings
from adapters.base.dedupe_target import OWNER_SUFFIX, target_dedupe_file, with_target_dedupe_file
from adapters.base.import_target import TARGET_FILE, TARGETS_DIR, ImportTarget

PROD = ImportTarget("4L6g3nShT-eMCtK--X86sw", "omnibus")
REBUILT = ImportTarget("Qm2vX0d1TjKk7yA3bN9cLw", "omnibus")  # the same host and port, a cluster formatted afresh
STAGING = ImportTarget("4L6g3nShT-eMCtK--X86sw", "staging")  # the same cluster, another prefix


def test_every_cluster_and_prefix_has_a_dedupe_file_of_its_own(tmp_path: Path) -> None:
    configured = tmp_path / "web" / "dedupe-53103.sqlite"
    files = {target: target_dedupe_file(configured, target) for target in (PROD, REBUILT, STAGING)}
    assert len(set(files.values())) == 3
    for target, file in files.items():
        assert file.parent.parent == configured.parent / TARGETS_DIR and file.name == configured.name
        assert json.loads((file.parent / TARGET_FILE).read_text()) == target.to_dict()  # for a person reading it
        assert target_dedupe_file(configured, target) == file  # the same next start


def test_an_earlier_versions_file_is_claimed_by_the_first_target_and_no_other(tmp_path: Path) -> None:
    """Upgrade: the file an earlier version wrote (no cluster recorded) stays the memory of the cluster the adapter
    first starts against; a rebuilt cluster then starts with an empty file of its own."""
    configured = tmp_path / "dedupe-53103.sqlite"
    configured.write_bytes(b"ids of before")
    assert target_dedupe_file(configured, PROD) == configured
    assert json.loads(configured.with_name(configured.name + OWNER_SUFFIX).read_text())["target"] == PROD.to_dict()
    assert target_dedupe_file(configured, REBUILT) != configured
    assert target_dedupe_file(configured, PROD) == configured  # still its own


def test_a_configured_path_is_scoped_too_and_memory_stays_memory(tmp_path: Path) -> None:
    mine = tmp_path / "volume" / "web.sqlite"
    scoped = with_target_dedupe_file("web", AdapterSettings(port=8080, dedupe_path=mine), REBUILT).dedupe_path
    assert scoped is not None and scoped.is_relative_to(mine.parent / TARGETS_DIR) and scoped.name == mine.name
    in_memory = AdapterSettings(port=8080, dedupe_in_memory=True)
    assert with_target_dedupe_file("web", in_memory, PROD) == in_memory
    assert with_target_dedupe_file("web", AdapterSettings(port=0), PROD).dedupe_path is None  # a new port each start
