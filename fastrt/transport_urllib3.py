"""The Runtime API client on urllib3 (``FASTRT_TRANSPORT=urllib3``).

Same interface and resend rule as :class:`fastrt.transport.SocketTransport`, on a one-connection
urllib3 pool. It exists for users who want a full-featured, widely audited HTTP client under
their runtime; it is imported only when chosen, because ``import urllib3`` alone costs several
times the whole start-up of the raw-socket transport (see the bench).
"""

from __future__ import annotations

import http.client

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProtocolError as Urllib3ProtocolError

from fastrt import protocol
from fastrt.protocol import ProtocolError
from fastrt.transport import ConnectionLost, split_address

_NEXT_ATTEMPTS = 6
_RETRY_DELAYS_S = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5)


class Urllib3Transport:
    """A one-connection urllib3 pool: keep-alive, no read timeout, no retries of its own."""

    name = "urllib3"

    def __init__(self, address: str, user_agent: str) -> None:
        self.address = address
        self.user_agent = user_agent
        host, port = split_address(address)
        self.pool = urllib3.HTTPConnectionPool(
            host,
            port,
            maxsize=1,
            block=True,
            retries=False,
            # No total timeout on /next: the sandbox may be frozen for hours.
            timeout=urllib3.Timeout(connect=1.0, read=None),
            headers={"User-Agent": user_agent, "Accept": "*/*"},
        )
        self.pool.ConnectionCls.default_socket_options = _socket_options()

    @property
    def connections(self) -> int:
        return self.pool.num_connections

    def next_invocation(self) -> protocol.Invocation:
        last = None
        for attempt in range(_NEXT_ATTEMPTS):
            if attempt:
                import time

                time.sleep(_RETRY_DELAYS_S[attempt])
            try:
                status, headers, body = self._request("GET", protocol.NEXT_PATH, None, {})
            except (ConnectionLost, ProtocolError) as exc:
                last = exc
                continue
            if not 200 <= status < 300:
                last = ProtocolError("Http Response code: %d" % status)  # the reference's words
                if status >= 500 or status == 403:
                    raise last
                continue
            return protocol.invocation_from(protocol.Head(status, headers, len(body), False, False), body)
        raise last

    def pipeline_next(self) -> None:
        """urllib3 sends one request at a time: ``/next`` always follows the read verdict."""

    def post_response(self, request_id: str, body: bytes, content_type: str, invocation_id: str | None) -> tuple:
        headers = {"Content-Type": content_type}
        if invocation_id is not None:
            headers[protocol.INVOCATION_ID_HEADER] = invocation_id
        path = "/2018-06-01/runtime/invocation/%s/response" % protocol._path_segment(request_id)
        status, _headers, answer = self._request("POST", path, body, headers)
        return status, answer

    def post_error(
        self,
        request_id: str,
        body: bytes,
        error_type: str,
        xray_cause: str,
        invocation_id: str | None,
    ) -> tuple:
        headers = {"Content-Type": "application/json", protocol.ERROR_TYPE_HEADER: error_type}
        if invocation_id is not None:
            headers[protocol.INVOCATION_ID_HEADER] = invocation_id
        if xray_cause:
            headers["Lambda-Runtime-Function-XRay-Error-Cause"] = xray_cause
        path = "/2018-06-01/runtime/invocation/%s/error" % protocol._path_segment(request_id)
        status, _headers, answer = self._request("POST", path, body, headers)
        return status, answer

    def post_init_error(self, body: bytes, error_type: str, path: str = protocol.INIT_ERROR_PATH) -> tuple:
        headers = {"Content-Type": "application/json", protocol.ERROR_TYPE_HEADER: error_type}
        status, _headers, answer = self._request("POST", path, body, headers)
        return status, answer

    def get(self, path: str) -> tuple:
        status, _headers, answer = self._request("GET", path, None, {})
        return status, answer

    def open_stream(self, request_id: str, content_type: str, invocation_id: str | None):
        """Start a streamed response on a connection taken from the pool."""
        conn = self.pool._get_conn()
        path = "/2018-06-01/runtime/invocation/%s/response" % protocol._path_segment(request_id)
        try:
            conn.putrequest("POST", path, skip_accept_encoding=True)
            conn.putheader("User-Agent", self.user_agent)
            conn.putheader("Accept", "*/*")
            conn.putheader("Content-Type", content_type)
            conn.putheader("Lambda-Runtime-Function-Response-Mode", "streaming")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.putheader("Trailer", "%s, %s" % (protocol.ERROR_TYPE_HEADER, protocol.ERROR_BODY_TRAILER))
            if invocation_id is not None:
                conn.putheader(protocol.INVOCATION_ID_HEADER, invocation_id)
            conn.endheaders()
        except (OSError, HTTPError) as exc:
            conn.close()
            self.pool._put_conn(conn)
            raise ConnectionLost("Runtime API connection lost: %s" % (exc,))
        return _Urllib3Stream(self.pool, conn)

    def close(self) -> None:
        self.pool.close()

    def _request(self, method: str, path: str, body, headers: dict) -> tuple:
        for attempt in range(2):
            try:
                response = self.pool.urlopen(
                    method,
                    path,
                    body=body,
                    headers=dict(self.pool.headers, **headers),
                    retries=False,
                    redirect=False,
                    preload_content=False,
                    release_conn=False,
                    assert_same_host=False,
                )
            except NewConnectionError as exc:
                raise ConnectionLost("cannot connect to Runtime API %s: %s" % (self.address, exc))
            except Urllib3ProtocolError as exc:
                # RemoteDisconnected / reset before any answer byte: the stale keep-alive case.
                if attempt == 0 and _nothing_answered(exc):
                    continue
                raise ConnectionLost("Runtime API connection lost: %s" % (exc,))
            except HTTPError as exc:
                raise ProtocolError("Runtime API answer unreadable: %s" % (exc,))
            return self._read(response)
        raise AssertionError("unreachable")

    @staticmethod
    def _read(response) -> tuple:
        """Status, headers and body of an answer; the connection is dropped if out of step."""
        connection = response.connection  # taken now: urllib3 lets go of it once the body is read
        try:
            if response.status < 200:
                # http.client hands over interim answers other than 100 as if final; the real
                # answer is then still unread on the connection, so it cannot be reused.
                raise ProtocolError("interim HTTP %d answer where a final one was due" % response.status)
            # Streamed in pieces: a hostile Content-Length must not become one huge allocation.
            data = b"".join(response.stream(65536, decode_content=False))
        except ProtocolError:
            _close(connection)
            raise
        except (HTTPError, OSError) as exc:
            _close(connection)
            raise ProtocolError("Runtime API answer unreadable: %s" % (exc,))
        finally:
            response.release_conn()
        headers = {name.lower(): value for name, value in response.headers.items()}
        return response.status, headers, data


