from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.base import import_target
from adapters.base import runtime as runtime_module
from adapters.base.cli import EXIT_REJECTED_LINES
from adapters.base.config import dedupe_file
from adapters.base.http import LISTENING_EVENT as ADAPTER_LISTENING
from adapters.call_center.cli import app, import_settings, import_state_dir
from adapters.call_center.ingress_http import running
from bus.config import OmnibusSettings
from bus.errors import MissingTopicError
from bus.metrics import LISTENING_EVENT as METRICS_LISTENING
from bus.topics import CONTACT_EVENTS
from tests.adapters.base.support import ClusterWithoutTopics, MissingTopicAdmin
from tests.adapters.call_center.support import PARIS_KEY, call_center_settings, master_lines, sample
from tests.adapters.call_center.test_ingress_file_cut import calls_published
from tests.support.kafka_io import read_events
from tests.support.ports import logged_port, metrics_port_taken
from tests.support.settings import settings_with_topics

SITES = json.dumps({"paris": {"access_keys": [PARIS_KEY], "timezone": "Europe/Paris", "phone_region": "FR"}})


def _environment(bootstrap_servers: str, prefix: str, tmp_path: Path) -> dict[str, str]:
    return {
        "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": prefix,
        "OMNIBUS_TOPICS__PARTITIONS": "3", "OMNIBUS_METRICS__ENABLED": "false", "OMNIBUS_LOG__JSON_OUTPUT": "false",
        "OMNIBUS_ADAPTER_CALL_CENTER__SITES": SITES,
        "OMNIBUS_ADAPTER_CALL_CENTER__STATE_PATH": str(tmp_path / "state.sqlite"),
    }


def test_tester25_f5_an_import_to_a_prefix_without_topics_leaves_no_state_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """tester25 F5's kind (found on import-batch): import-cdr made its target's folder before the topic check."""
    monkeypatch.setattr(import_target, "admin_client", lambda kafka: MissingTopicAdmin())
    for name, value in _environment("127.0.0.1:1", "typo", tmp_path).items():
        monkeypatch.setenv(name, value)
    master = tmp_path / "Master.csv"
    master.write_text(sample("master.csv"))
    result = CliRunner().invoke(app, ["import-cdr", str(master), "--site", "paris", "--state-dir", str(tmp_path / "state")])
    assert isinstance(result.exception, MissingTopicError), result.output
    assert not (tmp_path / "state").exists() and not (tmp_path / "state.sqlite").exists()


def test_tester25_f5_the_http_adapter_opens_its_state_file_after_the_topic_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """tester25 F5's kind: ``call-center run`` opened its state file (CTR versions, TaskRouter timelines) before the
    runtime found its topics missing."""
    monkeypatch.setattr(runtime_module, "EventProducer", ClusterWithoutTopics)
    state = tmp_path / "call-center" / "state.sqlite"
    settings = OmnibusSettings(topics={"prefix": "typo"}, metrics={"enabled": False})  # type: ignore[arg-type]

    async def serve() -> None:
        async with running(settings, call_center_settings(state_path=state)):
            pytest.fail("served without its topics")

    with pytest.raises(MissingTopicError):
        asyncio.run(serve())
    assert not state.parent.exists()


@pytest.mark.kafka
def test_serve_answers_then_drains_and_exits_cleanly_on_sigterm(bootstrap_servers: str, tmp_path: Path) -> None:
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    environment = {**os.environ, **_environment(bootstrap_servers, settings.topics.prefix, tmp_path),
                   "OMNIBUS_METRICS__ENABLED": "true", "OMNIBUS_METRICS__PORT": "0",  # ports it binds itself,
                   "OMNIBUS_LOG__JSON_OUTPUT": "true"}  # logged in JSON lines
    log = tmp_path / "adapter.log"
    with open(log, "wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-c", "from adapters.call_center.cli import app; app()", "run", "--port", "0"],
            env=environment, stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90  # imports and the Kafka connection: seconds at CI load, more beside a JVM
        while (port := logged_port(log.read_text(errors="replace"), ADAPTER_LISTENING)) is None:
            assert server.poll() is None and time.monotonic() < deadline, "the adapter did not start"
            time.sleep(0.2)
        metrics_port = logged_port(log.read_text(errors="replace"), METRICS_LISTENING)
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the adapter did not start"
                time.sleep(0.2)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/connect/ctr", data=json.dumps(sample("ctr_abandoned.json")).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {PARIS_KEY}"}, method="POST")
        with urllib.request.urlopen(request, timeout=15) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
            assert 'omnibus_adapter_events_published_total{adapter="call_center"}' in response.read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()  # never left running
            server.wait()
    output = log.read_text(errors="replace")
    assert server.returncode == 0, output
    assert "call-center adapter stopped" in output
    landed = asyncio.run(read_events(settings, CONTACT_EVENTS))
    schemas = {item.event.schema for item in landed}
    assert schemas == {"omnibus.contact.CallCompleted", "omnibus.contact.InteractionRecorded"}


