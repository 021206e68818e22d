"""The invocation loop: ``/next`` -> handler -> ``/response`` or ``/error``, forever.

It knows nothing of formats: the marshaller turns bodies into events and results into bytes,
the context factory builds ``context``, :mod:`fastrt.errors` shapes failures, the transport
speaks HTTP. Its own job is the order of those steps and what happens when one fails: every
event gets exactly one answer, and no failure of a handler or of the Runtime API stops the
loop unless the platform itself could not recover either.

Compiled by Cython with ``loop.pxd`` beside it; runs unchanged as plain Python.
"""

import os
import sys

from fastrt import logs
from fastrt.context import ContextFactory
from fastrt.marshal import Marshaller
from fastrt.transport import ConnectionLost
from fastrt.protocol import ProtocolError

_TRACE_ENV = "_X_AMZN_TRACE_ID"
_TRACE_KEY = _TRACE_ENV.encode()
_putenv = os.putenv
_unsetenv = os.unsetenv
_FS_ENCODING = sys.getfilesystemencoding()
# A first event at least this large has orjson loaded before it is decoded: the import costs
# less than the parity codec's extra time on such an event (break-even near 512 KiB here; a
# 1 MiB first event is answered ~12 ms sooner), and the process's peak memory is then that
# of a warm one instead of ~1 MiB above it.
_EAGER_FAST_PATH_BYTES = 512 * 1024


class Runtime:
    """One runtime process: a handler bound to a transport, with the per-event machinery."""

    def __init__(self, config, transport, handler) -> None:
        self.config = config
        self.transport = transport
        self.handler = handler
        # @fastrt.streaming handlers return an iterable that is sent chunk by chunk.
        self.streaming = bool(getattr(handler, "__fastrt_streaming__", False))
        self.marshaller = Marshaller(config.ensure_ascii, config.json_extended)
        custom_marshaller = getattr(handler, "__fastrt_marshaller__", None)
        if custom_marshaller is not None:
            # Shell handlers take the event body as sent (the seed's $1), not decoded JSON.
            self.marshaller = custom_marshaller(self.marshaller)
        self.contexts = ContextFactory(config)
        # os.environ's own storage (bytes -> bytes on POSIX): os.environ[k] = v is three Python
        # calls and `k in os.environ` raises and catches a KeyError when absent, on every event.
        # Writing the store and the process environment directly is the same effect, C-level.
        self.environ = os.environ._data
        self.fast_path = False
        self.served = 0

    def serve_forever(self) -> None:
        """Serve events until the process is told to stop (SystemExit passes through)."""
        next_invocation = self.transport.next_invocation
        handle = self.handle
        while True:
            try:
                invocation = next_invocation()
            except (ConnectionLost, ProtocolError) as exc:
                # The Runtime API is gone for good (the transport already retried): the
                # sandbox is being torn down, and nothing can be reported any more.
                log_next_failed(exc)
                sys.exit(1)
            if not self.fast_path and len(invocation.body) >= _EAGER_FAST_PATH_BYTES:
                self.enable_fast_path()
            handle(invocation)
            # Not kept while waiting for the next event: a large body would stay resident.
            invocation = None
            self.served += 1
            if not self.fast_path:
                # orjson's import is kept off the cold start: it happens once the first
                # answer is out, while the platform is not waiting on this process.
                self.enable_fast_path()

    def enable_fast_path(self) -> None:
        """From now on, orjson where it gives the reference's values (once per process)."""
        self.fast_path = True
        self.marshaller.enable_fast_path()
        if self.config.pipelining:
            # Only now: /next sent ahead of this one-time work could leave it to run after
            # the platform froze the sandbox, at the start of the next event.
            self.transport.pipeline_next()

    def handle(self, invocation) -> None:
        """Run one event through the handler and post exactly one answer for it."""
        request_id = invocation.request_id
        logs.set_request(request_id, invocation.tenant_id)
        trace_id = invocation.trace_id
        environ = self.environ
        if trace_id is not None:
            value = trace_id.encode(_FS_ENCODING, "surrogateescape")
            _putenv(_TRACE_KEY, value)
            environ[_TRACE_KEY] = value
        elif _TRACE_KEY in environ:
            _unsetenv(_TRACE_KEY)
            del environ[_TRACE_KEY]
        marshaller = self.marshaller
        try:
            context = self.contexts.make(
                request_id,
                invocation.deadline_ms,
                invocation.function_arn,
                invocation.client_context,
                invocation.cognito_identity,
                invocation.tenant_id,
            )
            event = marshaller.decode(invocation.body, invocation.content_type)
            # The handler needs only the event: a large body is let go before the result is
            # built, so body and result never hold memory at once (peak RSS is in the bench).
            invocation.body = None
            result = self.handler(event, context)
            if self.streaming:
                from fastrt import stream

                stream.send(self, invocation, result)
                return
            body, content_type = marshaller.encode(result)
        except Exception as exc:
            self.report_error(invocation, exc)
            return
        post = self.transport.post_response
        try:
            try:
                status, answer = post(request_id, body, content_type, invocation.invocation_id)
            except (ConnectionLost, ProtocolError):
                # The verdict was lost (connection dropped, answer not HTTP): the post may or
                # may not have counted. Posting it once more can only help — the platform
                # accepts one answer per id and refuses a repeat (403, logged below) — so a
                # lost verdict never leaves the event unanswered (reliability fault matrix).
                status, answer = post(request_id, body, content_type, invocation.invocation_id)
        except (ConnectionLost, ProtocolError) as exc:
            runtime_log("Failed to post handler success response. %s" % (exc,))
            return
        if status >= 300:
            self.response_rejected(invocation, status, answer)

    def response_rejected(self, invocation, status: int, answer: bytes) -> None:
        """The Runtime API refused a response; awslambdaric dies here, fastrt reports and goes on."""
        from fastrt import errors  # failures only: kept off the cold start

        log_refused("handler success response", status, answer)
        if status == 413:
            self.report_error(invocation, errors.response_too_large())
        elif status >= 500:
            # "Container error. Non-recoverable state. Runtime should exit promptly."
            sys.exit(1)

    def report_error(self, invocation, exc: BaseException) -> None:
        """Log the failure the way the reference does, then post it to ``/{id}/error``."""
        from fastrt import errors  # failures only: kept off the cold start
        from fastrt.handler import working_directory

        request_id = invocation.request_id
        config = self.config
        info = errors.describe(exc)
        _log_error(info, request_id)
        body = errors.error_body(info, request_id, config.ensure_ascii)
        cause = errors.xray_cause(info, working_directory())
        error_type = errors.header_error_type(info.error_type)
        post = self.transport.post_error
        try:
            try:
                status, answer = post(request_id, body, error_type, cause, invocation.invocation_id)
            except (ConnectionLost, ProtocolError):
                # A lost verdict: posted once more, as for a response (see handle()).
                status, answer = post(request_id, body, error_type, cause, invocation.invocation_id)
            if cause and (status == 413 or status == 431):
                # A deep traceback can make the X-Ray header larger than the API accepts; the
                # error itself matters more than its X-Ray copy, so it goes again without it.
                status, answer = post(request_id, body, error_type, "", invocation.invocation_id)
        except (ConnectionLost, ProtocolError) as exc:
            runtime_log("Failed to post invocation error. %s" % (exc,))
            return
        if status >= 300:
            log_refused("invocation error", status, answer)
            if status >= 500:
                sys.exit(1)


