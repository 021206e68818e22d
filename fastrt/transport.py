"""One persistent keep-alive HTTP/1.1 connection to the Runtime API, on a raw socket.

The Runtime API is plain HTTP on loopback with a fixed set of headers, so a few dozen lines
over ``_socket`` do what libcurl does for awslambdaric, without the import cost of ``socket``
(which pulls in ``enum`` and ``selectors``) or of an HTTP library. ``FASTRT_TRANSPORT=urllib3``
selects the urllib3 variant in :mod:`fastrt.transport_urllib3`, which has the same interface.

Resend rule: a request is sent again, once, on a fresh connection only when the old
connection failed before a single byte of its answer arrived — the case of a keep-alive
connection the server closed while we were idle. ``GET /next`` may always be asked again.

Pipelining: once the loop allows it (:meth:`SocketTransport.pipeline_next`), a small answer to
a small event goes out in the same write as the next ``GET /next`` — one syscall and one
wake-up of the Runtime API fewer per event. HTTP/1.1 answers come back in request order, so
the post's verdict is read first and the event is read by the next ``next_invocation``. While
that ``/next`` waits on the connection, any other request (the ``/error`` that follows a 413)
goes on a short-lived connection of its own: queued behind the ``/next`` it would never be read.
"""

import _socket

from fastrt import protocol
from fastrt.protocol import ProtocolError, invocation_from, parse_head

# Small bodies are sent in the same write as their head: one syscall, one TCP segment.
_COALESCE_LIMIT = 65536
_RECV_SIZE = 65536
# A body up to this size is read into one buffer allocated up front; a larger declared
# Content-Length is believed only as its bytes arrive, so a hostile or corrupt length
# (e.g. 10**17) cannot raise MemoryError or reserve memory for bytes never sent.
_PREALLOC_LIMIT = 16 * 1024 * 1024
# Interim (1xx) answers skipped before the real one; more is a peer in a loop, not HTTP.
_MAX_INTERIM_ANSWERS = 8
_CONNECT_TIMEOUT_S = 1.0
# GET /next is retried this many times (with the delays below) before the runtime gives up.
_NEXT_ATTEMPTS = 6
_RETRY_DELAYS_S = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5)


class ConnectionLost(Exception):
    """The connection to the Runtime API failed and could not be restored."""


