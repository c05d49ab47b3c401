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

``install`` gives the two declaration wrappers only (``Topic.maybe_declare`` and the transport's topic waiters) a
``DeclarationStampede``: waiters wait through ``asyncio.shield``, so a cancelled waiter leaves the shared future
alone; the result is set only on a future still pending; an error is handed to the waiters as it is raised to the
caller. The caller doing the work, when cancelled, cancels the waiters too, as before. mode's other wrappers (faust's
``maybe_start_producer``, on every send) are left as they are: with every wrapper patched, the 60 s broker outage
fault test (tests/faults/test_broker.py) failed twice in two runs with identity consuming nothing after the outage,
against once in five runs without; the cause is not known.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mode.utils.futures import StampedeWrapper, stampede


class DeclarationStampede(StampedeWrapper):
    """mode's ``StampedeWrapper`` whose waiters survive their own cancellation and receive the operation's error."""

    async def __call__(self) -> Any:
        """The operation's result, run once for every caller that arrives meanwhile.

        Raises what the operation raised, to the caller running it and to every waiter; ``CancelledError`` to the
        waiters when the caller running it was cancelled."""
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


class declaration_stampede(stampede):  # noqa: N801 - a decorator, named like mode's
    """mode's ``@stampede`` descriptor handing out a ``DeclarationStampede`` per object."""

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        try:
            return obj.__dict__[self.__name__]
        except KeyError:
            wrapper = obj.__dict__[self.__name__] = DeclarationStampede(self.__wrapped__, obj)
            return wrapper


def install() -> None:
    """Give faust's topic declarations a ``DeclarationStampede`` once per process (see the module's docstring)."""
    import faust.topics
    import faust.transport.drivers.aiokafka as transport

    if transport.StampedeWrapper is DeclarationStampede:
        return
    transport.StampedeWrapper = DeclarationStampede  # type: ignore[misc]  # the transport's topic waiters (``_create_topic``)
    faust.topics.Topic.maybe_declare = declaration_stampede(  # type: ignore[method-assign]
        faust.topics.Topic.maybe_declare.__wrapped__)
