"""A faust worker's web server on port 0 serves on a socket bound when the app is built, not on a number read then.

faust needs its web port up front: it tells the other workers its URL (``canonical_url``) for routed requests. Port
0 used to become a number by binding a probe socket to port 0, reading the port and closing the socket
(``bus.stack.ports.free_port``); faust bound that number again only at ``app.start()``, seconds later, and any
process of the machine could take it meanwhile: the start failed with ``OSError: [Errno 98] address already in use``
(a broker test of the offers in CI, 5 December 2026). Now ``bind`` keeps the socket bound from the moment the number
is known, and ``install`` makes faust's aiohttp driver serve on that very socket (aiohttp's ``SockSite``): no other
socket can bind the port in between (Linux lets a second socket bind a bound port only when both set
``SO_REUSEADDR`` or both ``SO_REUSEPORT``; this one sets neither), and a connection before the start is refused, as
on a port nobody bound (the socket listens only once the server starts).

A web server stopped and started again (the same app) binds its port by number as before: the socket closed with
the first server.
"""

from __future__ import annotations

import socket
import weakref
from typing import Any

_held: weakref.WeakKeyDictionary[Any, socket.socket] = weakref.WeakKeyDictionary()


def bind(host: str) -> socket.socket:
    """A TCP socket bound to ``host`` (an IPv4 or IPv6 address) on a port the system picks, not listening yet.
    Raises ``OSError`` when ``host`` cannot be bound (not an address of this machine)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((host, 0))
    except OSError:
        sock.close()
        raise
    return sock


def port_of(sock: socket.socket) -> int:
    """The port ``sock`` is bound to."""
    return int(sock.getsockname()[1])


def hold(app: Any, sock: socket.socket) -> None:
    """Serve ``app``'s web server on ``sock`` (bound by ``bind``) when it starts. An app that never starts its web
    server closes ``sock`` when it is collected, at the latest when the process exits."""
    _held[app] = sock
    weakref.finalize(app, sock.close)


def held(app: Any) -> socket.socket | None:
    """The socket ``app``'s web server will serve on, None when it binds its port by number at start."""
    sock = _held.get(app)
    return sock if sock is not None and sock.fileno() != -1 else None


def install() -> None:
    """Patch faust's aiohttp web driver once per process: an app given a socket by ``hold`` serves on it."""
    from aiohttp.web import SockSite
    from faust.web.drivers.aiohttp import Web

    new_transport_tcp = Web._new_transport_tcp  # noqa: SLF001
    if getattr(new_transport_tcp, "omnibus_web_socket", False):
        return

    def serve_on_held_socket(self: Any) -> Any:
        sock = held(self.app)
        if sock is None:
            return new_transport_tcp(self)
        del _held[self.app]  # the server owns it now and closes it when it stops
        # As aiohttp sets it on a socket it binds itself, now that the port is this server's (set at the bind, another
        # socket setting it too could have bound the port meanwhile): its closed connections waiting out TIME_WAIT
        # then keep no restart of a server from binding the port again.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return SockSite(self._runner, sock, ssl_context=self.app.conf.web_ssl_context)  # noqa: SLF001

    serve_on_held_socket.omnibus_web_socket = True  # type: ignore[attr-defined]
    Web._new_transport_tcp = serve_on_held_socket  # type: ignore[method-assign]  # noqa: SLF001
