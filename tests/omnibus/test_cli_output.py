"""stdout carries a command's result only; its log lines go to stderr as structured JSON (new-user sample:
``verify``, ``identity review accept`` and ``identity split`` printed plain-text log lines on stdout)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bus.producer import EventProducer, Outgoing
from bus.serde import build_serde
from processors.identity.announcements import Announcer
from processors.identity.graph.outputs import Assigned, Lineage, ReviewRequested
from tests.processors.identity.support import HMAC_KEY
from tests.support.groups import caught_up
from tests.support.settings import settings_with_topics

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(240)]


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, list[str], list[str]]:
    done = subprocess.run([sys.executable, "-m", "omnibus", *args], env={**os.environ, **env}, cwd=cwd,
                          capture_output=True, timeout=120, check=False)
    return (done.returncode, done.stdout.decode(errors="replace").splitlines(),
            [line for line in done.stderr.decode(errors="replace").splitlines() if line.strip()])


PROGRESS_MARK = " rec/s"  # the rate column of a progress line (``processors.replay.cli.progress_bar``)


def _structured(lines: list[str], *, progress: bool = False) -> list[dict]:
    """Each stderr line as its JSON log record; ``progress``: the command also draws progress lines there (verify,
    replay), skipped."""
    return [json.loads(line) for line in lines
            if not line.startswith("error: ") and not (progress and PROGRESS_MARK in line)]


async def test_one_shot_commands_keep_stdout_for_their_result(bootstrap_servers: str, tmp_path: Path) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=2)
    lineage = Lineage("e-1", "WEB", "match-review")
    review = ReviewRequested("cus_a", "cus_b", ("ACCOUNT:1000001", "ACCOUNT:2000002"), 1.5, {"surname": "missing"},
                             lineage)
    announcer = Announcer(config.topics, lambda ref: None)  # type: ignore[arg-type,return-value]
    records = [*announcer.outgoing(review),
               *(item for key, customer in (("ACCOUNT:1000001", "cus_a"), ("EMAIL:a@x.org", "cus_a"),
                                            ("ACCOUNT:2000002", "cus_b"))
                 for item in announcer.outgoing(Assigned(key, customer, 1, "e-1")))]
    serializer, _ = build_serde(config.registry)
    async with EventProducer(config, serializer) as producer:
        await producer.publish_many([r for r in records if isinstance(r, Outgoing)])
    env = {"OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "2", "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY": HMAC_KEY,
           "OMNIBUS_STACK_DIR": str(tmp_path / "no-stack")}

    status, out, err = _run(["identity", "split", "--customer", "cus_a", "--identifier", "EMAIL:a@x.org",
                             "--by", "ops-7", "--reason", "typo"], env, tmp_path)
    assert status == 0 and out[0].startswith("split requested"), (out, err)
    assert not any(line.lstrip().startswith("{") for line in out), out  # what moves and stays: text, no log line
    assert any(line.startswith("moves") for line in out[1:]), out
    assert "split requested" in [line["event"] for line in _structured(err)]

    status, out, err = _run(["identity", "review", "accept", review.review_id, "--by", "ops-7", "--reason", "same"],
                            env, tmp_path)
    assert status == 0 and len(out) == 1 and out[0].startswith(f"review {review.review_id} accepted"), (out, err)
    assert "review decided" in [line["event"] for line in _structured(err)]

    await caught_up(config, ("identity",))  # as a worker that read the commands above: verify judges, not waits
    status, out, err = _run(["verify", "--processor", "identity"], env, tmp_path)
    assert status in (0, 1), (out, err)
    assert out and not any(line.lstrip().startswith("{") or "[info" in line for line in out), out
    assert "omnibus verify" in out[0] and _structured(err, progress=True) is not None  # its stages' progress too
    assert any(PROGRESS_MARK in line for line in err), err
