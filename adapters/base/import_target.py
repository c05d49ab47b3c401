"""Where a file import published, and the state directory that remembers it there.

What an import remembers (the files it imported whole, its resume checkpoints, the line ids and revisions it
published) is true of one place: a Kafka cluster and a topic prefix. Kept per host, a new stack run from the same
machine (another broker, another ``OMNIBUS_TOPICS__PREFIX``) answered "already imported" and published nothing
(F6). So each target has its own folder under the adapter's state directory: ``targets/<cluster>~<prefix>/``.

A cluster is named by the id its brokers report (KRaft's ``cluster.id``: the same whichever bootstrap address a
host uses to reach it); a broker too old to report one is named by the bootstrap servers.

An earlier version kept its memory at the top of the state directory, recording no target. Whose it is cannot be
read from it, so an import that finds such state and no decision stops before publishing anything
(``EarlierStateError``) until told once (``Earlier``): ``HERE`` (it is this target's memory: the target keeps
using the top of the state directory, as before, and no other target can claim it) or ``ELSEWHERE`` (this target
starts with a memory of its own). Neither way is a file published to a target re-published there silently, nor a
file never published to it skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from adapters.base.checkpoint import Checkpoint
from adapters.base.config import AdapterSettings
from bus.admin_client import admin_client
from bus.config import OmnibusSettings
from bus.errors import OmnibusError
from bus.topic_check import require_topics

TARGETS_DIR = "targets"  # under the adapter's state directory: one folder per target
EARLIER_OWNER_FILE = "earlier-state.json"  # in TARGETS_DIR: the target that claimed the earlier, unscoped state
TARGET_FILE = "target.json"  # in a target's folder: the cluster and prefix it is, for a person reading the folder
DEDUPE_FILE = "dedupe.sqlite"  # in a target's folder: the line ids published to it
EARLIER_HELP = ("Once, after an upgrade: whether the imports an earlier version remembered (which did not record their "
                "cluster) were published to this cluster and topic prefix (here) or to another (elsewhere). Asked for "
                "only when such state exists and no cluster claimed it.")
SettingsT = TypeVar("SettingsT", bound=AdapterSettings)


class Earlier(StrEnum):
    """Whose the state an earlier version kept without a target is (``--earlier-imports``)."""

    HERE = "here"  # published to the cluster and prefix this import publishes to
    ELSEWHERE = "elsewhere"  # published to another one: this target has imported nothing yet


class EarlierStateError(OmnibusError):
    """State of an earlier version, recording no target, and no ``Earlier`` decision about it, or one that
    contradicts the decision recorded (a command exits 2)."""


@dataclass(frozen=True, slots=True)
class ImportTarget:
    """A Kafka cluster (its id, or ``bootstrap:<servers>``) and the topic prefix an import publishes under."""

    cluster: str
    prefix: str

    def describe(self) -> str:
        """``cluster 4L6g3nShT-eMCtK--X86sw, prefix omnibus``: how a summary or an error names it."""
        return f"cluster {self.cluster}, prefix {self.prefix}"

    def folder(self) -> str:
        """A file name of this target: readable, and a digest so two targets never share one after the characters
        a file name cannot hold were replaced."""
        digest = hashlib.sha256(f"{self.cluster}\0{self.prefix}".encode()).hexdigest()[:8]
        return re.sub(r"[^A-Za-z0-9._-]", "_", f"{self.cluster}~{self.prefix}")[:100] + f"~{digest}"

    def to_dict(self) -> dict[str, str]:
        return {"cluster": self.cluster, "prefix": self.prefix}

    @classmethod
    def from_dict(cls, value: dict[str, str]) -> ImportTarget:
        return cls(value["cluster"], value["prefix"])


async def current_target(settings: OmnibusSettings, topics: Iterable[str] = ()) -> ImportTarget:
    """The target ``settings`` publish to: the cluster id the brokers report (one metadata request) and the topic
    prefix. Raises aiokafka's ``KafkaConnectionError`` when no bootstrap server answers (a command: exit 69), and
    ``MissingTopicError`` (exit 2) when the cluster does not list one of ``topics``, the names the import publishes
    to: checked here, before ``target_state_dir`` makes the target's folder, so a mistyped prefix leaves no folder
    behind."""
    admin = admin_client(settings.kafka)
    await admin.start()
    try:
        cluster_id = (await admin.describe_cluster()).get("cluster_id")
        await require_topics(admin.list_topics, topics)
    finally:
        await admin.close()
    cluster = cluster_id or f"bootstrap:{settings.kafka.bootstrap_servers}"
    return ImportTarget(cluster, settings.topics.prefix)


def target_state_dir(state_dir: Path, target: ImportTarget, *, has_earlier: bool, earlier: Earlier | None) -> Path:
    """The folder that remembers what was imported to ``target``: ``state_dir`` itself for the target that claimed
    the earlier version's state, else ``state_dir/targets/<target.folder()>``. ``has_earlier``: ``state_dir`` holds
    an earlier version's import state; ``earlier``: the operator's decision about it, recorded on first use.
    Raises ``EarlierStateError`` when there is such state, nobody claimed it, ``target`` has no folder yet and
    ``earlier`` is None; or when ``earlier`` contradicts what was recorded (``HERE`` for a target with a folder of
    its own or when another target claimed it; ``ELSEWHERE`` for the target that claimed it)."""
    owner_file = Checkpoint(state_dir / TARGETS_DIR / EARLIER_OWNER_FILE)
    owner = owner_file.load()
    scoped = state_dir / TARGETS_DIR / target.folder()
    has_own = (scoped / TARGET_FILE).exists()
    if owner is not None:
        claimed_by = ImportTarget.from_dict(owner["target"])
        mine = claimed_by == target
        if earlier is (Earlier.ELSEWHERE if mine else Earlier.HERE):
            raise EarlierStateError(
                f"--earlier-imports {earlier}: the imports of an earlier version in {state_dir} were claimed on "
                f"{owner['at']} by {claimed_by.describe()}; leave the option out")
        if mine:
            return state_dir
    elif has_earlier and not has_own:
        if earlier is None:
            raise EarlierStateError(
                f"{state_dir} holds imports of an earlier version, which did not record where they were published; "
                f"say once whether that was here ({target.describe()}): --earlier-imports here (they count as "
                "imported here), or --earlier-imports elsewhere (this cluster and prefix have imported nothing yet)")
        if earlier is Earlier.HERE:
            owner_file.save({"target": target.to_dict(), "at": datetime.now(UTC).isoformat(timespec="seconds")})
            return state_dir
    elif earlier is Earlier.HERE:
        raise EarlierStateError(f"--earlier-imports here: {target.describe()} keeps a memory of its own in {scoped}"
                                if has_own else f"--earlier-imports here: {state_dir} holds no earlier imports")
    if not has_own:
        Checkpoint(scoped / TARGET_FILE).save(target.to_dict())
    return scoped


def with_target_dedupe(adapter: SettingsT, states: Path, state_dir: Path) -> SettingsT:
    """``adapter`` remembering published ids where ``states`` (``target_state_dir`` of ``state_dir``) says: a target
    with a folder of its own in ``<states>/dedupe.sqlite``, whatever dedupe file is configured (an id published to
    another cluster is no duplicate here); the target that claimed the earlier state where it did before; memory
    when chosen (``dedupe_in_memory``)."""
    if states == state_dir or adapter.dedupe_in_memory:
        return adapter
    return adapter.model_copy(update={"dedupe_path": states / DEDUPE_FILE})
