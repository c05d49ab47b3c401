"""One caller cancelled while it waits for a shared faust operation no longer crashes the caller doing the work.

faust guards its shared start-up operations with mode's ``StampedeWrapper`` (``mode/utils/futures.py``, mode-streaming
0.7.1): the first caller runs the operation, later ones ``await`` the wrapper's future for its result. A topic's
declaration goes through two of them (``Topic.maybe_declare`` and the transport's ``_create_topic``), and a table's
start and the conductor's subscription declare the same changelog at once. Two faults of that wrapper:

1. A waiter that is cancelled (a worker told to stop while its tables start) cancels the shared future itself, as
   awaiting a bare future does; the caller doing the work then finishes, ``fut.set_result`` raises
   ``InvalidStateError: invalid state``, and the worker ends with status 1 instead of 0. CI caught it: a worker sent
   SIGTERM while it declared its changelogs exited 1 (``tests/bus/test_app_ports.py``, 2026-12-01).
2. The work raising anything but ``CancelledError`` never settles the future: every waiter waits for ever.

``install`` replaces ``StampedeWrapper.__call__`` once per process (the class every ``@stampede`` method and the
transport share): waiters wait through ``asyncio.shield``, so a cancelled waiter leaves the shared future alone; the
result is set only on a future still pending; an error is handed to the waiters as it is raised to the caller. The
caller doing the work, when cancelled, cancels the waiters too, as before.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def _call(self: Any) -> Any:
    """``StampedeWrapper.__call__``: the operation's result, run once for every caller that arrives meanwhile.

    Raises what the operation raised, to the caller running it and to every waiter; ``CancelledError`` to the waiters
    when the caller running it was cancelled."""
    await asyncio.sleep(0)
    fut = self.fut
    if fut is None:
        fut = self.fut = asyncio.get_running_loop().create_future()
        try:
            result = await self.fun(*self.args, **self.kwargs)
        except asyncio.CancelledError:
            fut.cancel()
            raise
        except BaseException as exc:
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # retrieved: no "exception was never retrieved" when nobody waited
            raise
        else:
            if not fut.done():
                fut.set_result(result)
            return result
        finally:
            self.fut = None
    if fut.done():
        return fut.result()
    return await asyncio.shield(fut)


def install() -> None:
    """Patch mode's ``StampedeWrapper`` once per process (see the module's docstring)."""
    from mode.utils.futures import StampedeWrapper

    if StampedeWrapper.__call__ is not _call:
        StampedeWrapper.omnibus_original_call = StampedeWrapper.__call__  # type: ignore[attr-defined]
        StampedeWrapper.__call__ = _call  # type: ignore[method-assign]
