"""Response streaming end to end: fastrt in a subprocess, the emulator (or a stub that
records chunks as they arrive) as the Runtime API."""

from __future__ import annotations

import base64
import json
import os

import pytest

from feature_harness import EXAMPLES, StubApi, accepted, invoke, next_answer, peak_rss_kib, wait_until

STREAMING_APP = """
    import asyncio
    import fastrt
    from fastrt.stream import HttpResponse

    @fastrt.streaming
    def chunks(event, context):
        yield b"hello, "
        yield "wörld"
        if event.get("fail"):
            raise ValueError("broke after two chunks")

    @fastrt.streaming
    def fails_at_once(event, context):
        raise KeyError("nothing streamed")
        yield b"never"

    @fastrt.streaming(content_type="text/plain; charset=utf-8")
    def whole(event, context):
        return "one piece"

    @fastrt.streaming
    def url(event, context):
        def body():
            yield b"<p>streamed</p>"
        return HttpResponse(body(), status_code=201, headers={"Content-Type": "text/html"}, cookies=["a=1"])

    @fastrt.streaming
    async def agen(event, context):
        for i in range(3):
            await asyncio.sleep(0)
            yield "part%d;" % i

    @fastrt.streaming
    def bad_chunk(event, context):
        yield b"ok"
        yield 42

    def plain(event, context):
        return {"plain": True}
"""


def test_generator_chunks_are_sent_as_a_chunked_streaming_response(function, emulator):
    fn = function({"app.py": STREAMING_APP}, env={"_HANDLER": "app.chunks"})
    result = invoke(emulator, {})
    assert result.kind == "response" and result.status == 202
    assert result.streamed
    assert result.body == "hello, wörld".encode()
    assert result.content_type == "application/octet-stream"
    assert result.headers["transfer-encoding"] == "chunked"
    assert result.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert not result.trailers
    # the connection stays usable for the next event
    assert invoke(emulator, {}).body == "hello, wörld".encode()
    assert fn.proc.poll() is None


def test_error_after_first_chunk_goes_in_the_trailers(function, emulator):
    function({"app.py": STREAMING_APP}, env={"_HANDLER": "app.chunks"})
    result = invoke(emulator, {"fail": True})
    assert result.kind == "response" and result.streamed
    assert result.body == "hello, wörld".encode()
    assert result.trailers["lambda-runtime-function-error-type"] == "Function.ValueError"
    error = json.loads(base64.b64decode(result.trailers["lambda-runtime-function-error-body"]))
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "broke after two chunks"
    assert error["requestId"] == result.request_id
    assert any("raise ValueError" in frame for frame in error["stackTrace"])
    # the runtime logged it like any invocation error and goes on serving
    assert invoke(emulator, {}).body == "hello, wörld".encode()


def test_error_before_any_chunk_is_a_plain_invocation_error(function, emulator):
    function({"app.py": STREAMING_APP}, env={"_HANDLER": "app.fails_at_once"})
    result = invoke(emulator, {})
    assert result.kind == "error"
    assert json.loads(result.body)["errorType"] == "KeyError"


def test_a_non_bytes_chunk_mid_stream_is_reported_in_the_trailers(function, emulator):
    function({"app.py": STREAMING_APP}, env={"_HANDLER": "app.bad_chunk"})
    result = invoke(emulator, {})
    assert result.body == b"ok"
    error = json.loads(base64.b64decode(result.trailers["lambda-runtime-function-error-body"]))
    assert error["errorType"] == "TypeError" and "not int" in error["errorMessage"]


def test_a_single_value_with_its_own_content_type(function, emulator):
    function({"app.py": STREAMING_APP}, env={"_HANDLER": "app.whole"})
    result = invoke(emulator, {})
    assert result.streamed and result.body == b"one piece"
    assert result.content_type == "text/plain; charset=utf-8"


def test_http_integration_prelude(function, emulator):
    function({"app.py": STREAMING_APP}, env={"_HANDLER": "app.url"})
    result = invoke(emulator, {})
    assert result.content_type == "application/vnd.awslambda.http-integration-response"
    prelude, delimiter, body = result.body.partition(b"\0" * 8)
    assert delimiter and body == b"<p>streamed</p>"
    assert json.loads(prelude) == {"statusCode": 201, "headers": {"Content-Type": "text/html"}, "cookies": ["a=1"]}


def test_async_generator_handler_streams(function, emulator):
    function({"app.py": STREAMING_APP}, env={"_HANDLER": "app.agen"})
    for _ in range(2):  # the loop survives between invocations
        result = invoke(emulator, {})
        assert result.streamed and result.body == b"part0;part1;part2;"


def test_plain_handlers_are_not_streamed(function, emulator):
    function({"app.py": STREAMING_APP}, env={"_HANDLER": "app.plain"})
    result = invoke(emulator, {})
    assert not result.streamed and json.loads(result.body) == {"plain": True}
    assert "lambda-runtime-function-response-mode" not in result.headers


