"""What the fault tests start, as operators would: the broker (``omnibus stack up``), adapters and processors
(``omnibus adapter ... run``, ``omnibus <processor> run``), each a real process with its output in a file.

``Stack`` owns every process it started and stops them all (the broker with ``omnibus stack down``) when
its context ends, whatever the test did.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from adapters.base.http import LISTENING_EVENT as ADAPTER_LISTENING
from bus.config import OmnibusSettings, load_settings
from bus.stack import process
from bus.stack.ports import is_listening
from processors.identity.config import IdentitySettings, load_identity_settings
from processors.verify.report import Report
from processors.verify.run import averify
from tests.processors.identity.support import HMAC_KEY
from tests.support.ports import logged_port, stack_port_options
from tests.support.processes import tail_report

WRITE_KEY = "wk-fault-0123456789"
PROCESSORS = ("identity", "handoffs", "kpis", "offers")


@dataclass
class Proc:
    """One ``omnibus`` command running in the background, its output in ``log``."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def bound(self, event: str, timeout_s: float = 180.0) -> int:
        """The port the process logged with ``event`` once it bound it (started on port 0: a port drawn free for it
        could be bound by another process first), kept in ``port``; AssertionError if it exits or after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while (port := logged_port(self.log.read_text(errors="replace") if self.log.exists() else "", event)) is None:
            assert self.alive(), f"{self.name} exited:\n{self.tail()}"
            assert time.monotonic() < deadline, f"{self.name} logged no {event!r} line within {timeout_s:.0f} s"
            time.sleep(0.2)
        self.port = port
        return port

    def tail(self, lines: int = 30) -> str:
        """``tests.support.processes.tail_report`` of the process's log."""
        logged = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return tail_report(self.popen.poll(), logged, lines)

    def stop(self, timeout_s: float = 60.0) -> int:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return self.popen.returncode


