"""``async def`` handlers: one event loop for the life of the process.

awslambdaric calls an ``async def`` handler like any function and fails to serialise the
coroutine it gets back. fastrt runs it to completion on an event loop that is created once
and never closed, so whatever the function keeps between invocations (an aiohttp session,
an async database pool) stays bound to a live loop. uvloop is used when it is installed.

Code that runs at import time and needs the same loop (to open a pool during init, say)
uses :func:`run` — ``pool = fastrt.aio.run(create_pool())`` — or :func:`loop`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from asyncio import AbstractEventLoop
    from collections.abc import Awaitable
    from typing import TypeVar

    _T = TypeVar("_T")

# co_flags bit of async generator functions (inspect costs an import).
_CO_ASYNC_GENERATOR = 0x200

_loop = None


def loop() -> AbstractEventLoop:
    """The process's event loop, created on first use (uvloop's when it is installed)."""
    global _loop
    if _loop is None or _loop.is_closed():
        import asyncio

        try:
            import uvloop
        except ImportError:
            new = asyncio.new_event_loop()
        else:
            new = uvloop.new_event_loop()
        asyncio.set_event_loop(new)
        _loop = new
    return _loop


def run(awaitable: Awaitable[_T]) -> _T:
    """Run ``awaitable`` to completion on the process's loop and return its result."""
    return loop().run_until_complete(awaitable)


def wrap(handler):
    """A plain ``handler(event, context)`` for an ``async def`` or async-generator handler.

    A coroutine is run to completion; an async generator (a streaming handler) becomes a
    plain iterator whose every step runs on the loop. The streaming marks are carried over.
    """
    run_until_complete = loop().run_until_complete
    code = getattr(handler, "__code__", None) or getattr(getattr(handler, "__call__", None), "__code__", None)
    if code is not None and code.co_flags & _CO_ASYNC_GENERATOR:

        def call(event, context):
            return iterate(handler(event, context))

    else:

        def call(event, context):
            return run_until_complete(handler(event, context))

    for name in ("__fastrt_streaming__", "__fastrt_content_type__", "__name__", "__qualname__", "__doc__"):
        value = getattr(handler, name, None)
        if value is not None:
            setattr(call, name, value)
    call.__wrapped__ = handler
    return call


def iterate(async_iterable):
    """A plain iterator over an async iterable, each step run on the process's loop.

    Closing the iterator (as :mod:`fastrt.stream` does when a stream ends early) closes an
    async generator too, so its ``finally`` blocks run.
    """
    run_until_complete = loop().run_until_complete
    iterator = async_iterable.__aiter__()
    anext = iterator.__anext__
    try:
        while True:
            try:
                item = run_until_complete(anext())
            except StopAsyncIteration:
                return
            yield item
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            run_until_complete(aclose())
