"""Server side of HTTP/1.1, sans I/O: an incremental request parser and answer renderers.

Hand-written because the emulator must never be the bottleneck of the benchmark: a runtime's
request usually arrives in one segment, and the common case (head + Content-Length body in one
``feed``) costs a couple of ``find``/``split`` calls.  Keep-alive, Content-Length bodies and
chunked bodies with trailers (response streaming) are supported; pipelined requests come back
in order from one ``feed``.
"""

from __future__ import annotations

import time

# The Runtime API is a Go net/http server: its default MaxHeaderBytes (1 MiB, plus the 4 KiB
# slack Go adds) bounds a head, which is why awslambdaric drops X-Ray causes of 1 MiB or more.
MAX_HEAD = (1 << 20) + 4096

_REASONS = {
    100: "Continue",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}


class HttpError(Exception):
    """The bytes received are not an HTTP/1.1 request we can answer; answer ``status`` and close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Request:
    """One parsed request. Header fields are split out of the raw head only when asked for:
    the hot path needs just a few of them, found with ``bytes.find`` on the lower-cased head."""

    __slots__ = ("method", "path", "version", "head", "lower_head", "body", "trailers", "chunked", "received_at", "_headers")

    def __init__(self, method: str, path: str, version: str, head: bytes) -> None:
        self.method = method
        self.path = path
        self.version = version
        self.head = head  # the header lines, each preceded by CRLF
        self.lower_head = head.lower()
        self.body = b""
        self.trailers: list = []
        self.chunked = False
        self.received_at = 0.0
        self._headers: list | None = None

    @property
    def headers(self) -> list:
        """[(name, value)] with names and order exactly as received."""
        if self._headers is None:
            self._headers = _parse_fields(self.head.split(b"\r\n")[1:]) if self.head else []
        return self._headers

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        value = find_header(self.head, self.lower_head, name.lower().encode("latin-1"))
        return None if value is None else value.decode("latin-1")

    def header_dict(self) -> dict:
        """Lower-cased names -> value; repeated headers are joined with ", " (RFC 9110 §5.3)."""
        return _fold(self.headers)

    def trailer_dict(self) -> dict:
        return _fold(self.trailers)


def find_header(head: bytes, lower_head: bytes, lower_name: bytes) -> bytes | None:
    """Value of the first header named ``lower_name`` in a raw head (lines preceded by CRLF)."""
    at = lower_head.find(b"\r\n" + lower_name + b":")
    if at < 0:
        return None
    start = at + len(lower_name) + 3
    end = head.find(b"\r\n", start)
    return (head[start:] if end < 0 else head[start:end]).strip()


def _fold(pairs: list) -> dict:
    folded: dict = {}
    for key, value in pairs:
        key = key.lower()
        if key in folded:
            folded[key] = folded[key] + ", " + value
        else:
            folded[key] = value
    return folded


def _parse_fields(lines: list) -> list:
    fields = []
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, "malformed header line")
        fields.append((name.decode("latin-1"), value.strip().decode("latin-1")))
    return fields


# Parser states
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _TRAILERS = range(5)


class RequestParser:
    """Feed bytes, get complete :class:`Request` objects back.

    ``partial`` is the request whose head has been read but whose body is still arriving
    (fault injection uses it to drop a connection mid-upload)."""

    __slots__ = ("_buf", "_state", "_need", "_body", "partial", "expect_continue")

    def __init__(self) -> None:
        self._buf = b""
        self._state = _HEAD
        self._need = 0
        self._body: bytearray | None = None
        self.partial: Request | None = None
        self.expect_continue = False

    @property
    def idle(self) -> bool:
        """True between requests with nothing buffered (a clean place to close)."""
        return self._state == _HEAD and not self._buf

    def feed(self, data: bytes) -> list:
        buf = self._buf + data if self._buf else data
        done = []
        pos = 0
        end = len(buf)
        while pos < end:
            state = self._state
            if state == _HEAD:
                cut = buf.find(b"\r\n\r\n", pos)
                if cut < 0:
                    if end - pos > MAX_HEAD:
                        raise HttpError(431, "request head too large")
                    break
                if cut == pos:
                    raise HttpError(400, "empty request line")
                request = self._start(buf[pos:cut])
                pos = cut + 4
                if self._state == _HEAD:
                    done.append(request)
                    continue
                self.partial = request
            elif state == _LENGTH:
                take = min(self._need, end - pos)
                if self._body is None and take == self._need:
                    # whole body available at once: no copy into a bytearray
                    self.partial.body = buf[pos : pos + take]
                    pos += take
                    self._need = 0
                else:
                    if self._body is None:
                        self._body = bytearray()
                    self._body += buf[pos : pos + take]
                    pos += take
                    self._need -= take
                    if self._need:
                        break
                    self.partial.body = bytes(self._body)
                    self._body = None
                done.append(self._finish())
            elif state == _CHUNK_SIZE:
                cut = buf.find(b"\r\n", pos)
                if cut < 0:
                    if end - pos > 1024:
                        raise HttpError(400, "chunk size line too long")
                    break
                size_text = buf[pos:cut].split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise HttpError(400, "bad chunk size") from None
                if size < 0:
                    raise HttpError(400, "bad chunk size")
                pos = cut + 2
                if size == 0:
                    self._state = _TRAILERS
                else:
                    self._need = size + 2  # data and its CRLF
                    self._state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                take = min(self._need, end - pos)
                self._body += buf[pos : pos + take]
                pos += take
                self._need -= take
                if self._need:
                    break
                if self._body[-2:] != b"\r\n":
                    raise HttpError(400, "chunk not terminated by CRLF")
                del self._body[-2:]
                self._state = _CHUNK_SIZE
            else:  # _TRAILERS
                if buf.startswith(b"\r\n", pos):
                    trailer_block = b""
                    pos += 2
                else:
                    cut = buf.find(b"\r\n\r\n", pos)
                    if cut < 0:
                        if end - pos > MAX_HEAD:
                            raise HttpError(431, "trailers too large")
                        break
                    trailer_block = buf[pos:cut]
                    pos = cut + 4
                request = self.partial
                if trailer_block:
                    request.trailers = _parse_fields(trailer_block.split(b"\r\n"))
                request.body = bytes(self._body)
                self._body = None
                done.append(self._finish())
        self._buf = buf[pos:] if pos < end else b""
        return done

    def _start(self, block: bytes) -> Request:
        line_end = block.find(b"\r\n")
        if line_end < 0:
            line_end = len(block)
        parts = block[:line_end].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise HttpError(400, "malformed request line")
        request = Request(
            parts[0].decode("latin-1"), parts[1].decode("latin-1"), parts[2].decode("latin-1"), block[line_end:]
        )
        request.received_at = time.perf_counter()
        head, lower = request.head, request.lower_head
        self.expect_continue = False
        if not lower:
            return request
        if b"\r\ntransfer-encoding:" in lower:
            if find_header(head, lower, b"transfer-encoding").lower() != b"chunked":
                raise HttpError(400, "unsupported Transfer-Encoding")
            request.chunked = True
            self._body = bytearray()
            self._state = _CHUNK_SIZE
            self.partial = request
        elif b"\r\ncontent-length:" in lower:
            value = find_header(head, lower, b"content-length")
            if not value.isdigit() or lower.count(b"\r\ncontent-length:") > 1:
                raise HttpError(400, "bad Content-Length")
            length = int(value)
            if length:
                self._need = length
                self._state = _LENGTH
                self.partial = request
        if b"\r\nexpect:" in lower and find_header(head, lower, b"expect").lower() == b"100-continue":
            self.expect_continue = True
        return request

    def _finish(self) -> Request:
        request = self.partial
        self.partial = None
        self._state = _HEAD
        self.expect_continue = False
        return request


# --- rendering -------------------------------------------------------------------------------

_date_cache = [0, b""]


def http_date() -> bytes:
    """The Date header value, cached per second (Go's net/http, which RIE uses, always sends one)."""
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[0] = now
        _date_cache[1] = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)).encode()
    return _date_cache[1]


def status_line(status: int) -> bytes:
    return b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, "Status").encode())


def render_answer(status: int, headers: list, body: bytes, *, close: bool = False) -> bytes:
    """A complete answer with Content-Length; ``headers`` is a list of (name, value) str pairs."""
    parts = [status_line(status)]
    for name, value in headers:
        parts.append(b"%s: %s\r\n" % (name.encode("latin-1"), value.encode("latin-1")))
    parts.append(b"Date: %s\r\nContent-Length: %d\r\n" % (http_date(), len(body)))
    if close:
        parts.append(b"Connection: close\r\n")
    parts.append(b"\r\n")
    parts.append(body)
    return b"".join(parts)


def render_chunked(body: bytes, pieces: int = 3) -> bytes:
    """``body`` as a chunked message body split in ``pieces`` chunks, with the last-chunk."""
    out = []
    if body:
        step = max(1, -(-len(body) // pieces))
        for start in range(0, len(body), step):
            piece = body[start : start + step]
            out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
    out.append(b"0\r\n\r\n")
    return b"".join(out)
