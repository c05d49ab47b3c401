"""One identity worker as a process of its own, for the pause test (SIGSTOP needs a process).

``python -m tests.processors.identity.pause_worker BOOTSTRAP PREFIX PARTITIONS DATADIR``: runs with a
6 s session timeout (the broker's minimum) until SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from bus import stall_exit
from bus.config import load_settings
from bus.logging import configure_logging
from processors.identity.agent import IdentityProcessor
from tests.processors.identity.support import unlimited_settings

SESSION_TIMEOUT_S = 6.0


async def main(bootstrap: str, prefix: str, partitions: int, datadir: str) -> None:
    configure_logging("INFO")  # JSON lines in the worker's log file: faust's rebalances, bus.takeover's figures
    settings = load_settings(kafka={"bootstrap_servers": bootstrap}, topics={"prefix": prefix, "partitions": partitions},
                             metrics={"enabled": False})
    worker = IdentityProcessor(settings, unlimited_settings(), datadir=datadir, broker_commit_interval=0.5,
                               broker_session_timeout=SESSION_TIMEOUT_S, broker_heartbeat_interval=1.0)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    # As bus.app.run_worker: a worker stuck in a way only a restart mends (a table restore or a partition that reads
    # nothing, bus.recovery_watchdog / bus.lag_watchdog) stops itself; its partitions move to the other workers.
    stall_exit.enable_exit()
    await worker.start()
    await stop.wait()
    await worker.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
