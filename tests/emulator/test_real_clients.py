"""Runtime clients nobody here wrote, against the Runtime API side: awslambdaric and the seed's
bash bootstrap (curl)."""

import json

from emulator_harness import AWSLAMBDARIC, FIXTURES, SEED_BOOTSTRAP

from fastrt.emulator.platform import MAX_PAYLOAD_SIZE


def test_awslambdaric_success_with_every_context_header(emulator, start_runtime):
    start_runtime(emulator, AWSLAMBDARIC + ["app.echo"], "app.echo")
    emulator.wait_for_next(30)
    inv = emulator.enqueue(
        b'{"k":1}',
        trace_id="Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        client_context='{"custom":{"who":"test"},"client":{},"env":{}}',
        cognito_identity='{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pool"}',
        tenant_id="t-1",
        invocation_id="inv-1",
    )
    result = inv.result(30)
    assert (result.kind, result.status, result.error_type) == ("response", 202, None)
    seen = json.loads(result.body)
    assert seen["event"] == {"k": 1} and seen["request_id"] == inv.request_id
    assert seen["arn"] == "arn:aws:lambda:us-east-1:012345678912:function:test-fn"
    assert 0 < seen["remaining_ms"] <= 300_000
    assert seen["trace"].startswith("Root=1-5759e988")
    assert seen["client_context"] == {"who": "test"} and seen["identity"] == "cid"
    assert (seen["function_name"], seen["memory"], seen["log_group"]) == ("test-fn", "128", "/aws/lambda/test-fn")
    assert result.headers["user-agent"].startswith("aws-lambda-python/")
    assert result.headers["lambda-runtime-invocation-id"] == "inv-1"
    assert result.content_type == "application/json"
    # a second invoke rides the same keep-alive connection
    second = emulator.enqueue(b"[1]")
    assert json.loads(second.result(30).body)["event"] == [1]
    assert {r.conn_id for r in emulator.requests} == {1} and emulator.connections_opened == 1


def test_awslambdaric_function_error_and_bytes_result(emulator, start_runtime):
    start_runtime(emulator, AWSLAMBDARIC + ["app.fail"], "app.fail")
    inv = emulator.enqueue(b"{}")
    result = inv.result(30)
    assert (result.kind, result.status) == ("error", 202)
    assert result.error_type == "Runtime.Unknown"  # awslambdaric sends no error-type header
    body = json.loads(result.body)
    assert (body["errorType"], body["errorMessage"], body["requestId"]) == ("ValueError", "boom", inv.request_id)
    assert "lambda-runtime-function-xray-error-cause" in result.headers


def test_awslambdaric_init_error(emulator, start_runtime):
    proc = start_runtime(emulator, AWSLAMBDARIC + ["broken.handler"], "broken.handler")
    error = emulator.wait_init_error(30)
    assert (error.kind, error.status, error.error_type) == ("init_error", 202, "Runtime.ImportModuleError")
    assert json.loads(error.body)["errorType"] == "Runtime.ImportModuleError"
    assert proc.wait(30) == 1


def test_awslambdaric_oversized_response_gets_413_and_dies(emulator, start_runtime):
    proc = start_runtime(emulator, AWSLAMBDARIC + ["app.big"], "app.big")
    inv = emulator.enqueue(b"{}")
    result = inv.result(30)
    assert (result.kind, result.status) == ("response", 413)
    assert len(result.body) > MAX_PAYLOAD_SIZE
    assert proc.wait(30) == 1  # contract §1.4: the official client exits on a non-2xx post
    assert inv.state == "in_flight"  # it never reported the error


def test_seed_bash_bootstrap(emulator, start_runtime):
    start_runtime(emulator, [str(SEED_BOOTSTRAP)], "function.handler", FIXTURES)
    first = emulator.enqueue(b'{"k":1}')
    second = emulator.enqueue(b'"two"')
    assert first.result(30).body == b"Echoing request: '{\"k\":1}'"
    assert second.result(30).body == b"Echoing request: '\"two\"'"
    assert first.result().headers["user-agent"].startswith("curl/")
    # curl per request, no keep-alive: /next and /response of each event on separate connections
    assert emulator.connections_opened >= 4
    assert first.result().conn_id != second.result().conn_id
