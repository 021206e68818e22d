"""The fault matrix: fastrt against the emulator's fault injection, end to end.

Each case states its expected outcome. The common one ("served once") means: the event
ends with exactly one accepted answer of the right kind, nothing for it is accepted twice,
and the same process then serves the next event. Where the platform itself could not
recover either, the expectation is a prompt exit with a ``LAMBDA_RUNTIME`` log line.

The emulator's model of a dropped or garbled answer to a post: the runtime never learned the
verdict, and nothing was recorded (the invocation stays open). awslambdaric exits on every
one of these; fastrt answers the event and goes on.
"""

from __future__ import annotations

import json
import re

import pytest

from fastrt.emulator import Fault

from runtime_harness import error_json

HANDLER = """
import time

def handler(event, context):
    kind = event.get("kind") if isinstance(event, dict) else None
    if kind == "big":
        return "x" * 1_000_000  # large enough to arrive in several reads: mid-upload drops bite
    if kind == "raise":
        raise ValueError("boom")
    if kind == "bigraise":
        long_line_raise()
    if kind == "context":
        return {"id": context.aws_request_id, "remaining": context.get_remaining_time_in_millis(),
                "arn": context.invoked_function_arn}
    return event

# A big error body (the source line is in the stack trace) with a small X-Ray header (which has
# no source lines): a 1 MB message would put 1 MB into the X-Ray header as well.
def long_line_raise():
    raise ValueError("big")  # LONG_COMMENT
""".replace("LONG_COMMENT", "y" * 1_100_000)

DROPS = ["drop_before_answer", "drop_mid_headers", "drop_mid_body", "garbage"]


def start(serve, *faults, env=None, warm=False):
    """A runtime whose emulator has ``faults`` armed before the runtime's first request, or
    with ``warm`` after a first event: later answers of small events go out with the next
    ``GET /next`` (pipelined), so a fault on them meets a connection with a request waiting."""
    fn = serve(HANDLER, start=False, env=env)
    if warm:
        fn.start()
        assert fn.invoke({"warm": 1}).kind == "response"
    for fault in faults:
        fn.emu.add_fault(fault)
    return fn if warm else fn.start()


# The posts are tested on a first event (the verdict read before /next is sent) and on a later
# one (/next sent in the same write as the post).
WARM = pytest.mark.parametrize("warm", [False, True], ids=["first-event", "pipelined"])


def accepted(inv) -> list:
    return [r for r in inv.results if r.accepted]


def assert_served_once(inv, kind: str = "response"):
    """Exactly one accepted answer; returns it."""
    inv.wait_accepted(timeout=20)
    answers = accepted(inv)
    assert len(answers) == 1, inv.results
    assert answers[0].kind == kind, inv.results
    return answers[0]


def assert_loop_goes_on(fn):
    result = fn.invoke({"after": 1})
    assert result.kind == "response" and json.loads(result.body) == {"after": 1}
    assert fn.proc.poll() is None


def assert_exits_with_log(fn, text: str):
    assert fn.wait(timeout=20) == 1
    assert "LAMBDA_RUNTIME " + text in fn.stdout, fn.stdout[-2000:]


# --- GET /next ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        # Connection dropped after the request was sent, before any answer: asked again.
        Fault("next", "drop_before_answer"),
        # Dropped mid-head / mid-body of the answer: the partial answer is thrown away, asked again.
        Fault("next", "drop_mid_headers"),
        Fault("next", "drop_mid_body"),
        # Non-HTTP bytes: a protocol error, the connection is dropped, asked again.
        Fault("next", "garbage"),
        # Slow, one byte at a time, chunked, or both: read as the same event.
        Fault("next", "delay", seconds=1.0),
        Fault("next", "byte_by_byte", seconds=0.0002),
        Fault("next", "chunked"),
        # A duplicated header: the first value counts (request id, content type alike).
        Fault("next", "duplicate_header", name="Lambda-Runtime-Aws-Request-Id"),
        Fault("next", "duplicate_header", name="Content-Type"),
        # An unknown 2xx status is a success (RFC 9110 §15, and libcurl in the reference).
        Fault("next", "raw_status", value="HTTP/1.1 299 Odd"),
        # A 4xx other than 403 on /next (e.g. throttling): asked again after a short pause.
        Fault("next", "status", status=429, body=b'{"errorType":"TooManyRequests"}'),
    ],
    ids=lambda f: "%s-%s" % (f.action, f.name or f.value or f.status if f.action in ("duplicate_header", "raw_status", "status") else f.action),
)
def test_next_faults_still_deliver_the_event_once(serve, fault):
    fn = start(serve, fault)
    inv = fn.emu.enqueue(b'{"n": 1}')
    answer = assert_served_once(inv)
    assert json.loads(answer.body) == {"n": 1}
    assert inv.dispatch_count == 1  # handed to the handler once
    assert_loop_goes_on(fn)