def report_init_error(config, transport, exc: BaseException, path: str | None = None) -> None:
    """An init failure: warning line, error log, ``POST /init/error`` — the caller exits."""
    from fastrt import errors  # failures only: kept off the cold start

    info = errors.describe(exc)
    logs.log_init_warning()
    _log_error(info, None)
    body = errors.error_body(info, "", config.ensure_ascii)
    error_type = errors.header_error_type(info.error_type)
    try:
        try:
            status, answer = _post_init_error(transport, body, error_type, path)
        except (ConnectionLost, ProtocolError):
            # A lost verdict: posted once more, as for a response (see Runtime.handle()).
            status, answer = _post_init_error(transport, body, error_type, path)
    except (ConnectionLost, ProtocolError) as exc:
        runtime_log("Failed to post init error. %s" % (exc,))
        return
    if status >= 300:
        log_refused("init error", status, answer)


def _post_init_error(transport, body: bytes, error_type: str, path: str | None) -> tuple:
    if path is None:
        return transport.post_init_error(body, error_type)
    return transport.post_init_error(body, error_type, path)


def log_next_failed(exc: BaseException) -> None:
    """The line of a ``GET /next`` that failed for good (also a worker's, before each retry)."""
    runtime_log("Failed to get next invocation. %s" % (exc,))


def log_refused(what: str, status: int, answer: bytes) -> None:
    """The line of a post the Runtime API answered with an error status, in the native client's words."""
    runtime_log("Failed to post %s. Http response code: %d. %s" % (what, status, answer.decode("utf-8", "replace")))


def runtime_log(message: str) -> None:
    """A line about the runtime itself, in the shape the reference's C++ client prints."""
    import time

    try:
        sys.stdout.write("[ERROR] [%d] LAMBDA_RUNTIME %s\n" % (int(time.time() * 1000), message))
        sys.stdout.flush()
    except Exception:
        # The handler closed or replaced stdout; the runtime must still go on.
        _write_fd1("LAMBDA_RUNTIME %s\n" % message)


def _log_error(info, request_id) -> None:
    """The reference's error log line; a handler that closed or replaced sys.stdout (or fd 1)
    costs the line, never the ``/error`` post that follows (reliability: hostile handlers)."""
    try:
        logs.log_error(info, request_id)
    except Exception:
        _write_fd1("[ERROR] %s: %s\n" % (info.error_type, info.message))


def _write_fd1(text: str) -> None:
    try:
        os.write(1, text.encode("utf-8", "replace"))
    except OSError:
        pass  # fd 1 itself is gone: nothing left to write to
