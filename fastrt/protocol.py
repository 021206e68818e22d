"""The Runtime API wire format, without I/O.

Requests are rendered to bytes by one small function per endpoint; answers are parsed from
bytes by :func:`parse_head` and :class:`ChunkedDecoder`. Nothing here touches a socket, so
every rule can be unit-tested (and fuzzed) on plain byte strings. The transport does the I/O.

Compiled by Cython with ``protocol.pxd`` beside it; runs unchanged as plain Python.
"""

from __future__ import annotations

API_VERSION = "2018-06-01"
NEXT_PATH = "/2018-06-01/runtime/invocation/next"
INIT_ERROR_PATH = "/2018-06-01/runtime/init/error"
RESTORE_NEXT_PATH = "/2018-06-01/runtime/restore/next"
RESTORE_ERROR_PATH = "/2018-06-01/runtime/restore/error"

# A head longer than this is not a Runtime API answer; refusing it bounds memory and time.
MAX_HEAD_BYTES = 65536
# Chunk-size lines longer than this are garbage (16 hex digits already exceed any real size).
MAX_CHUNK_LINE = 1024
# What strtoul returns for a deadline too large for it (the reference parses it that way).
_ULONG_MAX = 18446744073709551615

# Header names the runtime reads from /next, lower-cased (contract §1.3).
H_REQUEST_ID = "lambda-runtime-aws-request-id"
H_DEADLINE = "lambda-runtime-deadline-ms"
H_FUNCTION_ARN = "lambda-runtime-invoked-function-arn"
H_TRACE_ID = "lambda-runtime-trace-id"
H_CLIENT_CONTEXT = "lambda-runtime-client-context"
H_COGNITO_IDENTITY = "lambda-runtime-cognito-identity"
H_TENANT_ID = "lambda-runtime-aws-tenant-id"
H_INVOCATION_ID = "lambda-runtime-invocation-id"
H_CONTENT_TYPE = "content-type"
H_CONTENT_LENGTH = "content-length"
H_TRANSFER_ENCODING = "transfer-encoding"
H_CONNECTION = "connection"

ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY_TRAILER = "Lambda-Runtime-Function-Error-Body"


class ProtocolError(Exception):
    """The Runtime API sent something that is not a valid HTTP/1.1 answer."""


class Invocation:
    """One event as ``GET /next`` delivered it: the headers of contract §1.3 and the body."""

    def __init__(
        self,
        request_id: str,
        deadline_ms: int,
        function_arn: str,
        trace_id: str | None,
        client_context: str | None,
        cognito_identity: str | None,
        tenant_id: str | None,
        invocation_id: str | None,
        content_type: str | None,
        body: bytes,
    ) -> None:
        self.request_id = request_id
        self.deadline_ms = deadline_ms
        self.function_arn = function_arn
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.tenant_id = tenant_id
        self.invocation_id = invocation_id
        self.content_type = content_type
        self.body = body

    def __repr__(self) -> str:
        return "Invocation(request_id=%r, content_type=%r, %d bytes)" % (
            self.request_id,
            self.content_type,
            len(self.body),
        )


class Head:
    """The status line and headers of one answer, with the framing already decided."""

    def __init__(self, status: int, headers: dict, content_length: int, chunked: bool, close: bool) -> None:
        self.status = status
        self.headers = headers
        self.content_length = content_length
        self.chunked = chunked
        self.close = close


# --- rendering requests -------------------------------------------------------------------