def test_next_chunked_and_byte_by_byte_together(serve):
    fn = start(serve, Fault("next", "chunked"), Fault("next", "byte_by_byte", seconds=0.0002))
    inv = fn.emu.enqueue(json.dumps({"kind": "context"}).encode(), request_id="req-dribble")
    body = json.loads(assert_served_once(inv).body)
    assert body["id"] == "req-dribble" and body["remaining"] > 0
    assert_loop_goes_on(fn)


@pytest.mark.parametrize(
    "fault,field,expected",
    [
        # No Content-Type: treated as JSON (awslambdaric 4.2.2 segfaults here).
        (Fault("next", "omit_header", name="Content-Type"), "id", "req-h"),
        # No deadline: 0, so the remaining time is 0 (the reference reads it the same way).
        (Fault("next", "omit_header", name="Lambda-Runtime-Deadline-Ms"), "remaining", 0),
        # Non-numeric deadline: strtoul semantics, 0.
        (Fault("next", "deadline", value="soon"), "remaining", 0),
        (Fault("next", "deadline", value="-5"), "remaining", 0),
        # Overlong deadline: saturates instead of failing the parser.
        (Fault("next", "deadline", value="9" * 5000), "id", "req-h"),
        # No function ARN: an empty string, as in the reference.
        (Fault("next", "omit_header", name="Lambda-Runtime-Invoked-Function-Arn"), "arn", ""),
    ],
    ids=["no-content-type", "no-deadline", "deadline-text", "deadline-negative", "deadline-huge", "no-arn"],
)
def test_next_header_oddities_are_read_like_the_reference(serve, fault, field, expected):
    fn = start(serve, fault)
    inv = fn.emu.enqueue(json.dumps({"kind": "context"}).encode(), request_id="req-h")
    body = json.loads(assert_served_once(inv).body)
    assert body[field] == expected
    assert_loop_goes_on(fn)


def test_next_without_request_id_exits_with_a_log_line(serve):
    # The event cannot be answered without its id; the reference dies the same way
    # ("Failed to get next"). Exiting lets the platform report the invoke at once.
    fn = start(serve, Fault("next", "omit_header", name="Lambda-Runtime-Aws-Request-Id"))
    fn.emu.enqueue(b"{}")
    assert_exits_with_log(fn, "Failed to get next invocation")


@pytest.mark.parametrize("status", [500, 403])
def test_next_answered_500_or_403_exits_with_the_references_log_line(serve, status):
    # "Container error. Non-recoverable state. Runtime should exit promptly." (Runtime API spec).
    lines = {}
    for runtime in ("awslambdaric", "fastrt"):
        fn = serve(HANDLER, runtime=runtime, start=False)
        fn.emu.add_fault(Fault("next", "status", status=status, body=b'{"errorType":"X"}'))
        fn.start().emu.enqueue(b"{}")
        assert fn.wait(timeout=20) == 1
        lines[runtime] = [re.sub(r"\[\d+\]", "[T]", line) for line in fn.stdout.splitlines() if "LAMBDA_RUNTIME" in line]
    expected = "[ERROR] [T] LAMBDA_RUNTIME Failed to get next invocation. Http Response code: %d" % status
    assert lines["fastrt"] == lines["awslambdaric"] == [expected]


def test_stale_keep_alive_connection_is_replaced_before_next(serve):
    # The Runtime API closes the idle keep-alive connection right after answering /response,
    # so the next GET /next meets a dead connection: it is sent again on a fresh one.
    fn = serve(HANDLER)
    assert fn.invoke({"warm": 1}).kind == "response"
    api = fn.emu.api
    original = api.handle

    def close_after_response(conn, req):
        original(conn, req)
        if req.path.endswith("/response"):
            conn.transport.close()

    fn.emu.call(setattr, api, "handle", close_after_response)
    inv = fn.emu.enqueue(b'{"n": 2}')
    assert json.loads(assert_served_once(inv).body) == {"n": 2}
    fn.emu.call(setattr, api, "handle", original)
    assert_loop_goes_on(fn)
    assert fn.emu.connections_opened >= 2


