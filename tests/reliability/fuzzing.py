"""Hypothesis strategies for Runtime API answers, shared by the fuzz tests.

``answers()`` draws whole HTTP/1.1 answers the way a broken or hostile Runtime API might
send them: near-valid heads built from the real header set, every framing (Content-Length,
chunked, none, conflicting), then optional damage (truncation, inserted bytes). ``FUZZ_EXAMPLES``
scales every fuzz test: the default keeps CI quick, ``FASTRT_FUZZ_EXAMPLES=100000`` is the long
local run (see tests/reliability/README.md).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings, strategies as st

FUZZ_EXAMPLES = int(os.environ.get("FASTRT_FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(default: int) -> settings:
    """Settings of one fuzz test: ``default`` examples in CI, FASTRT_FUZZ_EXAMPLES when set."""
    return settings(
        max_examples=FUZZ_EXAMPLES or default,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


REAL_HEADERS = [
    b"Content-Type",
    b"Content-Length",
    b"Transfer-Encoding",
    b"Connection",
    b"Lambda-Runtime-Aws-Request-Id",
    b"Lambda-Runtime-Deadline-Ms",
    b"Lambda-Runtime-Invoked-Function-Arn",
    b"Lambda-Runtime-Trace-Id",
    b"Lambda-Runtime-Client-Context",
    b"Lambda-Runtime-Cognito-Identity",
    b"Lambda-Runtime-Aws-Tenant-Id",
    b"Lambda-Runtime-Invocation-Id",
]

STATUS_LINES = st.one_of(
    st.sampled_from(
        [
            b"HTTP/1.1 200 OK",
            b"HTTP/1.1 202 Accepted",
            b"HTTP/1.1 299 Odd",
            b"HTTP/1.0 200 OK",
            b"HTTP/1.1 200",
            b"HTTP/1.1 100 Continue",
            b"HTTP/1.1 101 Switching Protocols",
            b"HTTP/1.1 103 Early Hints",
            b"HTTP/1.1 204 No Content",
            b"HTTP/1.1 304 Not Modified",
            b"HTTP/1.1 400 Bad Request",
            b"HTTP/1.1 403 Forbidden",
            b"HTTP/1.1 413 Request Entity Too Large",
            b"HTTP/1.1 500 Internal Server Error",
            b"HTTP/1.1 999 Weird",
        ]
    ),
    st.binary(max_size=24),
)

HEADER_VALUES = st.one_of(
    st.sampled_from([b"", b"0", b"7", b"-1", b"chunked", b"close", b"application/json", b"req-1", b"  padded  "]),
    st.integers(min_value=0, max_value=10**30).map(lambda n: str(n).encode()),
    st.text(max_size=40).map(lambda s: s.encode("utf-8")),
    st.binary(max_size=40).filter(lambda b: b"\r\n" not in b),
    st.sampled_from([b"9" * 5000, b"{" * 3000, b"[" * 3000 + b"]" * 3000]),
)

HEADER_NAMES = st.one_of(st.sampled_from(REAL_HEADERS), st.binary(min_size=0, max_size=12))


@st.composite
def heads(draw) -> bytes:
    """A status line and header block, without the blank line that ends it."""
    lines = [draw(STATUS_LINES)]
    for name, value in draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=12)):
        separator = draw(st.sampled_from([b": ", b":", b" : ", b"\t:\t"]))
        lines.append(name + separator + value)
    return b"\r\n".join(lines)


@st.composite
def chunked_body(draw, body: bytes) -> bytes:
    """``body`` chunk-encoded with random chunk sizes, extensions and trailers."""
    out = []
    pos = 0
    while pos < len(body):
        size = draw(st.integers(min_value=1, max_value=max(1, len(body) - pos)))
        piece = body[pos : pos + size]
        extension = draw(st.sampled_from([b"", b";ext=1", b" ; x"]))
        out.append(b"%x%s\r\n%s\r\n" % (len(piece), extension, piece))
        pos += size
    trailers = draw(st.sampled_from([b"", b"X-Trailer: v\r\n"]))
    out.append(b"0\r\n" + trailers + b"\r\n")
    return b"".join(out)


@st.composite
def framed_answers(draw, status: bytes = b"HTTP/1.1 200 OK", request_id: bool = True) -> tuple:
    """A well-formed answer: ``(raw bytes, body)``; the raw bytes end exactly where the body does."""
    body = draw(st.binary(max_size=3000))
    headers = [b"Content-Type: application/json"]
    if request_id:
        headers.append(b"Lambda-Runtime-Aws-Request-Id: " + draw(st.sampled_from([b"r-1", b"8476a536-e9f4"])))
    headers.append(b"Lambda-Runtime-Deadline-Ms: " + str(draw(st.integers(0, 2**63))).encode())
    if draw(st.booleans()):
        headers.append(b"Transfer-Encoding: chunked")
        encoded = draw(chunked_body(body))
    else:
        headers.append(b"Content-Length: %d" % len(body))
        encoded = body
    interim = draw(st.sampled_from([b"", b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"]))
    return interim + status + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + encoded, body


@st.composite
def answers(draw) -> bytes:
    """Anything a Runtime API could put on the wire: random, near-valid, or valid then damaged."""
    kind = draw(st.sampled_from(["random", "near_valid", "damaged"]))
    if kind == "random":
        return draw(st.binary(max_size=2000))
    if kind == "near_valid":
        body = draw(st.binary(max_size=200))
        framing = draw(st.sampled_from([b"", b"chunked"]))
        encoded = draw(chunked_body(body)) if framing else body
        return draw(heads()) + b"\r\n\r\n" + encoded
    raw, _body = draw(framed_answers())
    cut = draw(st.integers(min_value=0, max_value=len(raw)))
    insert = draw(st.binary(max_size=16))
    if draw(st.booleans()):
        return raw[:cut]
    return raw[:cut] + insert + raw[cut:]