def test_each_chunk_leaves_before_the_next_is_produced(function, tmp_path):
    """The handler blocks after its first chunk until the test has seen that chunk arrive."""
    gate = str(tmp_path / "gate")
    app = """
        import os, time
        import fastrt

        @fastrt.streaming
        def handler(event, context):
            yield b"first"
            while not os.path.exists(%r):
                time.sleep(0.01)
            yield b"second"
    """ % gate
    stub = StubApi(
        {
            ("GET", "/2018-06-01/runtime/invocation/next"): next_answer([b"{}"]),
            ("POST", "/2018-06-01/runtime/invocation/req-1/response"): accepted,
        }
    )
    try:
        function({"app.py": app}, api=stub)
        wait_until(lambda: stub.chunks, timeout=15)
        assert [data for _, data in stub.chunks] == [b"first"]
        open(gate, "w").close()
        wait_until(lambda: any(r["path"].endswith("/response") for r in stub.requests), timeout=15)
        post = [r for r in stub.requests if r["path"].endswith("/response")][0]
        assert post["body"] == b"firstsecond"
        assert post["headers"]["lambda-runtime-function-response-mode"] == "streaming"
        assert post["trailers"] == {}
    finally:
        stub.close()


def test_100_mib_stream_in_flat_memory(function, emulator):
    """100 MiB go through in 64 KiB chunks; the runtime's peak RSS barely moves."""
    app = """
        import fastrt

        CHUNK = b"x" * 65536

        @fastrt.streaming
        def handler(event, context):
            for _ in range(event["chunks"]):
                yield CHUNK
    """
    fn = function({"app.py": app})
    warm = invoke(emulator, {"chunks": 16})  # every code path imported and warmed up
    assert len(warm.body) == 16 * 65536
    before = peak_rss_kib(fn.proc.pid)
    result = invoke(emulator, {"chunks": 1600}, timeout=60)
    after = peak_rss_kib(fn.proc.pid)
    assert result.kind == "response" and not result.trailers
    assert len(result.body) == 100 * 1024 * 1024
    assert after - before < 8 * 1024, "peak RSS grew by %d KiB while streaming 100 MiB" % (after - before)


def test_examples(function, emulator):
    with open(os.path.join(EXAMPLES, "streaming", "app.py")) as f:
        source = f.read()
    first = function({"app.py": source})
    result = invoke(emulator, {"count": 3})
    assert result.streamed and result.body == b"line 0\nline 1\nline 2\n"
    assert result.content_type == "text/plain; charset=utf-8"
    first.stop()
    emulator.new_runtime()
    function({"app.py": source}, handler="app.url_handler")
    result = invoke(emulator, {})
    prelude, _, body = result.body.partition(b"\0" * 8)
    assert json.loads(prelude)["cookies"] == ["visited=1"]
    assert body == b"<html><body><p>streamed</p><p>from</p><p>Lambda</p></body></html>"


def test_streaming_over_the_urllib3_transport(function, emulator):
    function({"app.py": STREAMING_APP}, handler="app.chunks", env={"FASTRT_TRANSPORT": "urllib3"})
    assert invoke(emulator, {}).body == "hello, wörld".encode()
    result = invoke(emulator, {"fail": True})
    assert result.trailers["lambda-runtime-function-error-type"] == "Function.ValueError"
    assert invoke(emulator, {}).body == "hello, wörld".encode()


def test_marking_a_bound_method_wraps_it():
    import fastrt
    from fastrt import aio
    from fastrt.handler import adapt

    class Service:
        def sync(self, event, context):
            yield b"x"

        async def agen(self, event, context):
            yield b"y"

    marked = fastrt.streaming(Service().sync)
    assert marked.__fastrt_streaming__ and list(marked({}, None)) == [b"x"]
    adapted = adapt(fastrt.streaming(Service().agen, content_type="text/plain"))
    assert adapted.__fastrt_streaming__ and adapted.__fastrt_content_type__ == "text/plain"
    assert list(adapted({}, None)) == [b"y"]
    assert aio.loop() is aio.loop()


@pytest.mark.parametrize("transport", ["socket", "urllib3"])
def test_connection_lost_mid_stream_does_not_stop_the_runtime(function, transport):
    app = """
        import fastrt

        @fastrt.streaming
        def handler(event, context):
            for _ in range(400):
                yield b"z" * 65536
    """
    stub = StubApi(
        {
            ("GET", "/2018-06-01/runtime/invocation/next"): next_answer([b"{}", b"{}"]),
            ("POST", "/2018-06-01/runtime/invocation/req-1/response"): accepted,
            ("POST", "/2018-06-01/runtime/invocation/req-2/response"): accepted,
        },
        drop_streams=True,
    )
    try:
        fn = function({"app.py": app}, api=stub, env={"FASTRT_TRANSPORT": transport})
        # the second event arrives over a fresh connection and is streamed in its turn
        wait_until(lambda: [p for p, _ in stub.chunks].count("/2018-06-01/runtime/invocation/req-2/response"), timeout=20)
        wait_until(lambda: "Failed to post handler streaming response" in fn.stdout)
        assert fn.proc.poll() is None
    finally:
        stub.close()
