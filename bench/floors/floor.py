"""The floor: the least a Runtime API client can do per event.

One keep-alive socket, request bytes prepared once, the event echoed back as raw bytes (no JSON).
Its numbers are the physical limit of this machine's loopback and the emulator; every other row
is compared against it. ``floor_orjson.py`` reuses ``serve`` with an orjson round trip.
"""

import _socket
import os

_HEADER_END = b"\r\n\r\n"


class _Reader:
    """Reads HTTP/1.1 responses that carry a Content-Length from one socket."""

    def __init__(self, sock):
        self._sock = sock
        self._pending = b""

    def response(self):
        pending = self._pending
        while _HEADER_END not in pending:
            pending += self._sock.recv(65536)
        head, _, pending = pending.partition(_HEADER_END)
        length = int(_field(head, b"content-length") or 0)
        if len(pending) >= length:
            self._pending = pending[length:]
            return head, pending[:length]
        body = bytearray(length)
        view = memoryview(body)
        view[: len(pending)] = pending
        filled = len(pending)
        while filled < length:
            filled += self._sock.recv_into(view[filled:])
        self._pending = b""
        return head, body


def _field(head, name):
    """The value of header ``name`` (lower case), found case-insensitively, its own case kept."""
    start = head.lower().find(b"\r\n" + name + b":")
    if start < 0:
        return None
    start += len(name) + 3
    end = head.find(b"\r\n", start)
    return head[start : end if end >= 0 else len(head)].strip()


def serve(transform=None):
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    host, port = api.rsplit(":", 1)
    sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
    sock.connect((host, int(port)))
    reader = _Reader(sock)
    next_request = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: " + api.encode() + b"\r\n\r\n"
    post_prefix = b"POST /2018-06-01/runtime/invocation/"
    post_middle = b"/response HTTP/1.1\r\nHost: " + api.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
    while True:
        sock.sendall(next_request)
        head, body = reader.response()
        request_id = _field(head, b"lambda-runtime-aws-request-id")
        if transform is not None:
            body = transform(body)
        header = b"%s%s%s%d\r\n\r\n" % (post_prefix, request_id, post_middle, len(body))
        sock.sendmsg([header, body])
        reader.response()


if __name__ == "__main__":
    serve()
