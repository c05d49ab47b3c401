"""``LocalStack``: the broker (+ registry) as one unit, with a state file for other processes.

``up`` records pids, ports, URLs, log paths and each JVM's ownership marker in
``<state_dir>/stack.json`` so that ``status`` and ``down`` work from another process (the CLI's
``omnibus stack down`` after ``omnibus stack up``). ``down`` stops only processes recorded there,
and only after ``/proc/<pid>/cmdline`` proves the pid is still that java process (see
``process.owns``): a stale state file never leads to killing an unrelated process.

After a crash (``kill -9`` of the broker) or a clean ``down`` the state file is still there: the next ``up``
restarts the same broker on its recorded ports with its data (``restarted`` in the state says so), unless asked to
``wipe``. A registry still running is left alone; a dead one comes back on its port with its schemas (its
H2 database is on disk), so schema ids, and so the records already written, stay valid; when only the registry
died, ``up`` brings back the registry alone. ``down`` keeps the record, marked ``stopped``, so the next ``up``
brings back the same cluster (a ``down``/``up`` wiped every topic and moved the broker to another port
while docs/run-yourself.md promised the opposite).

Ports: a server's port is held from its choice until it is ready (``bus.stack.ports``), but after ``down`` nothing holds
it until the next ``up`` brings the server back on it. ``omnibus stack up`` therefore takes ``DEFAULT_PORTS``, below
Linux's ephemeral range, which the kernel never gives to another process's port 0 or outgoing connection; a port the
system picks (``StackPorts`` field None, the demo's and the tests' stacks, ``--port 0``) is in the ephemeral range, and
another process may take it while the stack is down (``up`` then fails naming it).

Other processes find a running local stack through ``local_endpoints`` (the settings fall back to its broker
when ``OMNIBUS_KAFKA__BOOTSTRAP_SERVERS`` is unset, and to its registry when ``OMNIBUS_REGISTRY__URL`` is unset
and the broker is the stack's: ``bus.config.load_settings``).

State dir: ``$OMNIBUS_STACK_DIR``, else ``<repo>/.omnibus`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from bus.stack import kafka, process
from bus.stack import registry as registry_mod
from bus.stack.ports import is_listening

STATE_FILE = "stack.json"
STOPPED = "stopped"  # the state file's mark of a stack ``down`` stopped: ``up`` brings it back with its data


@dataclass(frozen=True)
class StackPorts:
    """The local stack's ports on 127.0.0.1: Kafka's client port, its KRaft controller's, the schema registry's;
    None: one the system picks, held until the server binds it (``bus.stack.ports.held_ports``)."""

    kafka: int | None = None
    controller: int | None = None
    registry: int | None = None

    def over(self, defaults: StackPorts) -> StackPorts:
        """Each port given here, else the one of ``defaults``; a port given as 0 is one the system picks (None)."""

        def pick(given: int | None, default: int | None) -> int | None:
            return default if given is None else (given or None)

        return StackPorts(pick(self.kafka, defaults.kafka), pick(self.controller, defaults.controller),
                          pick(self.registry, defaults.registry))


# ``omnibus stack up``'s ports: below Linux's ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``, 32768-60999
# by default), so no other process is given one while the stack is down; Kafka's 9092 and the registry's 8081 with a
# leading 1, apart from the components' 18101-18106 of docs/integrating.md.
DEFAULT_PORTS = StackPorts(kafka=18092, controller=18093, registry=18081)


def default_state_dir() -> Path:
    """``$OMNIBUS_STACK_DIR``, else ``.omnibus`` at the repository root (or the cwd if not in one)."""
    configured = os.environ.get("OMNIBUS_STACK_DIR")
    if configured:
        return Path(configured).expanduser().resolve()
    repo = Path(__file__).resolve().parents[2]
    base = repo if (repo / "pyproject.toml").is_file() else Path.cwd()
    return base / ".omnibus"


def registry_restart_state(state: dict[str, Any], registry: dict[str, Any]) -> dict[str, Any]:
    """The state file after ``up`` brought back the registry alone: the running broker as recorded (without the
    checks ``status`` added), ``registry`` (its ``describe()``), ``restarted_registry`` true and ``restarted``
    false, whatever an earlier ``up`` wrote: that broker was not restarted now (a stale
    ``"restarted": true`` made ``stack up`` say it restarted the broker when only the registry came back)."""
    kept = {k: v for k, v in state.items() if k not in ("kafka", "registry", "restarted", "restarted_registry")}
    return kept | {"kafka": _recorded(state["kafka"]),
                   "registry": registry, "restarted": False, "restarted_registry": True}


class LocalStack:
    """A Kafka broker and, if requested and runnable here, an Apicurio schema registry.

    ``detach=True`` (the CLI) leaves the servers running after this process exits; otherwise they
    are tied to this process and ``down``/``__exit__`` stop them. ``ports``: those given (0: one the system picks),
    the others from ``defaults`` (the CLI's: ``DEFAULT_PORTS``; else each picked by the system); an ``up`` that brings
    back a recorded stack takes its recorded ports, unless ``ports.kafka`` names another (not 0).
    """

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        ports: StackPorts = StackPorts(),
        defaults: StackPorts = StackPorts(),
        registry: bool = True,
        kafka_version: str = kafka.DEFAULT_VERSION,
        registry_version: str = registry_mod.DEFAULT_VERSION,
        detach: bool = False,
        wipe: bool = False,
    ) -> None:
        self.state_dir = Path(state_dir).expanduser().resolve() if state_dir is not None else default_state_dir()
        self.ports = ports
        self.defaults = defaults
        self.want_registry = registry
        self.kafka_version = kafka_version
        self.registry_version = registry_version
        self.detach = detach
        self.wipe = wipe
        self.broker: kafka.KafkaBroker | None = None
        self.registry: registry_mod.SchemaRegistryServer | None = None
        self.registry_unavailable: str | None = None

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE

    # -- lifecycle --------------------------------------------------------------------------------
    def up(self) -> dict[str, Any]:
        """Start everything, write the state file and return its content."""
        running = self.status()
        previous: dict[str, Any] = (running or {}).get("kafka") or {}
        registry_was = (running or {}).get("registry") or {}
        if previous.get("alive") and self.want_registry and registry_was.get("port") and not registry_was.get("alive"):
            return self._restart_registry(running or {}, registry_was)  # only the registry died
        if previous.get("alive"):
            raise process.StackError(
                f"a local stack from {self.state_file} is already running "
                f"(bootstrap {previous['bootstrap_servers']}); run 'omnibus stack down' first"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tie = not self.detach
        # A state file whose broker is dead means a crash: bring back the same broker, data and port.
        restart = not self.wipe and bool(previous.get("port")) and self.ports.kafka in (None, 0, previous.get("port"))
        chosen = self.ports.over(self.defaults)
        registry_part = _recorded((running or {}).get("registry") or {}) or {}
        kept_registry = bool(restart and ((running or {}).get("registry") or {}).get("alive"))
        if not kept_registry and registry_part.get("pid") and registry_part.get("marker"):
            process.terminate(int(registry_part["pid"]), str(registry_part["marker"]))  # a fresh stack: fresh ids
        port, controller_port = (
            (previous["port"], previous.get("controller_port")) if restart else (chosen.kafka, chosen.controller)
        )
        if port is not None and port == previous.get("port"):  # the recorded broker's, also for ``--wipe``
            _await_released(int(port))
        recorded = self.read_state()
        # Until both are ready the state file holds the crash record's parts, each replaced by the new process the
        # moment it is launched: a ``stack up`` killed while it waits leaves a record ``down`` stops them by.
        starting = {
            "state_dir": str(self.state_dir),
            "kafka": _recorded(previous) if restart else None,
            "registry": (registry_part or None) if restart else None,
            "registry_unavailable": None,
            "restarted": restart,
            "starting": True,
        }
        self.broker = kafka.KafkaBroker(
            self.state_dir, port, self.kafka_version, controller_port=controller_port, tie_to_parent=tie,
            keep_data=restart,
        )
        self.broker.on_launch = lambda: self._write_state(starting | self._launched_parts())
        try:
            self.broker.start()
            if self.want_registry and not kept_registry:
                port = (registry_part.get("port") if restart else None) or chosen.registry
                self._start_registry(tie, port=int(port) if port else None, keep_data=restart,
                                     record=lambda: self._write_state(starting | self._launched_parts()))
        except BaseException:
            self.down_started()
            self._restore_state(recorded)
            raise
        registry_state = registry_part if kept_registry else (self.registry.describe() if self.registry else None)
        state = {
            "state_dir": str(self.state_dir),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "kafka": self.broker.describe(),
            "registry": registry_state,
            "registry_unavailable": self.registry_unavailable,
            "restarted": restart,
        }
        self._write_state(state)
        return state

    def _launched_parts(self) -> dict[str, Any]:
        """``kafka``/``registry`` of the state file for each server this object has launched (running or not)."""
        return {name: server.describe() for name, server in (("kafka", self.broker), ("registry", self.registry))
                if server is not None and server.pid is not None}

    def down_started(self) -> list[str]:
        """Stop the servers this object started (not those the state file records); return what was stopped."""
        stopped: list[str] = []
        for name, server in (("registry", self.registry), ("kafka", self.broker)):
            if server is not None and server.is_running():
                server.stop()
                stopped.append(name)
        self.registry = self.broker = None
        return stopped

    def _restore_state(self, recorded: dict[str, Any] | None) -> None:
        """Put back the state file an interrupted ``up`` found (a crash record keeps its ports), or remove it."""
        if recorded is None:
            self.state_file.unlink(missing_ok=True)
        else:
            self._write_state(recorded)

    def _restart_registry(self, state: dict[str, Any], registry_was: dict[str, Any]) -> dict[str, Any]:
        """The broker lives and the registry died: bring the registry back on its port with its schemas, and record
        it in the state file (``restarted_registry``)."""
        recorded = self.read_state()
        try:
            self._start_registry(not self.detach, port=int(registry_was["port"]), keep_data=True,
                                 record=lambda: self._write_state(
                                     registry_restart_state(state, self._launched_parts()["registry"])
                                     | {"starting": True}))
        except BaseException:
            self.down_started()
            self._restore_state(recorded)
            raise
        if self.registry is None:
            raise process.StackError(f"the schema registry cannot run here: {self.registry_unavailable}")
        state = registry_restart_state(state, self.registry.describe())
        self._write_state(state)
        return state

    def _write_state(self, state: dict[str, Any]) -> None:
        tmp = self.state_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)

    def _start_registry(
        self, tie: bool, *, port: int | None = None, keep_data: bool = False, record: Callable[[], None]
    ) -> None:
        """Start the registry (``record`` is called once it is launched, before the wait); after a crash
        (``keep_data``) on its recorded port with its schemas, so the processes configured with its URL and the
        records on the topics keep working."""
        if port is not None:
            _await_released(port)
        self.registry = registry_mod.SchemaRegistryServer(
            self.state_dir, port=port, version=self.registry_version, tie_to_parent=tie, keep_data=keep_data
        )
        self.registry.on_launch = record
        try:
            self.registry.start()
        except registry_mod.RegistryUnavailable as exc:
            self.registry_unavailable = str(exc)
            self.registry = None

    def down(self) -> list[str]:
        """Stop what this object started, else what the state file records; return what was stopped.

        The state file stays, marked ``stopped`` (``STOPPED``): the next ``up`` brings back the same broker on its
        ports with its topics and data, and the registry with its schemas; ``up --wipe`` starts afresh."""
        stopped = self.down_started()
        state = self.read_state()
        if state is not None:
            for name in ("registry", "kafka"):
                part = state.get(name)
                if part and part.get("pid") and process.terminate(int(part["pid"]), str(part["marker"])):
                    stopped.append(name)
            self._write_state({key: value for key, value in state.items() if key != "starting"} | {STOPPED: True})
        return stopped

    def read_state(self) -> dict[str, Any] | None:
        """The state file's content, or None if there is none (or it is unreadable)."""
        try:
            return dict(json.loads(self.state_file.read_text()))
        except (OSError, ValueError):
            return None

    def status(self) -> dict[str, Any] | None:
        """The state file's content with ``alive``/``listening`` checked now for each server."""
        state = self.read_state()
        if state is None:
            return None
        for part in _components(state):
            pid, marker = part.get("pid"), part.get("marker")
            part["alive"] = bool(pid and marker and process.owns(int(pid), str(marker)))
            part["listening"] = bool(part.get("port") and is_listening(int(part["port"])))
        return state

    def __enter__(self) -> LocalStack:
        self.up()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.down()


def _await_released(port: int, timeout_s: float = 15.0) -> None:
    """A broker killed a moment ago may still hold its port while the kernel tears the process down."""
    deadline = time.monotonic() + timeout_s
    while is_listening(port) and time.monotonic() < deadline:
        time.sleep(0.2)


@dataclass(frozen=True)
class LocalEndpoints:
    """Where the live local stack answers: its broker's bootstrap servers, its registry's base URL (None when it
    runs without one, or the registry is down)."""

    bootstrap_servers: str
    registry_url: str | None


def local_endpoints(state_dir: Path | None = None) -> LocalEndpoints | None:
    """The endpoints of the live local stack recorded in ``state_dir`` (default ``default_state_dir()``), or None
    when there is none or its broker is not running. Its registry's URL whenever the stack recorded one, also while
    that registry is down: the records on the stack's topics are in its framing, so a command started during the
    outage waits for it or says it does not answer (``bus.registry_outage``), never writes or reads registry-free
    (it published records every processor then dead-lettered); no URL only for a stack whose registry never ran."""
    state = LocalStack(state_dir).status() or {}
    kafka_part, registry_part = state.get("kafka") or {}, state.get("registry") or {}
    if not (kafka_part.get("alive") and kafka_part.get("listening")):
        return None
    registry_url = registry_part.get("url")
    return LocalEndpoints(str(kafka_part["bootstrap_servers"]), str(registry_url) if registry_url else None)


def _recorded(part: dict[str, Any]) -> dict[str, Any] | None:
    """A part of ``status()`` as the state file holds it (without the ``alive``/``listening`` checked now)."""
    return {k: v for k, v in part.items() if k not in ("alive", "listening")} or None


def _components(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [part for part in (state.get("kafka"), state.get("registry")) if part]
