"""Response streaming: a handler's chunks go to the caller as they are produced.

A handler marked with :func:`streaming` returns (or is) an iterable of ``bytes``/``str``
chunks — a generator, an async generator, a list, a single ``bytes`` value. The loop hands
the result to :func:`send`, which posts it as AWS documents for custom runtimes: one
``POST /response`` with ``Lambda-Runtime-Function-Response-Mode: streaming`` and a chunked
body, one chunk per item, written as soon as the item exists. Nothing is buffered, so a
stream of any length runs in flat memory.

Failures follow one rule: before the first byte is on the wire the failure is an ordinary
invocation error (the loop posts ``/error``); after that, the body is ended with the
trailers ``Lambda-Runtime-Function-Error-Type`` and ``Lambda-Runtime-Function-Error-Body``
(the usual error JSON, base64).

For Lambda function URLs (HTTP integrations) return :class:`HttpResponse`: its status,
headers and cookies go first as the JSON "prelude" and eight NUL bytes, with the content
type ``application/vnd.awslambda.http-integration-response``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing where a handler imports this
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar, overload

    _Handler = TypeVar("_Handler", bound=Callable[..., object])

    # The signatures type checkers see; the implementation is the function below.
    @overload  # type: ignore[no-overload-impl]
    def streaming(handler: _Handler, *, content_type: str = ...) -> _Handler: ...
    @overload
    def streaming(handler: None = None, *, content_type: str = ...) -> Callable[[_Handler], _Handler]: ...


DEFAULT_CONTENT_TYPE = "application/octet-stream"
HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
# Ends the JSON prelude of an HTTP integration response.
PRELUDE_DELIMITER = b"\0" * 8
# A single huge chunk is sent in slices of this size, so framing it never copies it whole.
MAX_CHUNK_BYTES = 1 << 20

ERROR_TYPE_TRAILER = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body"


def streaming(handler=None, *, content_type=DEFAULT_CONTENT_TYPE):  # type: ignore[no-redef]
    """Mark ``handler`` as a streaming handler: ``@fastrt.streaming`` or
    ``@fastrt.streaming(content_type="text/event-stream")``.

    The function itself is returned, marked, so ``async def`` handlers stay recognisable as
    such; objects that refuse attributes (bound methods) are wrapped.
    """
    if handler is None:
        return lambda fn: streaming(fn, content_type=content_type)
    try:
        handler.__fastrt_streaming__ = True
        handler.__fastrt_content_type__ = content_type
    except (AttributeError, TypeError):
        handler = _MarkedHandler(handler, content_type)
    return handler


class _MarkedHandler:
    """A streaming mark for callables that take no attributes (e.g. bound methods)."""

    def __init__(self, handler, content_type: str) -> None:
        self.handler = handler
        self.__fastrt_streaming__ = True
        self.__fastrt_content_type__ = content_type
        # handler.adapt() reads __code__ to recognise async handlers.
        self.__code__ = getattr(handler, "__code__", None)

    def __call__(self, event, context):
        return self.handler(event, context)


class HttpResponse:
    """A streamed answer to a function URL: status, headers and cookies, then ``body``.

    ``body`` is anything a streaming handler may return (an iterable of chunks, an async
    iterable, ``bytes``, ``str``).
    """

    __slots__ = ("body", "status_code", "headers", "cookies")

    def __init__(
        self,
        body: object = b"",
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        cookies: list[str] | None = None,
    ) -> None:
        self.body = body
        self.status_code = status_code
        self.headers = headers
        self.cookies = cookies

    def prelude(self) -> bytes:
        """The JSON metadata and its delimiter, as the function URL front end expects them."""
        import json  # only HTTP-integration streams need it

        metadata: dict[str, object] = {"statusCode": self.status_code}
        if self.headers:
            metadata["headers"] = dict(self.headers)
        if self.cookies:
            metadata["cookies"] = list(self.cookies)
        return json.dumps(metadata, separators=(",", ":")).encode("utf-8") + PRELUDE_DELIMITER


def send(runtime, invocation, result) -> None:
    """Stream ``result`` as the response to ``invocation``; never raises once streaming began.

    Raises (so that the loop posts an ordinary ``/error``) only when the result cannot be
    streamed at all or the handler fails before producing its first chunk.
    """
    content_type = getattr(runtime.handler, "__fastrt_content_type__", None) or DEFAULT_CONTENT_TYPE
    head = b""
    if isinstance(result, HttpResponse):
        content_type = HTTP_INTEGRATION_CONTENT_TYPE
        head = result.prelude()
        result = result.body
    chunks = _iterate(result)
    # The first chunk is produced before the request is opened: a handler that fails at
    # once gets a plain error response, with the status code the caller expects.
    try:
        first = _next_chunk(chunks)
    except BaseException:
        _close(chunks)
        raise
    request_id = invocation.request_id
    try:
        stream = runtime.transport.open_stream(request_id, content_type, invocation.invocation_id)
    except Exception as exc:
        _close(chunks)
        _connection_failed(exc)
        return
    failure = None
    try:
        if head:
            stream.write(head)
        chunk = first
        while chunk is not None:
            _write(stream, chunk)
            try:
                chunk = _next_chunk(chunks)
            except Exception as exc:
                failure = exc
                break
    except Exception as exc:
        # The Runtime API connection broke mid-body: nothing more can be said about this
        # event; the loop's next /next opens a fresh connection.
        _close(chunks)
        stream.abort()
        _connection_failed(exc)
        return
    _close(chunks)
    trailers = None if failure is None else _error_trailers(runtime, request_id, failure)
    try:
        status, answer = stream.finish(trailers)
    except Exception as exc:
        _connection_failed(exc)  # the transport has dropped the connection already
        return
    if status >= 300:
        from fastrt.loop import runtime_log

        runtime_log(
            "Failed to post handler streaming response. Http response code: %d. %s"
            % (status, answer.decode("utf-8", "replace"))
        )


def _iterate(result):
    """An iterator over the chunks of ``result``; TypeError for what cannot be streamed."""
    if isinstance(result, (bytes, bytearray, memoryview, str)):
        return iter((result,))
    if result is None:
        return iter(())
    if hasattr(result, "__aiter__"):
        from fastrt import aio

        return aio.iterate(result)
    try:
        return iter(result)
    except TypeError:
        raise TypeError(
            "a streaming handler must return bytes, str or an iterable of them, not %s" % type(result).__name__
        ) from None


def _next_chunk(chunks):
    """The next chunk as bytes (empty chunks skipped), or None at the end."""
    for item in chunks:
        if isinstance(item, str):
            item = item.encode("utf-8")
        elif not isinstance(item, (bytes, bytearray, memoryview)):
            raise TypeError("a streaming handler must yield bytes or str, not %s" % type(item).__name__)
        if len(item):
            return item
    return None


def _write(stream, data) -> None:
    if len(data) <= MAX_CHUNK_BYTES:
        stream.write(data)
        return
    view = memoryview(data)
    try:
        for start in range(0, len(view), MAX_CHUNK_BYTES):
            stream.write(view[start : start + MAX_CHUNK_BYTES])
    finally:
        view.release()


def _error_trailers(runtime, request_id: str, exc: BaseException) -> list:
    """Log the failure like any invocation error and render it as the two trailers."""
    import binascii  # a built-in module: no import cost worth deferring further

    from fastrt import errors, logs

    info = errors.describe(exc)
    logs.log_error(info, request_id)
    body = errors.error_body(info, request_id, runtime.config.ensure_ascii)
    return [
        (ERROR_TYPE_TRAILER, errors.header_error_type(info.error_type)),
        (ERROR_BODY_TRAILER, binascii.b2a_base64(body, newline=False).decode("ascii")),
    ]


def _connection_failed(exc: BaseException) -> None:
    from fastrt.loop import runtime_log

    runtime_log("Failed to post handler streaming response. %s: %s" % (type(exc).__name__, exc))


def _close(chunks) -> None:
    # Runs the generator's finally blocks now rather than whenever it is collected.
    close = getattr(chunks, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            pass
