"""The image's package works: installed exactly as the Dockerfile installs it, every command starts.

No Docker engine is needed: the files named by the Dockerfile's ``COPY`` lines are copied into a temp
dir, a clean virtualenv ``pip install``s that dir (as ``RUN pip install .`` does), and then, from a
directory outside the repository and without PYTHONPATH, every command's ``--help`` runs and the web
adapter publishes one Segment call to the test broker.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from adapters.base.http import LISTENING_EVENT
from tests.support.ports import logged_port
from tests.support.settings import settings_with_topics

ROOT = Path(__file__).resolve().parents[1]

EVERY_HELP = """
import json, sys
import typer.main
from importlib import import_module
from typer.testing import CliRunner

module, _, name = sys.argv[1].partition(":")
found = import_module(module)
app = getattr(found, name)
if not isinstance(app, typer.Typer):  # the entry point is a function wrapping a command tree: its module's, or the
    # one it imports when called (omnibus.entry: the early SIGTERM handling first, then omnibus.cli)
    trees = [vars(found).values(), vars(import_module("omnibus.cli")).values()]
    app = next(value for values in trees for value in values if isinstance(value, typer.Typer) and value.info.name)
root = typer.main.get_command(app)
failed, paths, todo = [], [], [()]
while todo:
    path = todo.pop()
    command = root
    for word in path:
        command = command.commands[word]
    paths.append(" ".join(path))
    result = CliRunner().invoke(app, [*path, "--help"])
    if result.exit_code != 0:
        failed.append({"command": " ".join(path), "output": result.output[-500:], "error": repr(result.exception)})
    todo.extend((*path, word) for word in getattr(command, "commands", {}))
print(json.dumps({"commands": paths, "failed": failed}))
"""


def copy_lines(dockerfile: Path) -> list[tuple[list[str], str]]:
    """``(sources, destination)`` of every ``COPY`` line, flags (``--chown=``...) dropped."""
    found = []
    for word, rest in instructions(dockerfile):
        if word == "COPY":
            args = [arg for arg in shlex.split(rest) if not arg.startswith("--")]
            found.append((args[:-1], args[-1]))
    return found


def build_context(dockerfile: Path, target: Path) -> Path:
    """The image's /app (WORKDIR) laid out in ``target`` from the Dockerfile's COPY lines."""
    for sources, destination in copy_lines(dockerfile):
        for source in sources:
            origin = ROOT / source
            into_dir = destination.endswith("/") or destination == "." or len(sources) > 1
            place = target / destination / origin.name if into_dir else target / destination
            place.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, place, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(origin, place)
    return target


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """``(INSTRUCTION, rest)`` per instruction, continuation lines joined, comments dropped."""
    found, pending = [], ""
    for line in dockerfile.read_text().splitlines():
        if line.lstrip().startswith("#") and not pending:
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        if pending.strip():
            word, _, rest = pending.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
        pending = ""
    return found


def image_env(dockerfile: Path = ROOT / "Dockerfile") -> dict[str, str]:
    """The ``ENV`` of the image (``KEY=value`` pairs)."""
    return {key: value for word, rest in instructions(dockerfile) if word == "ENV"
            for key, _, value in (pair.partition("=") for pair in shlex.split(rest))}


def test_the_image_gives_its_user_a_state_volume_where_state_home_points() -> None:
    """tester10 (legacy in the image): ``import-batch`` and the relay had no writable state dir in the container (the
    system user has no home, and $XDG_STATE_HOME was unset), so their checkpoints and dedupe file could not be kept.
    """
    from adapters.base.config import state_home

    found = instructions(ROOT / "Dockerfile")
    state = image_env().get("XDG_STATE_HOME", "")
    assert state.startswith("/"), "the image must set XDG_STATE_HOME to an absolute directory"
    (user,) = [rest for word, rest in found if word == "USER"]
    created = [rest for word, rest in found if word == "RUN" and f"-o {user}" in rest and state in rest.split()]
    assert created, f"no RUN creates {state} owned by {user} (install -d -o {user} ... {state})"
    volumes = [path for word, rest in found if word == "VOLUME" for path in json.loads(rest)]
    assert state in volumes
    assert state_home_under(state, state_home) == Path(state) / "omnibus"


def state_home_under(xdg_state_home: str, state_home: Any) -> Path:
    previous = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = xdg_state_home
    try:
        return state_home()
    finally:
        if previous is None:
            del os.environ["XDG_STATE_HOME"]
        else:
            os.environ["XDG_STATE_HOME"] = previous


def clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "OMNIBUS_", "VIRTUAL_ENV"))}
    return {**env, **extra}


def test_copy_lines_name_every_package_the_project_installs() -> None:
    copied = {source for sources, _ in copy_lines(ROOT / "Dockerfile") for source in sources}
    includes = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in includes}
    assert packages <= copied, f"the image misses packages: {sorted(packages - copied)}"


@pytest.mark.kafka
@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_installed_image_package_runs_every_command_and_an_adapter(
    bootstrap_servers: str, tmp_path: Path,
) -> None:
    app_dir = build_context(ROOT / "Dockerfile", tmp_path / "app")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run([str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", str(app_dir)],
                             capture_output=True, text=True, timeout=480, env=clean_env())
    assert install.returncode == 0, install.stderr[-3000:]
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    top = subprocess.run([str(venv / "bin/omnibus"), "--help"], capture_output=True, text=True, cwd=outside,
                         env=clean_env(), timeout=120)
    assert top.returncode == 0, top.stderr[-3000:]
    entry = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["omnibus"]
    walked = subprocess.run([str(venv / "bin/python"), "-c", EVERY_HELP, entry], capture_output=True, text=True,
                            cwd=outside, env=clean_env(), timeout=300)
    assert walked.returncode == 0, walked.stderr[-3000:]
    report = json.loads(walked.stdout.splitlines()[-1])
    assert not report["failed"], report["failed"]
    assert {"adapter web run", "identity run", "handoffs run", "demo"} <= set(report["commands"])

    config = await settings_with_topics(bootstrap_servers, partitions=1)
    source, key = "portal-web", "wk-image-test"
    env = clean_env(OMNIBUS_KAFKA__BOOTSTRAP_SERVERS=bootstrap_servers, OMNIBUS_TOPICS__PREFIX=config.topics.prefix,
                    OMNIBUS_METRICS__PORT="0", OMNIBUS_ADAPTER_WEB__PORT="0",  # bound by the adapter, read in its log
                    OMNIBUS_LOG__JSON_OUTPUT="true", OMNIBUS_ADAPTER_WEB__WRITE_KEYS=json.dumps({source: key}))
    log = tmp_path / "adapter.log"
    with log.open("wb") as sink:
        adapter = subprocess.Popen([str(venv / "bin/omnibus"), "adapter", "web", "run"], cwd=outside, env=env,
                                   stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while (port := logged_port(log.read_text(errors="replace"), LISTENING_EVENT)) is None:
            assert adapter.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.3)
        body = json.dumps({"type": "track", "event": "Bill Viewed", "userId": "u-1", "messageId": "image-test-1",
                           "timestamp": "2026-01-05T10:00:00Z"}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/track", data=body, method="POST", headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()})
        while True:
            assert adapter.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the adapter never answered"
                time.sleep(0.3)
    finally:
        adapter.send_signal(signal.SIGTERM)
        adapter.wait(timeout=60)
    assert adapter.returncode == 0, log.read_text(errors="replace")[-3000:]
    assert not list(outside.iterdir()), "the process wrote into its working directory"
