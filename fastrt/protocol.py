"""The Runtime API wire format, without I/O.

Requests are rendered to bytes by one small function per endpoint; answers are parsed from
bytes by :func:`parse_head` and :class:`ChunkedDecoder`. Nothing here touches a socket, so
every rule can be unit-tested (and fuzzed) on plain byte strings. The transport does the I/O.

Compiled by Cython with ``protocol.pxd`` beside it; runs unchanged as plain Python.
"""

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

# The headers the runtime reads, in the order of ``Head.fields`` (F_* are their indexes).
FIELD_NAMES = (
    H_REQUEST_ID,
    H_DEADLINE,
    H_FUNCTION_ARN,
    H_TRACE_ID,
    H_CLIENT_CONTEXT,
    H_COGNITO_IDENTITY,
    H_TENANT_ID,
    H_INVOCATION_ID,
    H_CONTENT_TYPE,
)
F_REQUEST_ID = 0
F_DEADLINE = 1
F_FUNCTION_ARN = 2
F_TRACE_ID = 3
F_CLIENT_CONTEXT = 4
F_COGNITO_IDENTITY = 5
F_TENANT_ID = 6
F_INVOCATION_ID = 7
F_CONTENT_TYPE = 8

ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
INVOCATION_ID_HEADER = "Lambda-Runtime-Invocation-Id"
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
        size = "released" if self.body is None else "%d bytes" % len(self.body)
        return "Invocation(request_id=%r, content_type=%r, %s)" % (self.request_id, self.content_type, size)


class Head:
    """The status line of one answer, its framing, and the header values the runtime reads.

    ``fields`` holds the values of :data:`FIELD_NAMES` (``None`` when absent); the full header
    dict is built only when asked for (``headers``), from ``raw``, by the exact parser.
    """

    def __init__(self, status: int, headers: dict, content_length: int, chunked: bool, close: bool) -> None:
        self.status = status
        self.content_length = content_length
        self.chunked = chunked
        self.close = close
        self.raw = None
        self._headers = headers
        self.fields = [headers.get(name) for name in FIELD_NAMES]

    @property
    def headers(self) -> dict:
        """Every header, names lower-cased, the first occurrence of a name winning."""
        if self._headers is None:
            self._headers = parse_any_head(self.raw)._headers
        return self._headers


# --- rendering requests -------------------------------------------------------------------


class Renderer:
    """Renders every request of one runtime; the fixed header block is encoded once."""

    def __init__(self, host: str, user_agent: str) -> None:
        # Host, User-Agent and Accept never change: rendered once, as text for the per-event
        # response head and as bytes for the other requests.
        common = "Host: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n" % (host, user_agent)
        self._common = common.encode("latin-1")
        self._common_text = common
        self.next_request = b"GET " + NEXT_PATH.encode() + b" HTTP/1.1\r\n" + self._common + b"\r\n"

    def response_head(self, request_id: str, content_type: str, length: int, invocation_id: str | None) -> bytes:
        """Head of ``POST /{id}/response`` for a buffered body of ``length`` bytes."""
        # Built as one str and encoded once: the per-event path, where a bytes %-format
        # (format string parsed every time, one object per argument) costs several times more.
        id_line = _invocation_id_text(invocation_id)
        return (
            f"POST /2018-06-01/runtime/invocation/{_path_segment(request_id)}/response HTTP/1.1\r\n"
            f"{self._common_text}Content-Type: {content_type}\r\n{id_line}Content-Length: {length}\r\n\r\n"
        ).encode("latin-1")

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


def _invocation_id_text(invocation_id: str | None) -> str:
    # Echoed back so the platform can refuse an answer meant for another invocation.
    if invocation_id is None:
        return ""
    return f"{INVOCATION_ID_HEADER}: {invocation_id}\r\n"


def _invocation_id_line(invocation_id: str | None) -> bytes:
    return _invocation_id_text(invocation_id).encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body; empty data renders nothing (an empty chunk would end it)."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def last_chunk(trailers: list | None = None) -> bytes:
    """The terminating chunk, with ``(name, value)`` trailers when a stream failed."""
    if not trailers:
        return b"0\r\n\r\n"
    lines = "".join(["%s: %s\r\n" % (name, value) for name, value in trailers])
    return b"0\r\n" + lines.encode("latin-1") + b"\r\n"


