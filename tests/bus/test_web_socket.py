"""A worker's web server on port 0 serves on the socket bound when its app was built: nothing can take the port
between the number being chosen and the server starting (sample: ``demo.services.running_middleware`` in a broker
test of the offers failed with ``address already in use`` when another test's server took the number first)."""

from __future__ import annotations

import asyncio
import errno
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import faust
import pytest

from bus import web_socket
from bus.app import check_web_port, create_app
from bus.config import load_settings


def _app(tmp_path: Path, web_port: int | None = 0) -> faust.App:
    return create_app("web-socket", load_settings(metrics={"enabled": False}), web_port=web_port, datadir=str(tmp_path))


def _status(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as answered:
        return answered.code
    except OSError:
        return None


@pytest.mark.parametrize("reuse_address", [False, True])
async def test_the_chosen_port_cannot_be_taken_before_the_server_starts_and_the_server_starts_on_it(
    tmp_path: Path, reuse_address: bool
) -> None:
    app = _app(tmp_path)
    port = app.conf.web_port
    assert port not in (0, 6066)
    with socket.socket() as intruder:  # another test's server wanting the same port, as aiohttp binds (REUSEADDR)
        intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(reuse_address))
        with pytest.raises(OSError) as refused:
            intruder.bind(("127.0.0.1", port))
        assert refused.value.errno == errno.EADDRINUSE
    assert _status(port) is None  # bound, not listening: refused until the server starts
    web: Any = app.web  # the aiohttp driver: start_server and stop_server are its own
    await web.start_server()
    try:
        assert await asyncio.to_thread(_status, port) == 404  # served there (no views: 404 on /)
    finally:
        await web.stop_server()
    assert web_socket.held(app) is None  # the server took the socket and closed it when it stopped
    with socket.socket() as after:
        after.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        after.bind(("127.0.0.1", port))  # free again


def test_a_port_zero_app_is_not_refused_by_the_check_of_its_own_port(tmp_path: Path) -> None:
    """``run_worker`` probes the web port before anything starts; the socket this process holds is no conflict."""
    app = _app(tmp_path)
    assert web_socket.held(app) is not None
    assert check_web_port(app, "OMNIBUS_PROCESSOR_IDENTITY__WEB_PORT") is None


def test_a_given_port_or_no_web_server_holds_no_socket(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        given = probe.getsockname()[1]
    assert web_socket.held(_app(tmp_path, web_port=given)) is None
    assert web_socket.held(_app(tmp_path, web_port=None)) is None