# --- POST /response and /error: dropped or garbled answers ------------------------------------


@pytest.mark.parametrize("action", DROPS)
@pytest.mark.parametrize("endpoint,event,kind", [("response", {}, "response"), ("error", {"kind": "raise"}, "error")])
@WARM
def test_lost_verdict_on_a_post_is_posted_again_once(serve, endpoint, event, kind, action, warm):
    fn = start(serve, Fault(endpoint, action), warm=warm)
    inv = fn.emu.enqueue(json.dumps(event).encode())
    answer = assert_served_once(inv, kind)
    if kind == "error":
        assert json.loads(answer.body)["errorType"] == "ValueError"
    assert_loop_goes_on(fn)


@pytest.mark.parametrize("endpoint,event,kind", [("response", {"kind": "big"}, "response"), ("error", {"kind": "bigraise"}, "error")])
def test_connection_dropped_mid_upload_is_posted_again_once(serve, endpoint, event, kind):
    fn = start(serve, Fault(endpoint, "drop_mid_request"))
    inv = fn.emu.enqueue(json.dumps(event).encode())
    answer = assert_served_once(inv, kind)
    assert len(answer.body) > 1_000_000
    if kind == "error":
        assert error_json(answer)["errorMessage"] == "big"
    assert_loop_goes_on(fn)


# --- POST /response and /error: refusals --------------------------------------------------------


@WARM
def test_response_413_is_reported_as_an_error_once(serve, warm):
    # awslambdaric exits here (a cold start, and the caller never learns why). fastrt posts
    # the error the platform would report and goes on.
    fn = start(serve, Fault("response", "status", status=413, body=b'{"errorType":"RequestEntityTooLarge"}'), warm=warm)
    inv = fn.emu.enqueue(b'{"n": 1}')
    answer = assert_served_once(inv, "error")
    assert [r.status for r in inv.results] == [413, 202]
    assert "Http response code: 413" in fn.stdout
    assert json.loads(answer.body)["errorType"]
    assert_loop_goes_on(fn)


def test_413_with_next_already_sent_is_reported_on_a_connection_of_its_own(serve):
    # The pipelined /next waits on the main connection, and answers come back in request
    # order: an /error queued behind it would wait for an event that cannot come before this
    # one is answered. It goes on a short-lived second connection; the main one serves on.
    fn = start(serve, Fault("response", "status", status=413, body=b"{}"), warm=True)
    inv = fn.emu.enqueue(b'{"n": 1}')
    assert_served_once(inv, "error")
    refused, reported = inv.results
    assert (refused.status, reported.status) == (413, 202)
    assert reported.conn_id != refused.conn_id
    result = fn.invoke({"after": 1})
    assert result.kind == "response" and result.conn_id == refused.conn_id
    assert fn.emu.connections_opened == 2


def test_real_oversized_response_is_reported_as_an_error_once(serve):
    source = "def handler(event, context):\n    return 'z' * (7 * 1024 * 1024)\n"
    fn = serve(source)
    inv = fn.emu.enqueue(b"{}")
    assert_served_once(inv, "error")
    assert [r.status for r in inv.results] == [413, 202]
    assert_served_once(fn.emu.enqueue(b"{}"), "error")  # and the process is still there to serve


@pytest.mark.parametrize("status", [400, 403])
@pytest.mark.parametrize("endpoint,event", [("response", {}), ("error", {"kind": "raise"})])
@WARM
def test_post_refused_4xx_is_logged_not_repeated(serve, endpoint, event, status, warm):
    # 400 (invalid request id / mode) and 403 (already answered / wrong state) cannot be fixed
    # by posting again: logged once, the loop goes on (the reference exits).
    fn = start(serve, Fault(endpoint, "status", status=status, body=b'{"errorType":"Refused"}'), warm=warm)
    inv = fn.emu.enqueue(json.dumps(event).encode())
    results = inv.wait_results(1, timeout=20)
    assert_loop_goes_on(fn)
    assert [r.status for r in inv.results] == [status], inv.results
    assert results[0].kind == endpoint
    assert "Http response code: %d" % status in fn.stdout