@dataclass
class Stack:
    """A broker of its own (state in ``root``), topics under a fresh prefix, and the processes started on it."""

    root: Path
    partitions: int = 2
    prefix: str = field(default_factory=lambda: f"f{uuid.uuid4().hex[:8]}")
    bootstrap_servers: str = ""  # given: a broker this stack neither starts nor stops (the session's)
    broker_ports: list[str] = field(default_factory=list)  # ``stack up``'s port options, held by ``stack``
    procs: list[Proc] = field(default_factory=list)

    # -- the broker ---------------------------------------------------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.root / "stack"

    def broker_up(self) -> float:
        """``omnibus stack up`` (after a crash: the same broker, data and port); seconds it took."""
        began = time.monotonic()
        up = ["stack", "up", "--no-registry", "--state-dir", str(self.state_dir), *self.broker_ports]
        result = self.omnibus(up, timeout_s=180)
        assert result.returncode == 0, result.stdout[-3000:]
        self.bootstrap_servers = json.loads((self.state_dir / "stack.json").read_text())["kafka"]["bootstrap_servers"]
        return time.monotonic() - began

    def broker_kill9(self) -> None:
        """``kill -9`` of the broker JVM (only ours: pid and marker from ``stack.json``)."""
        state = json.loads((self.state_dir / "stack.json").read_text())["kafka"]
        pid, marker = int(state["pid"]), state["marker"]
        assert process.owns(pid, marker)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while (process.owns(pid, marker) or is_listening(int(state["port"]))) and time.monotonic() < deadline:
            time.sleep(0.1)

    def broker_down(self) -> None:
        self.omnibus(["stack", "down", "--state-dir", str(self.state_dir)], timeout_s=120)

    def topics_apply(self) -> None:
        result = self.omnibus(["topics", "apply"], timeout_s=120)
        assert result.returncode == 0, result.stdout[-3000:]

    def settings(self) -> OmnibusSettings:
        """The settings the processes read from ``env()``, for reading and writing topics from the test."""
        return load_settings(kafka={"bootstrap_servers": self.bootstrap_servers},
                             topics={"prefix": self.prefix, "partitions": self.partitions}, metrics={"enabled": False})

    def identity_settings(self) -> IdentitySettings:
        """Identity's settings as ``omnibus identity run`` read them from ``env()``."""
        return load_identity_settings(hmac_key=HMAC_KEY)

    async def verify(self, processors: tuple[str, ...] = ("identity",)) -> Report:
        """``omnibus verify`` of this run (``processors.verify``): lost, copies, conflicting, stale rows."""
        return await averify(self.settings(), processors=processors, identity=self.identity_settings())

    # -- commands ---------------------------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        return {
            "OMNIBUS_KAFKA__BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "OMNIBUS_TOPICS__PREFIX": self.prefix, "OMNIBUS_TOPICS__PARTITIONS": str(self.partitions),
            "OMNIBUS_METRICS__PORT": "0", "OMNIBUS_LOG__LEVEL": "WARNING",
            "OMNIBUS_PROCESSOR_IDENTITY__HMAC_KEY": HMAC_KEY,
            "OMNIBUS_ADAPTER_WEB__WRITE_KEYS": json.dumps({"portal-web": WRITE_KEY}),
            # Free ports, not the defaults 6066/6067: another run on the machine may hold those.
            "OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT": "0", "OMNIBUS_PROCESSOR_OFFERS__WEB_PORT": "0",
        }

    def omnibus(self, args: list[str], timeout_s: float = 60.0, stdin: str | None = None,
                ) -> subprocess.CompletedProcess[str]:
        """``omnibus <args>`` to its end; output (stdout and stderr) in ``.stdout``."""
        return subprocess.run([sys.executable, "-c", "from omnibus.cli import app; app()", *args],
                              env={**os.environ, **self.env()}, cwd=self.root, input=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout_s,
                              check=False)

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None, port: int | None = None,
              module: str | None = None) -> Proc:
        """``omnibus <args>`` in the background (``module``: ``python -m <module> <args>`` instead)."""
        log = self.root / f"{name}.log"
        command = ["-m", module] if module else ["-c", "from omnibus.cli import app; app()"]
        with open(log, "ab") as out:
            popen = subprocess.Popen([sys.executable, *command, *args],
                                     env={**os.environ, **self.env(), **(env or {})}, cwd=self.root,
                                     stdout=out, stderr=subprocess.STDOUT)
        proc = Proc(name, popen, log, port)
        self.procs.append(proc)
        return proc

    def processor(self, name: str) -> Proc:
        """``omnibus <name> run`` (identity, handoffs, kpis, offers), its faust data under ``root``."""
        return self.start(name, [name, "run"], env={"TMPDIR": str(self.root / f"{name}-tmp")})

    def web_adapter(self, **settings: str) -> Proc:
        proc = self.start("web", ["adapter", "web", "run", "--port", "0"], env={
            "OMNIBUS_ADAPTER_WEB__DEDUPE_PATH": str(self.root / "web-dedupe.sqlite"),
            **{f"OMNIBUS_ADAPTER_WEB__{key.upper()}": value for key, value in settings.items()}})
        wait_http(proc, f"http://127.0.0.1:{proc.bound(ADAPTER_LISTENING)}/openapi.json")
        return proc

    def group(self, processor: str) -> str:
        """The consumer group of a processor (faust's app id, ``bus.app.create_app``)."""
        return f"{self.prefix}.{processor}"

    async def joined(self, procs: dict[str, Proc], timeout_s: float = 180.0) -> None:
        """Until the consumer group of every processor in ``procs`` (name -> its process) is Stable with a member:
        each worker has joined and been given its partitions. AssertionError if one exits, or after ``timeout_s``
        (a loaded 2-core machine: a worker process took over 12 s to join at load 41)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            deadline, waiting = time.monotonic() + timeout_s, dict(procs)
            while waiting:
                for name, proc in list(waiting.items()):
                    assert proc.alive(), f"{name} exited:\n{proc.tail()}"
                    try:
                        (response,) = await admin.describe_consumer_groups([self.group(name)])
                        _, _, state, _, _, members, *_ = response.groups[0]
                    except KafkaError:  # the coordinator of a group not formed yet
                        state, members = "unknown", []
                    if state == "Stable" and members:
                        del waiting[name]
                assert time.monotonic() < deadline, f"not joined within {timeout_s:.0f} s: {sorted(waiting)}"
                await asyncio.sleep(0.25)
        finally:
            await admin.close()


def wait_http(proc: Proc, url: str, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.alive(), f"{proc.name} exited:\n{proc.tail()}"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.3)
    raise AssertionError(f"{proc.name} did not answer {url} within {timeout_s} s:\n{proc.tail()}")


@contextmanager
def stack(root: Path, *, partitions: int = 2, bootstrap_servers: str = "") -> Iterator[Stack]:
    """Topics applied under a fresh prefix on ``bootstrap_servers``, or else on a broker of its own on ports held
    until the end (``stack_port_options``: the same across a crash and ``stack up``), stopped at the end; every
    process started through it is stopped at the end."""
    running = Stack(root, partitions=partitions, bootstrap_servers=bootstrap_servers)
    for name in PROCESSORS:
        (root / f"{name}-tmp").mkdir(parents=True, exist_ok=True)
    with ExitStack() as held:
        if not bootstrap_servers:
            running.broker_ports = held.enter_context(stack_port_options())
        try:
            if not bootstrap_servers:
                running.broker_up()
            running.topics_apply()
            yield running
        finally:
            for proc in reversed(running.procs):
                proc.stop()
            if not bootstrap_servers:
                running.broker_down()