@pytest.mark.kafka
def test_import_cdr_resumes_where_it_stopped(
    bootstrap_servers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    for name, value in _environment(bootstrap_servers, settings.topics.prefix, tmp_path).items():
        monkeypatch.setenv(name, value)
    master = tmp_path / "Master.csv"
    master.write_text(master_lines()[0] + "\n")
    arguments = ["import-cdr", str(master), "--site", "paris", "--state-dir", str(tmp_path / "state")]
    first = CliRunner().invoke(app, arguments)
    assert first.exit_code == 0 and "1 line, 3 events published" in first.output, first.output
    with open(master, "a") as handle:
        handle.write(master_lines()[1] + "\n")
    second = CliRunner().invoke(app, arguments)
    assert f"Master.csv: 1 line, {calls_published(1)}, 0 duplicates" in second.output, second.output
    # not the HTTP adapter's port file (tester17 M2); the cluster's and prefix's (F6)
    assert len(list((tmp_path / "state").glob("targets/*/dedupe.sqlite"))) == 1
    with open(master, "a") as handle:
        handle.write('"","garbage"\n')
    rejected = CliRunner().invoke(app, arguments)  # as import-batch: a scheduler sees the refused line
    assert rejected.exit_code == EXIT_REJECTED_LINES and "Master.csv: 1 line, 0 events published, 0 duplicates, " \
        "1 rejected" in rejected.output and "error: lines were rejected" in rejected.output, rejected.output
    unknown = CliRunner().invoke(app, [*arguments[:3], "nowhere"])
    assert unknown.exit_code != 0 and "unknown site" in unknown.output


@pytest.mark.kafka
def test_import_cdr_of_a_file_with_a_line_cut_in_a_quote_refuses_it_and_imports_the_rest(
    bootstrap_servers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported Master.csv as a user imports it: ``1 lines, 3 events published, 0 rejected``, exit 0, before."""
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    for name, value in _environment(bootstrap_servers, settings.topics.prefix, tmp_path).items():
        monkeypatch.setenv(name, value)
    first, second, third = master_lines()[:3]
    master = tmp_path / "Master.csv"
    master.write_text(f'{first}\n"","612345621","600","from-pstn","""Ana Gar{second}\n{third}\n')
    arguments = ["import-cdr", str(master), "--site", "paris", "--state-dir", str(tmp_path / "state")]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == EXIT_REJECTED_LINES, result.output
    assert f"Master.csv: 3 lines, {calls_published(2)}, 0 duplicates, 1 rejected" in result.output, result.output
    with open(master, "a") as handle:
        handle.write(second + "\n")
    again = CliRunner().invoke(app, arguments)  # resumes after the cut line, not at it
    assert again.exit_code == 0 and f"Master.csv: 1 line, {calls_published(1)}, 0 duplicates, 0 rejected" in \
        again.output, again.output


@pytest.mark.kafka
def test_a_one_shot_import_leaves_a_half_written_last_line_and_a_later_run_publishes_it(
    bootstrap_servers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-shot import while Asterisk was writing a line refused its first bytes as cut (exit 3), and the next run
    its tail: the call was never published. Now the line is left (exit 0, the summary says so) and published once
    complete."""
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    for name, value in _environment(bootstrap_servers, settings.topics.prefix, tmp_path).items():
        monkeypatch.setenv(name, value)
    first, second, third = master_lines()[:3]
    master = tmp_path / "Master.csv"
    master.write_text(f"{first}\n{second[:70]}")
    arguments = ["import-cdr", str(master), "--site", "paris", "--state-dir", str(tmp_path / "state")]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert f"Master.csv: 1 line, {calls_published(1)}, 0 duplicates, 0 rejected, 1 line not ended yet (line 2, " \
        "no newline), left for the next run" in result.output, result.output
    with open(master, "a") as handle:
        handle.write(f"{second[70:]}\n{third}\n")
    again = CliRunner().invoke(app, arguments)
    assert again.exit_code == 0 and f"Master.csv: 2 lines, {calls_published(2)}, 0 duplicates, 0 rejected\n" in \
        again.output, again.output


@pytest.mark.kafka
def test_f6_a_cdr_file_imported_to_one_prefix_is_imported_in_full_to_another_from_the_same_host(
    bootstrap_servers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """F6, the same kind as import-batch's: the checkpoint and dedupe file were the host's, so a new stack run from
    the same machine read the file from its end and published nothing."""
    first, second = (asyncio.run(settings_with_topics(bootstrap_servers)) for _ in range(2))
    for name, value in _environment(bootstrap_servers, first.topics.prefix, tmp_path).items():
        monkeypatch.setenv(name, value)
    master = tmp_path / "Master.csv"
    master.write_text(master_lines()[0] + "\n")
    arguments = ["import-cdr", str(master), "--site", "paris", "--state-dir", str(tmp_path / "state")]
    assert "1 line, 3 events published" in CliRunner().invoke(app, arguments).output
    monkeypatch.setenv("OMNIBUS_TOPICS__PREFIX", second.topics.prefix)
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0 and f"Master.csv: 1 line, {calls_published(1)}, 0 duplicates" in result.output, \
        result.output
    landed = [len(asyncio.run(read_events(settings, CONTACT_EVENTS))) for settings in (first, second)]
    assert landed[0] == landed[1] > 0, landed
    monkeypatch.setenv("OMNIBUS_TOPICS__PREFIX", first.topics.prefix)
    assert "Master.csv: 0 lines, 0 events published" in CliRunner().invoke(app, arguments).output


@pytest.mark.kafka
def test_import_cdr_needs_no_metrics_port_unless_it_follows(
    bootstrap_servers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tester13 S4: a one-shot import beside a process holding the metrics port ended in a traceback and status 1;
    ``--follow`` is long-running and serves metrics, so a taken port is one ``error:`` line and status 2."""
    settings = asyncio.run(settings_with_topics(bootstrap_servers))
    for name, value in _environment(bootstrap_servers, settings.topics.prefix, tmp_path).items():
        monkeypatch.setenv(name, value)
    master = tmp_path / "Master.csv"
    master.write_text(master_lines()[0] + "\n")
    arguments = ["import-cdr", str(master), "--site", "paris", "--state-dir", str(tmp_path / "state")]
    with metrics_port_taken(monkeypatch):
        once = CliRunner().invoke(app, arguments)
        following = CliRunner().invoke(app, [*arguments, "--follow"])
    assert once.exit_code == 0 and "1 line, " in once.output, once.output  # the session dedupe may know the CDR
    assert following.exit_code == 2, following.output
    assert following.output.startswith("error: metrics endpoint") and "OMNIBUS_METRICS__PORT" in following.output


def test_import_cdr_keeps_its_state_under_the_state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tester17 M2: the state dir was ./.omnibus/call-center (relative to the working directory) and the dedupe file
    the HTTP adapter's port file; both now follow import-batch: $XDG_STATE_HOME, the dedupe file inside."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    states = import_state_dir(None)
    assert states == tmp_path / "xdg/omnibus/call_center" and import_state_dir(tmp_path / "given") == tmp_path / "given"
    adapter = import_settings(call_center_settings(port=8080), states)
    assert dedupe_file("call_center", adapter) == states / "dedupe.sqlite"
    configured = call_center_settings(dedupe_path=tmp_path / "mine.sqlite")
    assert import_settings(configured, states) is configured
    (tmp_path / ".omnibus/call-center").mkdir(parents=True)  # the former default, kept while only it exists
    assert import_state_dir(None) == tmp_path / ".omnibus/call-center"