@WARM
def test_error_413_is_posted_again_without_the_xray_header(serve, warm):
    # The X-Ray copy of a deep traceback can be what is too large: the error goes again
    # without it, and is served once.
    fn = start(serve, Fault("error", "status", status=413, body=b"{}"), warm=warm)
    inv = fn.emu.enqueue(b'{"kind": "raise"}')
    answer = assert_served_once(inv, "error")
    assert [r.status for r in inv.results] == [413, 202]
    assert "lambda-runtime-function-xray-error-cause" in inv.results[0].headers
    assert "lambda-runtime-function-xray-error-cause" not in answer.headers
    assert_loop_goes_on(fn)


@WARM
def test_error_413_twice_is_logged_and_the_loop_goes_on(serve, warm):
    fn = start(serve, Fault("error", "status", status=413, body=b"{}", times=2), warm=warm)
    inv = fn.emu.enqueue(b'{"kind": "raise"}')
    inv.wait_results(2, timeout=20)
    assert_loop_goes_on(fn)
    assert [r.status for r in inv.results] == [413, 413]
    assert "Failed to post invocation error. Http response code: 413" in fn.stdout


@pytest.mark.parametrize("endpoint,event,text", [
    ("response", {}, "Failed to post handler success response. Http response code: 500"),
    ("error", {"kind": "raise"}, "Failed to post invocation error. Http response code: 500"),
])
@WARM
def test_post_answered_500_exits_with_a_log_line(serve, endpoint, event, text, warm):
    # "Container error. Non-recoverable state. Runtime should exit promptly."
    fn = start(serve, Fault(endpoint, "status", status=500, body=b"{}"), warm=warm)
    inv = fn.emu.enqueue(json.dumps(event).encode())
    assert_exits_with_log(fn, text)
    assert [r.status for r in inv.results] == [500]


# --- POST /init/error -------------------------------------------------------------------------


INIT_FAILS = "raise ValueError('init fails')\n"


@pytest.mark.parametrize("status", [413, 500, 400, 403])
def test_init_error_refused_still_exits_1_with_a_log_line(serve, status):
    # Init failed: the process ends (exit 1, like the reference) whatever the answer, after
    # saying why the report did not go through.
    fn = serve(INIT_FAILS, start=False)
    fn.emu.add_fault(Fault("init_error", "status", status=status, body=b"{}"))
    fn.start()
    assert fn.wait(timeout=20) == 1
    out = fn.stdout
    assert "[ERROR] ValueError: init fails" in out
    assert "LAMBDA_RUNTIME Failed to post init error. Http response code: %d" % status in out, out[-2000:]
    assert [r.status for r in fn.emu.init_errors] == [status]


@pytest.mark.parametrize("action", DROPS)
def test_init_error_with_lost_verdict_is_posted_again_then_exits_1(serve, action):
    fn = serve(INIT_FAILS, start=False)
    fn.emu.add_fault(Fault("init_error", action))
    fn.start()
    assert fn.wait(timeout=20) == 1
    assert [r.status for r in fn.emu.init_errors] == [202]
    assert "init fails" in fn.emu.init_errors[0].body.decode()


def test_init_error_accepted_exits_1_without_runtime_complaint(serve):
    fn = serve(INIT_FAILS)
    assert fn.wait(timeout=20) == 1
    assert len(fn.emu.init_errors) == 1 and fn.emu.init_errors[0].accepted
    assert "LAMBDA_RUNTIME" not in fn.stdout


# --- many faults in a row -----------------------------------------------------------------------


def test_a_storm_of_faults_loses_and_duplicates_nothing(serve):
    fn = serve(HANDLER)
    cycle = [
        Fault("next", "drop_mid_body"),
        Fault("response", "drop_before_answer"),
        Fault("next", "garbage"),
        Fault("response", "garbage"),
        Fault("next", "chunked"),
        Fault("error", "drop_mid_headers"),
        Fault("response", "drop_mid_body"),
        Fault("next", "drop_before_answer"),
    ]
    invocations = []
    for i in range(24):
        fn.emu.add_fault(cycle[i % len(cycle)])
        event = {"kind": "raise"} if i % 3 == 2 else {"i": i}
        inv = fn.emu.enqueue(json.dumps(event).encode())
        inv.wait_accepted(timeout=20)
        invocations.append((event, inv))
    for event, inv in invocations:
        answers = accepted(inv)
        assert len(answers) == 1, inv.results
        if "kind" in event:
            assert error_json(answers[0])["errorMessage"] == "boom"
        else:
            assert json.loads(answers[0].body) == event
    assert fn.proc.poll() is None
