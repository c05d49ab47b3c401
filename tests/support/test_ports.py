"""``reserved_port``: the port stays the server's from before its first start to after its last stop."""

from __future__ import annotations

import asyncio
import errno
import socket

import pytest

from tests.support.ports import logged_port, logged_ports, reserved_port


def test_a_reserved_port_is_taken_by_nothing_but_a_server_that_reuses_addresses() -> None:
    with reserved_port() as port:
        with socket.socket() as plain, pytest.raises(OSError) as taken:
            plain.bind(("127.0.0.1", port))  # a socket without SO_REUSEADDR
        assert taken.value.errno == errno.EADDRINUSE
        drawn = []
        for _ in range(500):  # the kernel's own picks, with and without SO_REUSEADDR, never land on it
            for reuse in (0, 1):
                with socket.socket() as probe:
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, reuse)
                    probe.bind(("127.0.0.1", 0))
                    drawn.append(probe.getsockname()[1])
        assert port not in drawn
        with socket.socket() as early, pytest.raises(ConnectionRefusedError):
            early.connect(("127.0.0.1", port))  # as on a port nobody bound

        async def two_starts() -> list[bytes]:
            answers = []
            for _ in range(2):  # a restart on the same port, the reservation still held
                server = await asyncio.start_server(_answer, "127.0.0.1", port)  # SO_REUSEADDR, as aiohttp's
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                answers.append(await reader.read())
                writer.close()
                server.close()
                await server.wait_closed()
            return answers

        assert asyncio.run(two_starts()) == [b"ok", b"ok"]
    with socket.socket() as after:  # released once the block ends (SO_REUSEADDR: the test's connections in TIME_WAIT)
        after.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        after.bind(("127.0.0.1", port))
        after.listen()


async def _answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"ok")
    await writer.drain()
    writer.close()


def test_the_ports_a_process_logged_are_read_in_order() -> None:
    output = "\n".join(
        [
            '{"event": "adapter workers port chosen", "port": 41000}',
            "not json",
            '{"event": "metrics endpoint listening", "pid": 1, "port": 41001}',
            '{"event": "metrics endpoint listening", "pid": 2, "port": 41002}',
        ]
    )
    assert logged_ports(output, "metrics endpoint listening") == [41001, 41002]
    assert logged_port(output, "metrics endpoint listening") == 41001
    assert logged_ports(output, "adapter listening") == [] and logged_port(output, "adapter listening") is None
