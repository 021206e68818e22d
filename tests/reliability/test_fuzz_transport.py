"""Fuzzing the transports over a real socket: a tiny in-test server answers each request with
fuzzed bytes and closes the connection.

Property: ``next_invocation()`` returns an Invocation or raises ProtocolError / ConnectionLost,
and returns at all (a watchdog thread turns a hang into a failure); a post returns
``(status, body)`` or raises the same two. A well-framed answer yields exactly its declared
body, and what follows it on the connection stays unread for the next exchange.
"""

from __future__ import annotations

import socket
import threading

import pytest
import re

from hypothesis import assume, given, strategies as st

from fastrt import transport as socket_transport
from fastrt.protocol import Invocation, ProtocolError
from fastrt.transport import ConnectionLost, SocketTransport

from fuzzing import answers, framed_answers, fuzz_settings

HANG_LIMIT_S = 20.0  # far beyond any honest exchange on loopback; only a hang reaches it


class FuzzServer:
    """Accepts connections; answers every request with ``payload`` and closes."""

    def __init__(self) -> None:
        self.payload = b""
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn, self.payload), daemon=True).start()

    def _serve(self, conn: socket.socket, payload: bytes) -> None:
        conn.settimeout(HANG_LIMIT_S)
        try:
            self._exchange(conn, payload)
        except OSError:
            pass
        finally:
            conn.close()

    def _exchange(self, conn: socket.socket, payload: bytes) -> None:
        if _read_until(conn, _has_head) is not None:
            _answer_and_drain(conn, payload)

    def close(self) -> None:
        self.closed = True
        self.listener.close()


def _has_head(data: bytes) -> bool:
    return b"\r\n\r\n" in data


def _read_until(conn: socket.socket, done) -> bytes | None:
    """What the client sends until ``done(data)``; None if it closes first."""
    data = b""
    while not done(data):
        piece = conn.recv(65536)
        if not piece:
            return None
        data += piece
    return data


def _answer_and_drain(conn: socket.socket, payload: bytes) -> None:
    conn.sendall(payload)
    conn.shutdown(socket.SHUT_WR)
    # Drain what the client still sends (a body) so close() does not reset the answer.
    while conn.recv(65536):
        pass


def _transport_classes():
    from fastrt import transport_urllib3

    return {"socket": (SocketTransport, socket_transport), "urllib3": (transport_urllib3.Urllib3Transport, transport_urllib3)}


@pytest.fixture(scope="module")
def server():
    srv = FuzzServer()
    yield srv
    srv.close()


@pytest.fixture(scope="module", params=["socket", "urllib3"])
def client_class(request):
    cls, module = _transport_classes()[request.param]
    saved = module._RETRY_DELAYS_S
    module._RETRY_DELAYS_S = (0.0,) * len(saved)  # retries stay, their sleeps go: fast examples
    yield cls
    module._RETRY_DELAYS_S = saved


# A limit of the urllib3 transport, by design: http.client cannot skip interim answers other
# than 100, so it refuses them as a ProtocolError (the connection is dropped, the loop asks or
# posts again) where the socket transport reads past them. Fuzzed answers starting that way are
# only checked for raising a runtime error, which the test does anyway.
_URLLIB3_KNOWN = re.compile(rb"HTTP/1\.\d 1(0[1-9]|[1-9]\d)", re.IGNORECASE)


def skip_known_urllib3_defects(client_class, payload: bytes) -> None:
    if client_class is not SocketTransport:
        assume(not _URLLIB3_KNOWN.search(payload))


