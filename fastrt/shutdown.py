"""Graceful shutdown: ``fastrt.on_shutdown(fn)`` hooks run when Lambda sends SIGTERM.

Lambda sends SIGTERM (then, after about 500 ms, SIGKILL) only to runtimes that have at least
one extension registered. So the first hook registration also registers a no-op *internal*
extension through the Extensions API — the way the Rust runtime's
``spawn_graceful_shutdown_handler`` does — and keeps its ``/event/next`` long poll open on
a background thread (an extension must call it for the Init phase to complete; with no
events subscribed it never answers). ``FASTRT_SHUTDOWN_EXTENSION=0`` skips the extension
when another one is registered anyway.

The SIGTERM handler runs the hooks, most recent first (like ``atexit``), then the ``atexit``
callbacks, and ends the process with exit code 0. It runs while the runtime waits on ``/next`` too: the socket
transport blocks in ``recv()`` on the main thread, which Python interrupts to run signal
handlers (PEP 475). Hooks must finish within Lambda's budget (about 500 ms with an internal
extension); a hook that fails is logged and the next one still runs.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    _Hook = TypeVar("_Hook", bound=Callable[[], object])

EXTENSION_NAME = "fastrt-graceful-shutdown"
EXTENSIONS_API_PREFIX = "/2020-01-01/extension"

_hooks: list = []
_installed = False
_previous_handler = None
_ran = False


def on_shutdown(hook: _Hook) -> _Hook:
    """Run ``hook()`` (a function or ``async def``) when Lambda shuts the environment down.

    Returns ``hook``, so it works as a decorator. Call it during init (at import time):
    the extension that makes Lambda send SIGTERM can only be registered before the first
    event.
    """
    global _installed
    if not callable(hook):
        raise TypeError("on_shutdown() needs a callable, not %s" % type(hook).__name__)
    _hooks.append(hook)
    if not _installed:
        _installed = True
        _install_handler()
        from fastrt.start import switched_off  # loaded already when the runtime runs

        if not switched_off(os.environ.get("FASTRT_SHUTDOWN_EXTENSION")):
            _register_extension(os.environ.get("AWS_LAMBDA_RUNTIME_API"))
    return hook


def run_hooks() -> None:
    """Run every registered hook once, newest first; failures are logged, not raised."""
    global _ran
    if _ran:
        return
    _ran = True
    while _hooks:
        hook = _hooks.pop()
        try:
            result = hook()
            if hasattr(result, "__await__"):
                from fastrt import aio

                aio.run(result)
        except Exception:
            _log_failure(hook)


def _install_handler() -> None:
    import _signal  # the C module: `signal` would import enum

    global _previous_handler
    _previous_handler = _signal.getsignal(_signal.SIGTERM)
    _signal.signal(_signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum, frame) -> None:
    run_hooks()
    code = 0
    previous = _previous_handler
    if callable(previous):
        # A handler the function installed before its first on_shutdown() still runs.
        try:
            previous(signum, frame)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    _exit(code)


def _exit(code: int) -> None:
    """End the process now, as an ordinary exit would but without unwinding the main thread.

    Raising SystemExit from a signal handler would unwind whatever the main thread was
    doing, which may be the middle of a C extension's import: not safe. So the ``atexit``
    callbacks run here, the standard streams are flushed, and the process ends.
    """
    import atexit
    import sys

    try:
        atexit._run_exitfuncs()
    except Exception:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def _log_failure(hook) -> None:
    import sys
    import traceback

    name = getattr(hook, "__qualname__", None) or repr(hook)
    sys.stderr.write("fastrt: shutdown hook %s failed\n" % name)
    traceback.print_exc()
    sys.stderr.flush()


# --- the no-op internal extension ---------------------------------------------------------


def _register_extension(runtime_api: str | None) -> None:
    """Register the extension, then keep its ``/event/next`` poll open on a thread."""
    if not runtime_api:
        return  # not under Lambda (a unit test, a REPL): SIGTERM arrives without it
    if os.environ.get("FASTRT_WORKER_INDEX", "0") != "0":
        return  # Managed Instances: the first worker registers; the parent forwards SIGTERM
    from fastrt.transport import SocketTransport

    client = SocketTransport(runtime_api, "fastrt-shutdown")
    request = (
        "POST %s/register HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Name: %s\r\n"
        "Content-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"events\": []}"
        % (EXTENSIONS_API_PREFIX, runtime_api, EXTENSION_NAME)
    ).encode("latin-1")
    try:
        head, body = client._exchange(request, None)
    except Exception as exc:
        _warn("could not register the shutdown extension: %s" % (exc,))
        client.close()
        return
    identifier = head.headers.get("lambda-extension-identifier")
    if head.status != 200 or not identifier:
        _warn(
            "could not register the shutdown extension: HTTP %d %s"
            % (head.status, body[:200].decode("utf-8", "replace"))
        )
        client.close()
        return
    next_event = (
        "GET %s/event/next HTTP/1.1\r\nHost: %s\r\nLambda-Extension-Identifier: %s\r\n\r\n"
        % (EXTENSIONS_API_PREFIX, runtime_api, identifier)
    ).encode("latin-1")
    import _thread

    _thread.start_new_thread(_poll_events, (client, next_event))


def _poll_events(client, request: bytes) -> None:
    # Subscribed to no events, so this normally blocks until the process ends; any event
    # that does arrive is acknowledged by asking for the next one.
    while True:
        try:
            head, _ = client._exchange(request, None)
        except Exception:
            return
        if head.status != 200:
            return


def _warn(message: str) -> None:
    import sys

    sys.stderr.write("fastrt: %s; SIGTERM will only arrive if another extension is registered\n" % message)
    sys.stderr.flush()
