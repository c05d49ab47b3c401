"""Loopback port helpers: pick a free port, check whether something is listening."""

from __future__ import annotations

import socket

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A TCP port on ``host`` (default 127.0.0.1) that was free a moment ago (the OS picks it).

    Another process can bind it between this probe socket's close and the server's own bind. Only for a server
    that can neither be handed a bound socket nor report a port it chose (the Kafka broker, the schema registry:
    they draw again when the port was taken, ``bus.stack.kafka``); an Omnibus process is given port 0 and says
    which port it bound (``bus.web_socket``, ``bus.logging.PORTS_LOGGER``).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def distinct_free_ports(count: int) -> list[int]:
    """``count`` different free ports (two quick ``free_port`` calls may return the same one)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def is_listening(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """True if a TCP connection to ``host:port`` is accepted."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