def _path_segment(value: str) -> str:
    # Request ids are UUIDs; anything that could break out of the path is refused rather
    # than sent, so a hostile header cannot forge a request line.
    if not value:
        raise ProtocolError("empty request id")
    for ch in value:
        if ord(ch) < 0x21 or ord(ch) > 0x7E or ch in "/?#%":
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
        length = _bodiless_length(status)
    conn = headers.get(H_CONNECTION)
    close = conn is not None and conn.lower() == "close"
    parsed = Head(status, headers, length, chunked, close)
    parsed.raw = head
    return parsed


def _bodiless_length(status: int) -> int:
    # No framing: a body-less status (1xx, 204, 304) or a body that runs until close.
    return 0 if (status < 200 or status == 204 or status == 304) else -1


def scan_plain_head(head: bytes):
    """:func:`parse_any_head` for the common shape, scanned byte by byte; ``None`` otherwise.

    Takes heads whose header names are ASCII letters, digits and dashes and whose values are
    printable ASCII (tabs allowed), with none of the runtime's headers repeated and no
    Transfer-Encoding or Connection header; for those the result equals
    ``parse_any_head(head)`` (property-tested). Only the runtime's headers become objects:
    the rest are checked and skipped, and ``Head.headers`` parses them only if asked for.
    Compiled, ``p`` and ``kinds`` are C pointers into bytes; as plain Python they are the bytes.
    """
    p = head
    kinds = _BYTE_KINDS
    size = len(head)
    if size < 12 or not head.startswith(b"HTTP/1.") or p[8] != 32:
        return None
    d0 = p[9] - 48
    d1 = p[10] - 48
    d2 = p[11] - 48
    if d0 < 0 or d0 > 9 or d1 < 0 or d1 > 9 or d2 < 0 or d2 > 9:
        return None
    pos = 12  # the status line ends at the first CRLF (none can come before the code)
    while pos < size and not (p[pos] == 13 and pos + 1 < size and p[pos + 1] == 10):
        pos += 1
    if pos > 12 and p[12] != 32:
        return None
    fields = [None] * _FIELD_COUNT
    seen = 0
    length = -1
    while pos < size:
        start = pos + 2  # a line starts after the CRLF that ended the previous one
        colon = start
        while colon < size and kinds[p[colon]] & _NAME_BYTE:
            colon += 1
        if colon == start or colon == size or p[colon] != 58:
            return None  # no name, a byte no name has, or no colon
        i = colon + 1
        while i < size and kinds[p[i]] & _VALUE_BYTE:
            i += 1
        if i < size and (p[i] != 13 or i + 1 >= size or p[i + 1] != 10):
            return None  # a control byte, non-ASCII, or a CR that does not end the line
        pos = i
        slot = _slot_of(p, start, colon - start)
        if slot < 0:
            continue  # a header the runtime does not read
        if seen & (1 << slot):
            return None  # repeated: the exact parser decides which value counts
        seen |= 1 << slot
        value_start = colon + 1
        while value_start < i and (p[value_start] == 32 or p[value_start] == 9):
            value_start += 1
        value_end = i
        while value_end > value_start and (p[value_end - 1] == 32 or p[value_end - 1] == 9):
            value_end -= 1
        if slot < _FIELD_COUNT:
            fields[slot] = head[value_start:value_end].decode("ascii")
        elif slot == _SLOT_CONTENT_LENGTH:
            if value_end == value_start or value_end - value_start > 18:
                return None
            length = 0
            while value_start < value_end:
                c = p[value_start] - 48
                if c < 0 or c > 9:
                    return None
                length = length * 10 + c
                value_start += 1
        else:
            return None  # Transfer-Encoding or Connection: framing the exact parser decides
    status = d0 * 100 + d1 * 10 + d2
    if length < 0:
        length = _bodiless_length(status)
    # Filled in directly, not through __init__: that one takes a header dict and derives
    # ``fields`` from it, the very work this scanner exists to skip on every event.
    parsed = Head.__new__(Head)
    parsed.status = status
    parsed.content_length = length
    parsed.chunked = False
    parsed.close = False
    parsed.raw = head
    parsed._headers = None
    parsed.fields = fields
    return parsed