class Renderer:
    """Renders every request of one runtime; the fixed header block is encoded once."""

    def __init__(self, host: str, user_agent: str) -> None:
        # Host, User-Agent and Accept never change, so each request is one %-format of bytes.
        self._common = ("Host: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n" % (host, user_agent)).encode("latin-1")
        self.next_request = b"GET " + NEXT_PATH.encode() + b" HTTP/1.1\r\n" + self._common + b"\r\n"

    def response_head(self, request_id: str, content_type: str, length: int, invocation_id: str | None) -> bytes:
        """Head of ``POST /{id}/response`` for a buffered body of ``length`` bytes."""
        return b"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\n%sContent-Type: %s\r\n%sContent-Length: %d\r\n\r\n" % (
            _path_segment(request_id).encode(),
            self._common,
            content_type.encode("latin-1"),
            _invocation_id_line(invocation_id),
            length,
        )

    def error_head(
        self,
        request_id: str,
        length: int,
        error_type: str,
        xray_cause: str,
        invocation_id: str | None,
    ) -> bytes:
        """Head of ``POST /{id}/error``; the X-Ray cause is omitted when empty, as curl drops it."""
        cause = b"Lambda-Runtime-Function-XRay-Error-Cause: %s\r\n" % xray_cause.encode("latin-1") if xray_cause else b""
        return (
            b"POST /2018-06-01/runtime/invocation/%s/error HTTP/1.1\r\n%sContent-Type: application/json\r\n"
            b"Lambda-Runtime-Function-Error-Type: %s\r\n%s%sContent-Length: %d\r\n\r\n"
            % (
                _path_segment(request_id).encode(),
                self._common,
                error_type.encode("latin-1"),
                _invocation_id_line(invocation_id),
                cause,
                length,
            )
        )

    def init_error_head(self, length: int, error_type: str, path: str = INIT_ERROR_PATH) -> bytes:
        """Head of ``POST /init/error`` (or ``/restore/error`` with ``path``)."""
        return (
            b"POST %s HTTP/1.1\r\n%sContent-Type: application/json\r\n"
            b"Lambda-Runtime-Function-Error-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (path.encode(), self._common, error_type.encode("latin-1"), length)
        )

    def get_request(self, path: str) -> bytes:
        """A plain ``GET`` (``/restore/next``)."""
        return b"GET %s HTTP/1.1\r\n%s\r\n" % (path.encode(), self._common)

    def streaming_head(self, request_id: str, content_type: str, invocation_id: str | None) -> bytes:
        """Head of a streamed ``POST /{id}/response``: chunked, with the error trailers announced."""
        return (
            b"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\n%sContent-Type: %s\r\n"
            b"Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"
            b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n%s\r\n"
            % (
                _path_segment(request_id).encode(),
                self._common,
                content_type.encode("latin-1"),
                _invocation_id_line(invocation_id),
            )
        )


def _invocation_id_line(invocation_id: str | None) -> bytes:
    # Echoed back so the platform can refuse an answer meant for another invocation.
    if invocation_id is None:
        return b""
    return b"Lambda-Runtime-Invocation-Id: %s\r\n" % invocation_id.encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body; empty data renders nothing (an empty chunk would end it)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def last_chunk(trailers: list | None = None) -> bytes:
    """The terminating chunk, with ``(name, value)`` trailers when a stream failed."""
    if not trailers:
        return b"0\r\n\r\n"
    lines = "".join("%s: %s\r\n" % (name, value) for name, value in trailers)
    return b"0\r\n" + lines.encode("latin-1") + b"\r\n"


def _path_segment(value: str) -> str:
    # Request ids are UUIDs; anything that could break out of the path is refused rather
    # than sent, so a hostile header cannot forge a request line. The common case is
    # decided by two C-level calls; only unusual ids are checked character by character.
    if value.isascii() and value.replace("-", "").isalnum():
        return value
    if not value:
        raise ProtocolError("empty request id")
    for ch in value:
        if ch in "/?#% \r\n\t" or ord(ch) < 0x21 or ord(ch) > 0x7E:
            raise ProtocolError("request id %r is not a valid path segment" % value)
    return value


# --- parsing answers ------------------------------------------------------------------------


def parse_head(head: bytes) -> Head:
    """Parse a status line and header block (``head`` excludes the blank line that ends it).

    Header names are lower-cased; the first occurrence of a name wins, except that two
    different Content-Length values are refused (a request-smuggling shape). Values are
    decoded as Latin-1, which maps every byte and so can never fail.
    """
    if _COMPILED:
        # Byte-level scanning is C-speed only when compiled; it takes the plain-ASCII heads the
        # Runtime API sends and leaves anything unusual to the exact parser below.
        plain = scan_plain_head(head)
        if plain is not None:
            return plain
    return parse_any_head(head)


