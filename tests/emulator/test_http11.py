"""The emulator's HTTP/1.1 request parser, sans I/O."""

import pytest

from fastrt.emulator import http11
from fastrt.emulator.http11 import HttpError, RequestParser, render_answer, render_chunked

POST = (
    b"POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\n"
    b"Host: x\r\ncontent-type: application/json\r\nX-Dup: a\r\nx-dup: b\r\nContent-Length: 5\r\n\r\nhello"
)


def test_one_request_with_body():
    (req,) = RequestParser().feed(POST)
    assert (req.method, req.path, req.version) == ("POST", "/2018-06-01/runtime/invocation/abc/response", "HTTP/1.1")
    assert req.body == b"hello"
    assert req.headers[1] == ("content-type", "application/json")  # names kept as received
    assert req.header("CONTENT-TYPE") == "application/json"
    assert req.header_dict()["x-dup"] == "a, b"
    assert req.received_at > 0


def test_byte_by_byte_feed_gives_the_same_request():
    parser = RequestParser()
    out = []
    for i in range(len(POST)):
        out += parser.feed(POST[i : i + 1])
    assert [r.body for r in out] == [b"hello"]
    assert parser.idle


def test_pipelined_requests_come_back_in_order():
    get = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    reqs = RequestParser().feed(get + POST + get)
    assert [r.method for r in reqs] == ["GET", "POST", "GET"]


def test_chunked_body_with_extensions_and_trailers():
    data = (
        b"POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nLambda-Runtime-Function-Error-Type: Function.Oops\r\n\r\n"
    )
    parser = RequestParser()
    (req,) = parser.feed(data[:40]) + parser.feed(data[40:])
    assert req.chunked and req.body == b"hello world"
    assert req.trailer_dict() == {"lambda-runtime-function-error-type": "Function.Oops"}


def test_partial_marks_a_body_still_uploading_and_expect_continue():
    parser = RequestParser()
    assert parser.feed(b"POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n12345") == []
    assert parser.partial is not None and parser.partial.path == "/x"
    assert parser.expect_continue
    (req,) = parser.feed(b"67890")
    assert req.body == b"1234567890" and parser.partial is None


@pytest.mark.parametrize(
    "data, status",
    [
        (b"NOT HTTP\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * (http11.MAX_HEAD + 1), 431),
    ],
)
def test_malformed_requests_raise_with_a_status(data, status):
    with pytest.raises(HttpError) as raised:
        RequestParser().feed(data)
    assert raised.value.status == status


def test_renderers():
    answer = render_answer(202, [("Content-Type", "application/json")], b"{}")
    assert answer.startswith(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nDate: ")
    assert answer.endswith(b"Content-Length: 2\r\n\r\n{}")
    assert render_chunked(b"abcdef", pieces=2) == b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n"
    assert render_chunked(b"") == b"0\r\n\r\n"
