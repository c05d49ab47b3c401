"""``python -m processors.identity.baseline``: one baseline worker, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from bus.bootstrap import start_process
from processors.identity.baseline.worker import BaselineWorker
from processors.identity.config import load_identity_settings


async def _serve(worker: BaselineWorker) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop)
    await worker.run()


def main() -> None:
    process = start_process(lambda core: BaselineWorker(core, load_identity_settings()))
    asyncio.run(_serve(process.component))


if __name__ == "__main__":
    main()