class _Urllib3Stream:
    def __init__(self, pool, conn) -> None:
        self._pool = pool
        self._conn = conn
        self.bytes_sent = 0

    def write(self, data: bytes) -> None:
        if data:
            self._conn.send(protocol.chunk(data))
            self.bytes_sent += len(data)

    def finish(self, trailers: list | None = None) -> tuple:
        conn = self._conn
        try:
            conn.send(protocol.last_chunk(trailers))
            # urllib3's own getresponse() only follows its request(); the head went out
            # through putrequest(), so http.client's reads the answer.
            response = http.client.HTTPConnection.getresponse(conn)
            return response.status, response.read()
        except (OSError, HTTPError) as exc:
            conn.close()
            raise ConnectionLost("Runtime API connection lost while streaming: %s" % (exc,))
        finally:
            self._pool._put_conn(conn)

    def abort(self) -> None:
        """Give up on a half-sent body: the connection is out of step, so it is dropped."""
        self._conn.close()
        self._pool._put_conn(self._conn)


def _close(connection) -> None:
    if connection is not None:
        connection.close()


def _nothing_answered(exc: Exception) -> bool:
    import http.client

    cause = exc.args[1] if len(exc.args) > 1 else exc.__cause__
    return isinstance(cause, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))


def _socket_options() -> list:
    import socket

    return [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
