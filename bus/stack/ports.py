"""Loopback ports for the servers the stack and the tests start (Kafka, the schema registry, PostgreSQL, Prometheus):
hold a port until the server binds it, start again on others when a start lost one anyway, check for a listener.

Such a server binds the number it is given and can neither be handed a bound socket nor report a port of its own
choosing. A number read from a probe socket and released (``free_port``) can be bound by any other process before the
server binds it (a 2-core CI with two test workers and many subprocesses did). ``held_ports`` keeps each number bound
instead, with ``SO_REUSEADDR`` and never listening, until the server is ready: a server that sets ``SO_REUSEADDR``
itself binds and listens on it meanwhile (Java's ``ServerSocketChannel``: Kafka; Vert.x: the registry; PostgreSQL;
Go's ``net.Listen``: Prometheus; each checked), while no socket without the option can bind it and the kernel never
picks it for another socket's port 0 or outgoing connection (Linux ``socket(7)``, ``tcp(7)``). Only a process that
read the same number before it was held and binds it with ``SO_REUSEADDR`` can still take it: ``start_on_held_ports``
then starts the server again on other ports, the one path every such start takes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TypeVar

from bus.logging import get_logger
from bus.stack.process import StackError

HOST = "127.0.0.1"
PORT_RETRIES = 3  # starts, each on newly held ports, when another process bound a drawn port first
PORT_TAKEN_EVENT = "port taken before the server bound it: starting again on other ports"
log = get_logger(__name__)
T = TypeVar("T")


class PortTaken(StackError):
    """A server could not have its port: another process listens on a port it was given, or bound a port before the
    server did (``start_on_held_ports``); the message names the port."""


def free_port(host: str = HOST) -> int:
    """A TCP port on ``host`` (default 127.0.0.1) that was free a moment ago (the OS picks it), released at once.

    Another process can bind it before anything else does: not for a server's port. A server that must be given its
    number gets one from ``held_ports``; an Omnibus process is given port 0 and says which port it bound
    (``bus.web_socket``, ``bus.logging.PORTS_LOGGER``).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def held_ports(wanted: Sequence[int | None], host: str = HOST) -> Iterator[list[int]]:
    """One port on ``host`` per item of ``wanted``, in its order: the number given, or one the kernel picks for None
    (all different); each held for the block by a socket bound with ``SO_REUSEADDR`` and never listening, so that a
    server given it binds it there (see the module). A connection to a held port is refused until the server
    listens. Raises ``PortTaken`` naming a given port another socket holds (a server listening on it, a socket bound
    without ``SO_REUSEADDR``): pick another."""
    with ExitStack() as sockets:

        def hold(port: int) -> int:
            sock = sockets.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                raise PortTaken(f"port {port} on {host} is already in use: pick another ({exc.strerror})") from exc
            return int(sock.getsockname()[1])

        given = {index: hold(port) for index, port in enumerate(wanted) if port is not None}  # before any pick
        yield [given[index] if index in given else hold(0) for index in range(len(wanted))]


def start_on_held_ports(
    wanted: Sequence[int | None],
    start: Callable[[list[int]], T],
    *,
    server: str,
    lost: Callable[[Exception], bool] = lambda failure: isinstance(failure, PortTaken),
    host: str = HOST,
) -> T:
    """``start(ports)`` on ``held_ports(wanted)``, held until it returns (it launches ``server`` on them and waits
    until it is ready, and stops what it launched before it raises). A failure ``lost`` recognises (the server's own
    "address already in use", or another server answering on its port) starts it again on newly held ports when all
    were left to the kernel (``wanted`` all None), up to ``PORT_RETRIES`` starts, each retry logged as
    ``PORT_TAKEN_EVENT``; otherwise it raises ``PortTaken`` naming the ports, chained to the failure. Other failures
    propagate as they are."""
    for attempt in range(1, PORT_RETRIES + 1):
        with held_ports(wanted, host) as ports:
            try:
                return start(ports)
            except Exception as failure:
                if not lost(failure):
                    raise
                drawn = all(port is None for port in wanted)
                if drawn and attempt < PORT_RETRIES:
                    log.warning(PORT_TAKEN_EVENT, server=server, ports=ports, attempt=attempt, attempts=PORT_RETRIES)
                    continue
                named = " or ".join(str(port) for port in ports)
                raise PortTaken(
                    f"port {named} on {host} was bound by another process before the {server} bound it"
                    + (
                        f" ({PORT_RETRIES} starts, each on newly held ports)"
                        if drawn
                        else f": pick another, or leave it to the {server}"
                    )
                    + f"\n{failure}"
                ) from failure
    raise AssertionError("unreachable: the last attempt returns or raises")


def is_listening(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """True if a TCP connection to ``host:port`` is accepted."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
