"""Issue #10 case 9: port 0 means an ephemeral port, and the process says which one it got."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bus.app import create_app
from bus.config import load_settings
from tests.support.settings import settings_with_topics

HMAC_KEY = "test-only-hmac-key-of-some-length"


def _answers(port: int, path: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True  # it answered; the status is not what this test is about
    except OSError:
        return False


def _logged(log: Path, event: str) -> dict | None:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and json.loads(line).get("event") == event:
            return json.loads(line)
    return None


def test_web_port_zero_is_a_free_port_not_faust_default(tmp_path: Path) -> None:
    app = create_app("ports", load_settings(metrics={"enabled": False}), web_port=0, datadir=str(tmp_path))
    assert app.conf.web_port not in (0, 6066)
    assert str(app.conf.canonical_url).endswith(f":{app.conf.web_port}")  # what other workers are told


@pytest.mark.parametrize(("variable", "value"), [("WEB_PORT", "53103"), ("WEB_BIND", "0.0.0.0"),
                                                 ("WEB_HOST", "elsewhere.example"), ("BROKER_REQUEST_TIMEOUT", "7")])
def test_faust_reads_no_variable_of_the_environment(
    variable: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tester30 F1: an exported ``WEB_PORT`` (the name docs/run-yourself.md gives the web adapter's port) moved every
    processor's web server off its ``OMNIBUS_..._WEB_PORT``, because faust lets its own variables override the
    options the app is built with."""
    def configured() -> tuple[object, ...]:
        app = create_app("env", load_settings(metrics={"enabled": False}), web_port=56003, datadir=str(tmp_path))
        return app.conf.web_port, app.conf.web_bind, str(app.conf.web_host), app.conf.broker_request_timeout

    as_set = configured()
    monkeypatch.setenv(variable, value)
    assert configured() == as_set
    assert as_set[0] == 56003


@pytest.mark.kafka
async def test_identity_worker_on_port_zero_logs_its_ports_and_writes_nothing(
    bootstrap_servers: str, tmp_path: Path
) -> None:
    config = await settings_with_topics(bootstrap_servers, partitions=1)
    workdir, log = tmp_path / "cwd", tmp_path / "worker.log"
    workdir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": bootstrap_servers, "OMNIBUS_TOPICS__PREFIX": config.topics.prefix,
           "OMNIBUS_TOPICS__PARTITIONS": "1", "OMNIBUS_METRICS__PORT": "0",
           "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY": HMAC_KEY}
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "omnibus", "identity", "run", "--web-port", "0"],
                                  env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        web = metrics = None
        while time.monotonic() < deadline and not (web and metrics and _answers(web["port"], "/")):
            assert worker.poll() is None, log.read_text()[-3000:]
            web, metrics = _logged(log, "web server port chosen"), _logged(log, "metrics endpoint listening")
            time.sleep(0.5)
        assert web and metrics, log.read_text()[-3000:]
        assert web["port"] not in (0, 6066) and metrics["port"] != 0
        assert metrics["component"] == "identity" and metrics["pid"] == worker.pid  # whose port it is (F11)
        assert _answers(web["port"], "/") and _answers(metrics["port"], "/metrics")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
    assert worker.returncode == 0, log.read_text()[-3000:]
    assert sorted(p.name for p in workdir.iterdir()) == [], "the worker wrote into its working directory"


def test_a_taken_web_port_is_one_line_naming_the_setting_before_anything_starts() -> None:
    """Identity and offers default to fixed ports (6066, 6067): a second worker or an orphaned process on the same
    machine holding one used to fail deep in faust's start; now the command exits 2 naming the variable to set."""
    import socket

    from bus.app import check_web_port, run_worker

    settings = load_settings(kafka={"bootstrap_servers": "127.0.0.1:9"})  # never reached: the check comes first
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        app = create_app("ports-check", settings, web_port=port, web_bind="127.0.0.1")
        with pytest.raises(SystemExit) as stopped:
            run_worker(app, settings, web_port_setting="OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT")
        assert stopped.value.code == 2
        reason = check_web_port(app, "OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT") or ""
        assert f"web port {port}" in reason and "set OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT to a free port" in reason
    assert check_web_port(app, "X") is None  # released: free again
    assert check_web_port(create_app("no-web", settings), "X") is None  # no web server, nothing to check