def split_address(address: str) -> tuple:
    """``host:port`` (or ``[v6]:port``) of AWS_LAMBDA_RUNTIME_API -> ``(host, port)``."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else "80"
    else:
        host, _, port = address.rpartition(":")
        if not host:
            host, port = port, "80"
    if not port.isdigit():
        raise ValueError("AWS_LAMBDA_RUNTIME_API %r has no valid port" % address)
    return host, int(port)


class SocketTransport:
    """The Runtime API client used by the loop; every method does one request/answer."""

    name = "socket"

    def __init__(self, address: str, user_agent: str) -> None:
        self.address = address
        self.user_agent = user_agent
        self.host, self.port = split_address(address)
        self.connections = 0  # how many TCP connections were opened (tests, --version)
        self._render = protocol.Renderer(address, user_agent)
        self._next_request = self._render.next_request
        self._sock = None
        self._rest = b""
        self._answered = False
        self._pipelining = False  # set by pipeline_next()
        self._next_sent = False  # a GET /next is on the wire, its answer not yet read
        self._event_small = False  # the last event fits one write: cheap to finish after /next

    # --- the endpoints -----------------------------------------------------------------------

    def next_invocation(self) -> protocol.Invocation:
        """Long-poll ``GET /next`` (no timeout: the sandbox may be frozen for hours)."""
        last = None
        for attempt in range(_NEXT_ATTEMPTS):
            if attempt:
                _sleep(_RETRY_DELAYS_S[attempt])
            try:
                # None: the request went out ahead, with the previous answer; only read its answer.
                head, body = self._exchange(None if self._next_sent else self._next_request, None)
            except (ConnectionLost, ProtocolError) as exc:
                # Nothing was handed to the handler yet, so asking again is always safe.
                last = exc
                self.close()
                continue
            # Any 2xx is success, as in libcurl's client (an unknown 2xx means 200, RFC 9110
            # §15): discarding a "299" would lose an event the Runtime API counts as delivered.
            if not 200 <= head.status < 300:
                last = ProtocolError("Http Response code: %d" % head.status)  # the reference's words
                if head.status >= 500 or head.status == 403:
                    raise last
                continue
            self._event_small = len(body) <= _COALESCE_LIMIT
            return invocation_from(head, body)
        raise last

    def pipeline_next(self) -> None:
        """From now on, send ``GET /next`` with each small answer (see the module's docstring).

        The loop calls this once its one-time work after the first answer is done: work left
        after ``/next`` has gone out may run after the platform has frozen the sandbox, so only
        cheap work may follow it — hence also the size limits of :meth:`_ahead`.
        """
        self._pipelining = True

    def post_response(self, request_id: str, body: bytes, content_type: str, invocation_id: str | None) -> tuple:
        head = self._render.response_head(request_id, content_type, len(body), invocation_id)
        return self._post(head, body, self._ahead(body))

    def post_error(
        self,
        request_id: str,
        body: bytes,
        error_type: str,
        xray_cause: str,
        invocation_id: str | None,
    ) -> tuple:
        head = self._render.error_head(request_id, len(body), error_type, xray_cause, invocation_id)
        return self._post(head, body, self._ahead(body))

    def post_init_error(self, body: bytes, error_type: str, path: str = protocol.INIT_ERROR_PATH) -> tuple:
        head = self._render.init_error_head(len(body), error_type, path)
        return self._post(head, body)

    def get(self, path: str) -> tuple:
        """A plain GET (``/restore/next``); returns ``(status, body)``."""
        return self._post(self._render.get_request(path), None)

    def open_stream(self, request_id: str, content_type: str, invocation_id: str | None):
        """Start a streamed response; returns a :class:`Stream` to write chunks to."""
        head = self._render.streaming_head(request_id, content_type, invocation_id)
        self._send(head, None)
        return Stream(self)

    def close(self) -> None:
        sock = self._sock
        self._sock = None
        self._rest = b""
        self._next_sent = False  # gone with the connection: the next /next is sent afresh
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    # --- the HTTP exchange -------------------------------------------------------------------

    def _post(self, head: bytes, body, ahead: bytes | None = None) -> tuple:
        answer_head, answer = self._exchange(head, body, ahead)
        return answer_head.status, answer

    def _ahead(self, body) -> bytes | None:
        """The ``/next`` request to send with this answer, or None to send it after the verdict."""
        if self._pipelining and self._event_small and len(body) <= _COALESCE_LIMIT:
            return self._next_request
        return None

    def _exchange(self, head: bytes | None, body, ahead: bytes | None = None) -> tuple:
        """Send a request and read its answer; ``head=None`` reads the answer of the ``/next``
        already sent, and ``ahead`` is a request sent in the same write, answered next."""
        if head is not None and self._next_sent:
            return self._exchange_aside(head, body)
        for attempt in range(2):
            if self._sock is None:
                self._connect()
            self._answered = False
            try:
                if head is None:
                    self._next_sent = False
                else:
                    self._send(head, body, ahead)
                    self._next_sent = ahead is not None
                return self._read_answer()
            except ProtocolError:
                self.close()  # the stream is out of step: never reuse it
                raise
            except (OSError, EOFError) as exc:
                # Resent only when no byte of its answer arrived (the request may have counted).
                answered = self._answered
                self.close()
                if answered or attempt:
                    raise ConnectionLost("Runtime API connection lost: %s" % (exc,))
                if head is None:
                    head = self._next_request  # the /next sent ahead is asked again, as any /next
        raise AssertionError("unreachable")

    def _exchange_aside(self, head: bytes, body) -> tuple:
        # A /next waits on the main connection, and answers come in request order: this one
        # takes a connection of its own, closed after, and the main one is left as it was.
        sock, rest = self._sock, self._rest
        self._sock = None
        self._rest = b""
        self._next_sent = False
        try:
            return self._exchange(head, body)
        finally:
            self.close()
            self._sock, self._rest, self._next_sent = sock, rest, True

    def _connect(self) -> None:
        host, port = self.host, self.port
        error = None
        try:
            # An ASCII host goes as bytes: a str would be IDNA-encoded, which imports
            # encodings.idna, stringprep and re — milliseconds of every cold start.
            infos = _socket.getaddrinfo(host.encode() if host.isascii() else host, port, 0, _socket.SOCK_STREAM)
        except OSError as exc:
            raise ConnectionLost("cannot resolve Runtime API %s: %s" % (self.address, exc))
        for family, kind, proto, _name, sockaddr in infos:
            sock = _socket.socket(family, kind, proto)
            try:
                sock.settimeout(_CONNECT_TIMEOUT_S)
                sock.connect(sockaddr)
                sock.settimeout(None)
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            except OSError as exc:
                error = exc
                sock.close()
                continue
            self._sock = sock
            self._rest = b""
            self.connections += 1
            return
        raise ConnectionLost("cannot connect to Runtime API %s: %s" % (self.address, error))

    def _send(self, head: bytes, body, ahead: bytes | None = None) -> None:
        sock = self._sock
        if sock is None:
            self._connect()
            sock = self._sock
        if ahead is not None:  # only with a body small enough to coalesce (see _ahead)
            sock.sendall(b"".join((head, body, ahead)))
        elif body is None or not len(body):
            sock.sendall(head)
        elif len(body) <= _COALESCE_LIMIT:
            sock.sendall(head + body)
        else:
            sock.sendall(head)
            sock.sendall(body)

    def _read_answer(self) -> tuple:
        sock = self._sock
        buf = self._rest
        self._rest = b""
        # Interim 1xx answers (100 Continue, 103 Early Hints...) are skipped in a bounded loop:
        # reading a 103 as the final answer would leave the real one unread and put every
        # later exchange one answer out of step, and recursing per interim answer let a flood
        # of them overflow the stack (reliability fuzzing: RecursionError / SIGSEGV compiled).
        interim = 0
        while True:
            scanned = 0
            while True:
                end = buf.find(b"\r\n\r\n", scanned)
                if end >= 0:
                    break
                if len(buf) > protocol.MAX_HEAD_BYTES:
                    raise ProtocolError("answer head exceeds %d bytes" % protocol.MAX_HEAD_BYTES)
                scanned = len(buf) - 3 if len(buf) > 3 else 0
                data = sock.recv(_RECV_SIZE)
                if not data:
                    # EOFError, the builtin for "the peer closed": turned into ConnectionLost.
                    raise EOFError("connection closed by the Runtime API")
                self._answered = True
                buf = buf + data if buf else data
            head = parse_head(buf[:end])
            start = end + 4
            if head.status >= 200:
                break
            if head.status == 101 or interim == _MAX_INTERIM_ANSWERS:
                raise ProtocolError("unexpected interim answer HTTP %d" % head.status)
            interim += 1
            buf = buf[start:]
        if head.chunked:
            body, rest = self._read_chunked(buf[start:])
        elif head.content_length >= 0:
            stop = start + head.content_length
            if len(buf) >= stop:
                body = buf[start:stop]
                rest = buf[stop:]
            else:
                body = self._read_exact(buf[start:], head.content_length)
                rest = b""
        else:
            body = self._read_until_close(buf[start:])
            head.close = True
            rest = b""
        if head.close:
            self.close()
        else:
            self._rest = rest
        return head, body

    def _read_exact(self, prefix: bytes, size: int) -> bytes:
        if size > _PREALLOC_LIMIT:
            return self._read_exact_unbounded(prefix, size)
        # Large bodies land straight in one preallocated buffer: no re-joining of pieces.
        body = bytearray(size)
        have = len(prefix)
        body[:have] = prefix
        view = memoryview(body)
        sock = self._sock
        while have < size:
            got = sock.recv_into(view[have:], size - have)
            if not got:
                raise ProtocolError("connection closed after %d of %d body bytes" % (have, size))
            have += got
        view.release()
        # The bytearray itself: orjson reads it as is, and copying it would double the
        # peak memory of a large event (the marshaller makes bytes of it only when needed).
        return body

    def _read_exact_unbounded(self, prefix: bytes, size: int) -> bytes:
        # Beyond any real event size: memory grows only with the bytes that really arrive.
        parts = [prefix]
        have = len(prefix)
        sock = self._sock
        while have < size:
            data = sock.recv(min(_RECV_SIZE, size - have))
            if not data:
                raise ProtocolError("connection closed after %d of %d body bytes" % (have, size))
            parts.append(data)
            have += len(data)
        return b"".join(parts)

    def _read_chunked(self, data: bytes) -> tuple:
        decoder = protocol.ChunkedDecoder()
        rest = decoder.feed(data)
        sock = self._sock
        while not decoder.done:
            data = sock.recv(_RECV_SIZE)
            if not data:
                raise ProtocolError("connection closed inside a chunked body")
            rest = decoder.feed(data)
        return decoder.body(), rest

    def _read_until_close(self, prefix: bytes) -> bytes:
        parts = [prefix]
        sock = self._sock
        while True:
            data = sock.recv(_RECV_SIZE)
            if not data:
                return b"".join(parts)
            parts.append(data)


class Stream:
    """A response being streamed with chunked encoding (``@fastrt.streaming`` handlers)."""

    def __init__(self, transport: SocketTransport) -> None:
        self._transport = transport
        self.bytes_sent = 0

    def write(self, data: bytes) -> None:
        if data:
            self._transport._sock.sendall(protocol.chunk(data))
            self.bytes_sent += len(data)

    def finish(self, trailers: list | None = None) -> tuple:
        """End the body (with error trailers if the handler failed) and read the answer."""
        transport = self._transport
        try:
            transport._sock.sendall(protocol.last_chunk(trailers))
            transport._answered = False
            head, body = transport._read_answer()
        except (OSError, EOFError) as exc:
            transport.close()
            raise ConnectionLost("Runtime API connection lost while streaming: %s" % (exc,))
        return head.status, body

    def abort(self) -> None:
        """Give up on a half-sent body: the connection is out of step, so it is dropped."""
        self._transport.close()


def _sleep(seconds: float) -> None:
    if seconds:
        import time  # only on the retry path

        time.sleep(seconds)