def parse_any_head(head: bytes) -> Head:
    """The exact parser behind :func:`parse_head`: every head, every rule."""
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    status_line = lines[0]
    if not status_line.startswith("HTTP/1."):
        raise ProtocolError("not an HTTP/1.x status line: %r" % status_line[:80])
    code = status_line[9:12]
    if len(status_line) < 12 or status_line[8] != " " or not code.isdigit() or not code.isascii():
        raise ProtocolError("malformed status line: %r" % status_line[:80])
    if len(status_line) > 12 and status_line[12] != " ":
        raise ProtocolError("malformed status line: %r" % status_line[:80])
    status = int(code)
    headers = {}
    setdefault = headers.setdefault
    for i in range(1, len(lines)):
        name, colon, value = lines[i].partition(":")
        name = name.strip()
        if not colon or not name:
            raise ProtocolError("malformed header line: %r" % lines[i][:80])
        value = value.strip()
        name = name.lower()
        # First occurrence wins; a repeated name is only checked for conflicting framing.
        if setdefault(name, value) is not value and name == H_CONTENT_LENGTH and headers[name] != value:
            raise ProtocolError("conflicting Content-Length headers")
    chunked = False
    te = headers.get(H_TRANSFER_ENCODING)
    if te is not None:
        if te.lower() != "chunked":
            raise ProtocolError("unsupported Transfer-Encoding: %r" % te)
        chunked = True
    length = -1
    cl = headers.get(H_CONTENT_LENGTH)
    if cl is not None and not chunked:
        if not cl.isdigit() or not cl.isascii() or len(cl) > 18:
            raise ProtocolError("invalid Content-Length: %r" % cl)
        length = int(cl)
    if length < 0 and not chunked:
        # No framing: a body-less status (1xx, 204, 304) or one that runs until close.
        length = 0 if (status < 200 or status == 204 or status == 304) else -1
    conn = headers.get(H_CONNECTION)
    close = conn is not None and conn.lower() == "close"
    return Head(status, headers, length, chunked, close)


def scan_plain_head(head: bytes):
    """:func:`parse_any_head` for the common shape, scanned byte by byte; ``None`` otherwise.

    Takes only ASCII heads whose header names are letters, digits and dashes, whose values
    hold no control characters, with no repeated name and no Transfer-Encoding or Connection
    header; for those the result equals ``parse_any_head(head)`` (property-tested). Compiled,
    ``p`` is a C pointer into the bytes; as plain Python it is the bytes themselves.
    """
    p = head
    size = len(head)
    if size < 12 or not head.isascii() or head[:7] != b"HTTP/1." or p[8] != 32:
        return None
    d0 = p[9] - 48
    d1 = p[10] - 48
    d2 = p[11] - 48
    if d0 < 0 or d0 > 9 or d1 < 0 or d1 > 9 or d2 < 0 or d2 > 9:
        return None
    pos = head.find(b"\r\n")
    if pos < 0:
        pos = size
    if pos > 12 and p[12] != 32:
        return None
    headers = {}
    while pos < size:
        start = pos + 2  # a line starts after the CRLF that ended the previous one
        colon = -1
        i = start
        while i < size:
            c = p[i]
            if c == 13:
                break
            if colon < 0:
                if c == 58:
                    colon = i
                elif not (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c == 45):
                    return None
            elif (c < 32 and c != 9) or c == 127:
                return None
            i += 1
        if colon <= start or (i < size and (i + 1 >= size or p[i + 1] != 10)):
            return None  # no name, or a CR that does not end the line
        value_start = colon + 1
        while value_start < i and (p[value_start] == 32 or p[value_start] == 9):
            value_start += 1
        value_end = i
        while value_end > value_start and (p[value_end - 1] == 32 or p[value_end - 1] == 9):
            value_end -= 1
        raw_name = head[start:colon]
        name = _LOWER_NAMES.get(raw_name)
        if name is None:
            name = raw_name.lower().decode("ascii")
            if len(_LOWER_NAMES) < 256:  # bounded: hostile names cannot grow it
                _LOWER_NAMES[raw_name] = name
        if name in headers:
            return None
        headers[name] = head[value_start:value_end].decode("ascii")
        pos = i
    if H_TRANSFER_ENCODING in headers or H_CONNECTION in headers:
        return None
    status = d0 * 100 + d1 * 10 + d2
    length = -1
    cl = headers.get(H_CONTENT_LENGTH)
    if cl is not None:
        if not cl.isdigit() or len(cl) > 18:
            return None
        length = int(cl)
    elif status < 200 or status == 204 or status == 304:
        length = 0
    return Head(status, headers, length, False, False)