def _slot_of(p, start: int, size: int) -> int:
    """Index in :data:`_SLOT_NAMES` of the header name ``p[start:start+size]``, else -1.

    The name is already known to be letters, digits and dashes, for which ``| 32`` lower-cases
    a letter and leaves the rest unchanged. Names are told apart by length, then by their
    last byte (all the Runtime API's share the "lambda-runtime-" prefix), then compared.
    """
    last = p[start + size - 1] | 32
    for slot in range(_SLOT_COUNT):
        name = _SLOT_NAMES[slot]
        if len(name) != size:
            continue
        q = name
        if q[size - 1] != last:
            continue
        j = 0
        while j < size and (p[start + j] | 32) == q[j]:
            j += 1
        if j == size:
            return slot
    return -1


# What each byte may be part of: _NAME_BYTE (letters, digits, dash) and/or _VALUE_BYTE
# (printable ASCII and tab), the plain shape the scanner takes.
_NAME_BYTE = 1
_VALUE_BYTE = 2


def _byte_kinds() -> bytes:
    # Filled by ranges: a test per byte would be 256 rounds of object comparisons at import.
    kinds = bytearray(256)
    kinds[32:127] = bytes([_VALUE_BYTE]) * 95  # printable ASCII
    kinds[9] = _VALUE_BYTE  # tab
    for low, high in ((45, 45), (48, 57), (65, 90), (97, 122)):  # dash, digits, letters
        kinds[low : high + 1] = bytes([_NAME_BYTE | _VALUE_BYTE]) * (high - low + 1)
    return bytes(kinds)


_BYTE_KINDS = _byte_kinds()


_FIELD_COUNT = len(FIELD_NAMES)
# The names the scanner recognises: the fields, then the framing headers.
_SLOT_NAMES = tuple([name.encode("ascii") for name in FIELD_NAMES + (H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_CONNECTION)])
_SLOT_COUNT = len(_SLOT_NAMES)
_SLOT_CONTENT_LENGTH = _FIELD_COUNT

# True when this module runs compiled (an extension's __file__ is its shared object).
_COMPILED = not __file__.endswith(".py")


def invocation_from(head: Head, body: bytes) -> Invocation:
    """Build the :class:`Invocation` from a ``/next`` answer; the request id is required."""
    fields = head.fields
    request_id = fields[F_REQUEST_ID]
    if not request_id:
        raise ProtocolError("/next answer has no Lambda-Runtime-Aws-Request-Id")
    deadline = fields[F_DEADLINE]
    # Filled in directly: compiled, ten attribute stores cost less than a ten-argument
    # __init__ call through the Python call protocol, and this runs for every event.
    invocation = Invocation.__new__(Invocation)
    invocation.request_id = request_id
    invocation.deadline_ms = deadline_ms(deadline) if deadline else 0
    invocation.function_arn = fields[F_FUNCTION_ARN] or ""
    invocation.trace_id = fields[F_TRACE_ID] or None
    invocation.client_context = fields[F_CLIENT_CONTEXT] or None
    invocation.cognito_identity = fields[F_COGNITO_IDENTITY] or None
    invocation.tenant_id = fields[F_TENANT_ID] or None
    invocation.invocation_id = fields[F_INVOCATION_ID] or None
    invocation.content_type = fields[F_CONTENT_TYPE]
    invocation.body = body
    return invocation


def deadline_ms(deadline: str) -> int:
    """The deadline header as the reference reads it: like strtoul, leading digits count,
    anything else means 0, and a number too large saturates."""
    if len(deadline) <= 19 and deadline.isascii() and deadline.isdigit():
        return int(deadline)  # the usual shape: 13 digits, below the saturation point
    digits = 0
    while digits < len(deadline) and deadline[digits] in "0123456789":
        digits += 1
    # Converting thousands of digits would raise ValueError (int's 4300-digit limit) out of
    # the parser (found by fuzzing): anything past 20 significant digits saturates anyway.
    number = deadline[:digits].lstrip("0")
    if len(number) > 20:
        return _ULONG_MAX
    if number:
        return min(int(number), _ULONG_MAX)
    return 0


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