def call_with_watchdog(fn):
    """``("ok", value)`` or ``("raised", exception)``; fails the test if ``fn`` never returns."""
    outcome = []

    def run():
        try:
            outcome.append(("ok", fn()))
        except BaseException as exc:  # noqa: BLE001 — every escape is inspected by the caller
            outcome.append(("raised", exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_LIMIT_S)
    assert outcome, "transport hung on the fuzzed answer"
    return outcome[0]


@fuzz_settings(80)
@given(payload=answers())
def test_next_returns_an_invocation_or_a_runtime_error(server, client_class, payload):
    skip_known_urllib3_defects(client_class, payload)
    server.payload = payload
    client = client_class(server.address, "fuzz")
    try:
        kind, value = call_with_watchdog(client.next_invocation)
    finally:
        client.close()
    if kind == "raised":
        assert isinstance(value, (ProtocolError, ConnectionLost)), repr(value)
    else:
        assert isinstance(value, Invocation) and value.request_id
        assert len(value.body) <= len(payload)


@fuzz_settings(50)
@given(payload=answers())
def test_posts_return_a_status_or_a_runtime_error(server, client_class, payload):
    skip_known_urllib3_defects(client_class, payload)
    server.payload = payload
    client = client_class(server.address, "fuzz")
    try:
        kind, value = call_with_watchdog(lambda: client.post_response("r-1", b'{"ok": 1}', "application/json", None))
    finally:
        client.close()
    if kind == "raised":
        assert isinstance(value, (ProtocolError, ConnectionLost)), repr(value)
    else:
        status, body = value
        assert 200 <= status <= 999 and isinstance(body, bytes) and len(body) <= len(payload)


@fuzz_settings(50)
@given(framed=framed_answers(), tail=st.binary(min_size=1, max_size=40))
def test_socket_transport_reads_exactly_the_declared_body(server, framed, tail):
    raw, body = framed
    server.payload = raw + tail
    client = SocketTransport(server.address, "fuzz")
    try:
        kind, value = call_with_watchdog(client.next_invocation)
        assert kind == "ok", value
        assert value.body == body
        # Nothing past the end of the answer was consumed: it waits for the next exchange.
        assert tail.startswith(client._rest)
    finally:
        client.close()


@pytest.mark.parametrize(
    "payload,expected",
    [
        # A flood of interim answers used to recurse once per answer: RecursionError in pure
        # Python, a segfault in the compiled core.
        (b"HTTP/1.1 100 Continue\r\n\r\n" * 200000, ProtocolError),
        # A 10**17 Content-Length used to be preallocated: MemoryError.
        (b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r\r\nContent-Length: 99999999999999999\r\n\r\n{}", ProtocolError),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", ProtocolError),
    ],
    ids=["interim-flood", "huge-content-length", "switching-protocols"],
)
def test_hostile_answers_found_by_fuzzing(server, client_class, payload, expected, request):
    if client_class is not SocketTransport and payload.startswith(b"HTTP/1.1 100"):
        payload = payload[: len(payload) // 10]  # http.client is slow through 200,000 of them
    server.payload = payload
    client = client_class(server.address, "fuzz")
    try:
        kind, value = call_with_watchdog(client.next_invocation)
    finally:
        client.close()
    assert kind == "raised" and isinstance(value, (ProtocolError, ConnectionLost)), value


def test_interim_answers_and_unknown_2xx_deliver_the_event(server):
    # 103 must not be taken for the answer (the real one would be left unread and every later
    # exchange one answer out of step); a 299 is a success like 200 (RFC 9110 §15; libcurl).
    server.payload = (
        b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
        b"HTTP/1.1 299 Odd\r\nLambda-Runtime-Aws-Request-Id: r-103\r\nContent-Length: 2\r\n\r\n{}"
    )
    client = SocketTransport(server.address, "fuzz")
    try:
        kind, value = call_with_watchdog(client.next_invocation)
    finally:
        client.close()
    assert kind == "ok" and value.request_id == "r-103" and value.body == b"{}"


def test_urllib3_post_refuses_interim_answers_instead_of_misreading_them(server):
    from fastrt.transport_urllib3 import Urllib3Transport

    server.payload = b"HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
    client = Urllib3Transport(server.address, "fuzz")
    try:
        kind, value = call_with_watchdog(lambda: client.post_response("r-1", b"{}", "application/json", None))
    finally:
        client.close()
    # Never taken for the verdict: a runtime error the loop answers by posting again.
    assert kind == "raised" and isinstance(value, (ProtocolError, ConnectionLost)), value


class PipelineServer(FuzzServer):
    """On its first connection: answers a first ``GET /next`` with an event, then waits for the
    post *and* the ``GET /next`` sent with it, and answers both with ``payload`` before closing.
    Later connections (the client's resends) are answered as by :class:`FuzzServer`.

    A client that did not send its ``/next`` ahead would wait for a verdict this server never
    writes: the watchdog turns that into a failure too."""

    EVENT = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r-1\r\nContent-Length: 2\r\n\r\n{}"
    NEXT_LINE = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n"

    def __init__(self) -> None:
        self.scripted = False
        self.pipelined = b""  # what the client sent after the first event
        super().__init__()

    def _exchange(self, conn: socket.socket, payload: bytes) -> None:
        if self.scripted:
            return super()._exchange(conn, payload)
        self.scripted = True
        if _read_until(conn, _has_head) is None:
            return
        conn.sendall(self.EVENT)
        data = _read_until(conn, lambda data: self.NEXT_LINE in data and data.endswith(b"\r\n\r\n"))
        if data is not None:
            self.pipelined = data
            _answer_and_drain(conn, payload)


@fuzz_settings(50)
@given(verdict=answers(), event=answers())
def test_pipelined_next_reads_verdict_then_event_or_raises(verdict, event):
    # Whatever comes back for a post sent with a /next behind it, the verdict and the event are
    # each read once, in order, or a runtime error is raised; nothing hangs.
    server = PipelineServer()
    server.payload = verdict + event
    saved = socket_transport._RETRY_DELAYS_S
    socket_transport._RETRY_DELAYS_S = (0.0,) * len(saved)
    client = SocketTransport(server.address, "fuzz")
    try:
        kind, first = call_with_watchdog(client.next_invocation)
        assert kind == "ok" and first.request_id == "r-1", first
        client.pipeline_next()
        kind, value = call_with_watchdog(lambda: client.post_response("r-1", b'{"ok": 1}', "application/json", None))
        if kind == "raised":
            assert isinstance(value, (ProtocolError, ConnectionLost)), repr(value)
        else:
            status, body = value
            assert 200 <= status <= 999 and len(body) <= len(verdict + event)
        kind, value = call_with_watchdog(client.next_invocation)
        if kind == "raised":
            assert isinstance(value, (ProtocolError, ConnectionLost)), repr(value)
        else:
            assert isinstance(value, Invocation) and value.request_id
    finally:
        client.close()
        server.close()
        socket_transport._RETRY_DELAYS_S = saved


def test_pipelined_verdict_and_event_in_one_segment_are_both_read():
    server = PipelineServer()
    server.payload = (
        b"HTTP/1.1 202 Accepted\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n"
        b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r-2\r\nContent-Length: 7\r\n\r\n{\"n\":2}"
    )
    client = SocketTransport(server.address, "fuzz")
    try:
        assert call_with_watchdog(client.next_invocation)[1].request_id == "r-1"
        client.pipeline_next()
        assert call_with_watchdog(lambda: client.post_response("r-1", b"{}", "application/json", None)) == (
            "ok", (202, b'{"status":"OK"}\n'))
        kind, second = call_with_watchdog(client.next_invocation)
        assert kind == "ok" and second.request_id == "r-2" and bytes(second.body) == b'{"n":2}'
        assert client.connections == 1
        assert server.pipelined.startswith(b"POST /2018-06-01/runtime/invocation/r-1/response HTTP/1.1\r\n")
        assert server.pipelined.endswith(b"{}GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n"
                                                 b"User-Agent: fuzz\r\nAccept: */*\r\n\r\n" % server.address.encode())
    finally:
        client.close()
        server.close()