# Header names as sent -> lower-cased str: the same dozen names arrive with every event.
_LOWER_NAMES = {}

# True when this module runs compiled (an extension's __file__ is its shared object).
_COMPILED = not __file__.endswith(".py")


def invocation_from(head: Head, body: bytes) -> Invocation:
    """Build the :class:`Invocation` from a ``/next`` answer; the request id is required."""
    headers = head.headers
    request_id = headers.get(H_REQUEST_ID)
    if not request_id:
        raise ProtocolError("/next answer has no Lambda-Runtime-Aws-Request-Id")
    deadline = headers.get(H_DEADLINE)
    # Like strtoul in the reference: leading digits count, anything else means 0.
    deadline_ms = 0
    if deadline:
        digits = 0
        while digits < len(deadline) and deadline[digits] in "0123456789":
            digits += 1
        # strtoul saturates on overflow; converting thousands of digits would instead raise
        # ValueError (int's 4300-digit limit) out of the parser (found by fuzzing).
        number = deadline[:digits].lstrip("0")
        if len(number) > 20:
            deadline_ms = _ULONG_MAX
        elif number:
            deadline_ms = min(int(number), _ULONG_MAX)
    return Invocation(
        request_id,
        deadline_ms,
        headers.get(H_FUNCTION_ARN) or "",
        headers.get(H_TRACE_ID) or None,
        headers.get(H_CLIENT_CONTEXT) or None,
        headers.get(H_COGNITO_IDENTITY) or None,
        headers.get(H_TENANT_ID) or None,
        headers.get(H_INVOCATION_ID) or None,
        headers.get(H_CONTENT_TYPE),
        body,
    )


class ChunkedDecoder:
    """Incremental decoder of a chunked body: feed bytes, collect the body, learn when it ends.

    It never buffers more than one chunk-size line plus the data it was given, and refuses
    malformed sizes, so hostile input cannot make it hang or grow without bound.
    """

    def __init__(self) -> None:
        self.parts = []
        self.done = False
        self.trailers = {}
        self._pending = b""
        self._remaining = 0  # data bytes left in the current chunk
        self._state = 0  # 0 size line, 1 data, 2 CRLF after data, 3 trailers

    def feed(self, data: bytes) -> bytes:
        """Consume ``data``; return what is left over after the body ended (else ``b""``)."""
        buf = self._pending + data if self._pending else data
        self._pending = b""
        pos = 0
        end = len(buf)
        while pos < end and not self.done:
            if self._state == 1:
                take = min(self._remaining, end - pos)
                self.parts.append(buf[pos : pos + take])
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = 2
                continue
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                if end - pos > MAX_CHUNK_LINE:
                    raise ProtocolError("chunk line too long")
                self._pending = buf[pos:]
                return b""
            line = buf[pos:nl]
            pos = nl + 2
            if self._state == 2:
                if line:
                    raise ProtocolError("missing CRLF after chunk data")
                self._state = 0
            elif self._state == 0:
                size_text = line.split(b";", 1)[0].strip()
                if not size_text or len(size_text) > 16:
                    raise ProtocolError("invalid chunk size %r" % line[:40])
                for c in size_text:
                    if c not in b"0123456789abcdefABCDEF":
                        raise ProtocolError("invalid chunk size %r" % line[:40])
                size = int(size_text, 16)
                if size == 0:
                    self._state = 3
                else:
                    self._remaining = size
                    self._state = 1
            else:
                if not line:
                    self.done = True
                else:
                    colon = line.find(b":")
                    if colon <= 0:
                        raise ProtocolError("malformed trailer %r" % line[:40])
                    key = line[:colon].strip().decode("latin-1").lower()
                    self.trailers[key] = line[colon + 1 :].strip().decode("latin-1")
        return buf[pos:] if self.done else b""

    def body(self) -> bytes:
        return b"".join(self.parts)
