"""A running adapter's dedupe file, one per Kafka cluster and topic prefix, as an import's memory is.

The source ids an HTTP adapter (web, branch, call center) or the legacy relay published are true of the cluster and
prefix it published them to. Kept per port (``adapters.base.config.dedupe_file``), an adapter pointed at another or
a rebuilt cluster (a fail-over, a staging cluster on the same ports, a local stack started afresh) answered every
re-sent message "duplicate" and refused every re-sent service request as a ``request_id_conflict``: nothing reached
the new cluster. ``import-batch`` keeps its state per cluster id and prefix
(``adapters.base.import_target``); the same rule here:

- the dedupe file of a target (``ImportTarget``: the cluster id its brokers report, and the prefix) is
  ``<folder of the configured file>/targets/<cluster>~<prefix>~<digest>/<name of the configured file>``, the
  configured file being ``OMNIBUS_ADAPTER_<NAME>__DEDUPE_PATH``, else ``<state home>/<adapter>/dedupe-<port>.sqlite``;
- the configured file itself is the memory of the one target recorded beside it (``<file>.target.json``). A file an
  earlier version wrote records no target: the first target an adapter starts against after the upgrade claims it
  (the cluster it was publishing to before, in the usual upgrade), logged once as a warning; any other target then
  starts with a file of its own, empty.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.base.checkpoint import Checkpoint
from adapters.base.config import dedupe_file
from adapters.base.import_target import TARGET_FILE, TARGETS_DIR, ImportTarget, SettingsT
from bus.logging import get_logger

log = get_logger(__name__)
OWNER_SUFFIX = ".target.json"  # beside the configured dedupe file: the target whose memory it is


def target_dedupe_file(configured: Path, target: ImportTarget) -> Path:
    """The dedupe file of ``target`` given the ``configured`` one (the module): ``configured`` when it is
    ``target``'s (recorded beside it, or an earlier version's file, claimed now), else the file in ``target``'s
    folder under ``targets/`` beside it (made, with its ``target.json``, when new)."""
    owner = Checkpoint(configured.with_name(configured.name + OWNER_SUFFIX))
    recorded = owner.load()
    if recorded is not None and ImportTarget.from_dict(recorded["target"]) == target:
        return configured
    if recorded is None and configured.exists():
        _record(owner, {"target": target.to_dict(), "at": datetime.now(UTC).isoformat(timespec="seconds")})
        log.warning("a dedupe file of an earlier version, which recorded no cluster, is now this cluster's and "
                    "prefix's; another cluster or prefix starts with a file of its own", path=str(configured),
                    cluster=target.cluster, prefix=target.prefix)
        return configured
    scoped = configured.parent / TARGETS_DIR / target.folder() / configured.name
    if not (scoped.parent / TARGET_FILE).exists():
        _record(Checkpoint(scoped.parent / TARGET_FILE), target.to_dict())
    return scoped


def _record(file: Checkpoint, value: dict[str, Any]) -> None:
    """``file.save(value)``; the workers of one adapter (``--workers``) start at once, and one's rename may take the
    temporary file of another's: then the other's record stands."""
    try:
        file.save(value)
    except FileNotFoundError:
        if file.load() is None:
            raise


def with_target_dedupe_file(adapter: str, settings: SettingsT, target: ImportTarget) -> SettingsT:
    """``settings`` of ``adapter`` (``web``) remembering published ids in ``target``'s dedupe file
    (``target_dedupe_file`` of ``dedupe_file``'s); unchanged when they are kept in memory."""
    configured = dedupe_file(adapter, settings)
    if configured is None:
        return settings
    return settings.model_copy(update={"dedupe_path": target_dedupe_file(configured, target)})
