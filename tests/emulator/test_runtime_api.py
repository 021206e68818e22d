"""The Runtime API side over real loopback HTTP, with a raw client that hides nothing."""

import base64
import json
import time

import pytest

from emulator_harness import API, header, until

from fastrt.emulator import Emulator
from fastrt.emulator.platform import MAX_PAYLOAD_SIZE, valid_error_type


def test_next_answer_carries_every_header_given(emulator, client):
    inv = emulator.enqueue(
        b'{"k":1}',
        request_id="rid-1",
        deadline_ms=1700000000123,
        trace_id="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        client_context='{"custom":{"a":"b"}}',
        cognito_identity='{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
        tenant_id="tenant-7",
        invocation_id="inv-9",
        function_arn="arn:aws:lambda:eu-west-1:111122223333:function:f:alias",
        extra_headers=[("X-Extra", "1")],
    )
    status, headers, body = client().next()
    assert status == 200 and body == b'{"k":1}'
    assert header(headers, "Content-Type") == "application/json"
    assert header(headers, "Lambda-Runtime-Aws-Request-Id") == "rid-1"
    assert header(headers, "Lambda-Runtime-Deadline-Ms") == "1700000000123"
    assert header(headers, "Lambda-Runtime-Trace-Id").startswith("Root=1-5759e988")
    assert json.loads(header(headers, "Lambda-Runtime-Client-Context")) == {"custom": {"a": "b"}}
    assert json.loads(header(headers, "Lambda-Runtime-Cognito-Identity"))["cognitoIdentityPoolId"] == "pool"
    assert header(headers, "Lambda-Runtime-Aws-Tenant-Id") == "tenant-7"
    assert header(headers, "Lambda-Runtime-Invocation-Id") == "inv-9"
    assert header(headers, "Lambda-Runtime-Invoked-Function-Arn").endswith(":function:f:alias")
    assert header(headers, "X-Extra") == "1"
    assert inv.state == "in_flight" and inv.dispatch_count == 1


def test_defaults_omit_empty_headers_and_derive_deadline_and_arn(emulator, client):
    emulator.enqueue("é", content_type=None)
    before = int(time.time() * 1000)
    status, headers, body = client().next()
    names = {name.lower() for name, _ in headers}
    assert body == "é".encode()
    assert "content-type" not in names  # content_type=None: no header at all
    for absent in ("trace-id", "client-context", "cognito-identity", "aws-tenant-id", "invocation-id"):
        assert "lambda-runtime-" + absent not in names
    deadline = int(header(headers, "Lambda-Runtime-Deadline-Ms"))
    assert before + 299_000 <= deadline <= int(time.time() * 1000) + 300_000
    assert header(headers, "Lambda-Runtime-Invoked-Function-Arn") == "arn:aws:lambda:us-east-1:012345678912:function:test-fn"
    assert len(header(headers, "Lambda-Runtime-Aws-Request-Id")) == 36  # a uuid4


def test_lambda_env_is_the_lambda_set(emulator):
    env = emulator.lambda_env("app.handler", "/var/task")
    assert env["_HANDLER"] == "app.handler" and env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert env["AWS_LAMBDA_RUNTIME_API"] == emulator.runtime_api == "127.0.0.1:%d" % emulator.port
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "test-fn"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/test-fn"
    assert "[$LATEST]" in env["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["TZ"] == ":UTC" and env["LANG"] == "en_US.UTF-8" and env["LAMBDA_RUNTIME_DIR"] == "/var/runtime"
    assert "PATH" not in env and "HOME" not in env


def test_next_is_a_long_poll_served_when_an_event_arrives(emulator, client):
    raw = client()
    raw.request("GET", API + "next")
    parked_at = emulator.wait_for_next(5)
    assert parked_at <= time.perf_counter()
    inv = emulator.enqueue(b"[]")
    status, headers, body = raw.read_answer()
    assert header(headers, "Lambda-Runtime-Aws-Request-Id") == inv.request_id
    until(lambda: inv.dispatched_at is not None)  # set by the loop just after its write
    assert inv.dispatched_at >= parked_at


def test_response_then_duplicate_then_wrong_id(emulator, client):
    raw = client()
    first = emulator.enqueue(b"1")
    _, headers, _ = raw.next()
    status, answer_headers, body = raw.post(first.request_id, body=b'"ok"', headers=[("Content-Type", "application/json")])
    assert status == 202 and json.loads(body) == {"status": "OK"}
    result = first.result(5)
    assert (result.kind, result.status, result.body, result.streamed) == ("response", 202, b'"ok"', False)
    assert result.content_type == "application/json" and result.headers["host"] == "emulator"
    assert result.dispatched_at <= result.completed_at and result.conn_id == 1
    # already answered, nothing in flight: RIE's 403 (state transition not allowed)
    status, _, body = raw.post(first.request_id)
    assert status == 403 and json.loads(body)["errorType"] == "InvalidStateTransition"
    assert [r.status for r in first.results] == [202, 403] and first.result().status == 202
    # with another invocation in flight, a wrong id is 400 InvalidRequestID
    second = emulator.enqueue(b"2")
    raw.next()
    status, _, body = raw.post("not-a-known-id", kind="error")
    assert status == 400 and json.loads(body) == {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
    status, _, _ = raw.post(first.request_id)
    assert status == 400
    assert not second.done()


def test_error_post_validates_the_error_type_like_the_platform(emulator, client):
    raw = client()
    cases = [
        ("Function.MyError", "Function.MyError"),
        ("Runtime.ImportModuleError", "Runtime.ImportModuleError"),
        ("ValueError", "Runtime.Unknown"),
        ("Function.x", "Function.Unknown"),
        (None, "Runtime.Unknown"),
    ]
    for sent, recorded in cases:
        inv = emulator.enqueue(b"{}")
        raw.next()
        headers = [("Lambda-Runtime-Function-Error-Type", sent)] if sent else []
        status, _, _ = raw.post(inv.request_id, kind="error", body=b'{"errorMessage":"m"}', headers=headers)
        result = inv.result(5)
        assert (status, result.kind, result.error_type) == (202, "error", recorded)
    assert valid_error_type("Runtime.A") == "Runtime.Unknown"  # needs [A-Z][a-zA-Z]+


def test_oversized_response_is_413_and_the_invocation_stays_open_for_an_error(emulator, client):
    raw = client()
    inv = emulator.enqueue(b"{}")
    raw.next()
    status, _, body = raw.post(inv.request_id, body=b"x" * (MAX_PAYLOAD_SIZE + 1))
    assert status == 413
    assert json.loads(body) == {
        "errorMessage": "Exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "RequestEntityTooLarge",
    }
    first = inv.result(5)
    assert (first.kind, first.status, len(first.body)) == ("response", 413, MAX_PAYLOAD_SIZE + 1)
    assert inv.state == "in_flight"
    status, _, _ = raw.post(inv.request_id, kind="error", body=b'{"errorType":"Function.ResponseSizeTooLarge"}')
    assert status == 202
    accepted = inv.wait_accepted(5)
    assert accepted.kind == "error" and inv.result() is accepted
    assert [r.status for r in inv.results] == [413, 202]


def test_exactly_the_limit_is_accepted(emulator, client):
    raw = client()
    inv = emulator.enqueue(b"{}")
    raw.next()
    assert raw.post(inv.request_id, body=b"x" * MAX_PAYLOAD_SIZE)[0] == 202


def test_streamed_response_with_error_trailers(emulator, client):
    raw = client()
    inv = emulator.enqueue(b"{}")
    raw.next()
    error_body = base64.b64encode(b'{"errorMessage":"mid-stream"}').decode()
    raw.send(
        (
            "POST %s%s/response HTTP/1.1\r\nHost: e\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n"
            "Transfer-Encoding: chunked\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
            "4\r\npart\r\n5\r\n-two-\r\n0\r\nLambda-Runtime-Function-Error-Type: Function.StreamBroke\r\n"
            "Lambda-Runtime-Function-Error-Body: %s\r\n\r\n" % (API, inv.request_id, error_body)
        ).encode()
    )
    assert raw.read_answer()[0] == 202
    result = inv.result(5)
    assert result.streamed and result.body == b"part-two-"
    assert result.error_type == "Function.StreamBroke"
    assert result.trailers["lambda-runtime-function-error-body"] == error_body


def test_streamed_response_is_not_capped_at_6mb_and_bad_mode_is_400(emulator, client):
    raw = client()
    inv = emulator.enqueue(b"{}")
    raw.next()
    status, _, body = raw.post(inv.request_id, body=b"{}", headers=[("Lambda-Runtime-Function-Response-Mode", "bogus")])
    assert status == 400 and json.loads(body)["errorType"] == "InvalidFunctionResponseMode"
    big = b"y" * (MAX_PAYLOAD_SIZE + 10)
    status, _, _ = raw.post(inv.request_id, body=big, headers=[("Lambda-Runtime-Function-Response-Mode", "streaming")])
    assert status == 202 and inv.result(5).body == big


def test_init_error_accepted_once_before_next(emulator, client):
    raw = client()
    body = b'{"errorMessage":"Unable to import module","errorType":"Runtime.ImportModuleError"}'
    raw.request("POST", "/2018-06-01/runtime/init/error", body, [("Lambda-Runtime-Function-Error-Type", "RuntimeError")])
    assert raw.read_answer()[0] == 202
    error = emulator.wait_init_error(5)
    assert (error.kind, error.status, error.body, error.error_type) == ("init_error", 202, body, "Runtime.Unknown")
    assert emulator.init_error is error
    raw.request("POST", "/2018-06-01/runtime/init/error", b"{}")
    status, _, answer = raw.read_answer()
    assert status == 403 and b"InitError" in answer
    assert emulator.init_error is error and len(emulator.init_errors) == 2


def test_init_error_after_next_is_forbidden(emulator, client):
    raw = client()
    raw.request("GET", API + "next")
    emulator.wait_for_next(5)
    other = client()
    other.request("POST", "/2018-06-01/runtime/init/error", b"{}")
    assert other.read_answer()[0] == 403


def test_unknown_paths_and_methods(emulator, client):
    raw = client()
    raw.request("GET", "/2018-06-01/runtime/nothing")
    assert raw.read_answer()[0] == 404
    raw.request("POST", API + "next", b"")
    assert raw.read_answer()[0] == 405
    raw.request("GET", API + "abc/response")
    assert raw.read_answer()[0] == 405
    raw.request("GET", "/2018-06-01/runtime/restore/next")
    assert raw.read_answer()[0] == 200


def test_garbage_request_gets_400_and_close(emulator, client):
    raw = client()
    raw.send(b"\x16\x03\x01 hello\r\n\r\n")
    assert raw.read_answer()[0] == 400
    assert raw.closed()


def test_records_requests_and_connections(emulator, client):
    inv = emulator.enqueue(b"{}")
    raw = client()
    raw.next()
    raw.post(inv.request_id, body=b"done")
    other = client()
    other.request("GET", "/nope")
    other.read_answer()
    records = emulator.requests
    assert [(r.method, r.path.rsplit("/", 1)[-1], r.conn_id) for r in records] == [
        ("GET", "next", 1),
        ("POST", "response", 1),
        ("GET", "nope", 2),
    ]
    assert records[0].headers[0] == ("Host", "emulator") and records[1].body == b"done"
    assert records[0].received_at <= records[1].received_at
    assert emulator.connections_opened == 2


def test_dispatch_order_and_concurrent_waiters(emulator, client):
    a, b = client(), client()
    a.request("GET", API + "next")
    emulator.wait_for_next(5)
    b.request("GET", API + "next")
    first, second = emulator.enqueue(b"1"), emulator.enqueue(b"2")
    assert header(a.read_answer()[1], "Lambda-Runtime-Aws-Request-Id") == first.request_id
    assert header(b.read_answer()[1], "Lambda-Runtime-Aws-Request-Id") == second.request_id
    # both in flight: each connection answers its own
    assert b.post(second.request_id)[0] == 202
    assert a.post(first.request_id)[0] == 202
    assert first.result(5).conn_id != second.result(5).conn_id


def test_enqueue_many_and_result_timeout(emulator, client):
    invs = emulator.enqueue_many([b"1", "2"])
    raw = client()
    for inv in invs:
        _, headers, body = raw.next()
        assert header(headers, "Lambda-Runtime-Aws-Request-Id") == inv.request_id
    with pytest.raises(TimeoutError):
        invs[0].result(timeout=0.05)
    raw.post(invs[1].request_id)
    assert invs[1].done() and not invs[0].done()


def test_capacity_is_measured():
    with Emulator(record_requests=False) as emu:
        assert emu.capacity(n=500) > 0
