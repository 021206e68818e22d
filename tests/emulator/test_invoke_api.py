"""The RIE-compatible invoke side without a supervisor: events are queued for whatever runtime
polls the Runtime API (here a raw client playing the runtime)."""

import base64
import json
import threading
import urllib.error
import urllib.request

import pytest

from emulator_harness import RawClient, header

from fastrt.emulator import Emulator
from fastrt.emulator.platform import MAX_PAYLOAD_SIZE


@pytest.fixture
def served():
    emu = Emulator(timeout=2.0, invoke_port=0).start()
    yield emu
    emu.stop()


def invoke_in_background(emu, body=b"{}", headers=None):
    outcome = {}

    def run():
        request = urllib.request.Request(emu.invoke_url, data=body, headers=headers or {}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                outcome["answer"] = (answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as error:
            outcome["answer"] = (error.code, dict(error.headers), error.read())

    thread = threading.Thread(target=run)
    thread.start()

    def wait():
        thread.join(30)
        return outcome["answer"]

    return wait


def test_invoke_headers_reach_the_runtime_and_the_result_comes_back(served):
    runtime = RawClient(served.port)
    wait = invoke_in_background(
        served,
        b'{"via":"invoke"}',
        {
            "X-Amz-Client-Context": base64.b64encode(b'{"custom":{"k":"v"}}').decode(),
            "X-Amzn-Trace-Id": "Root=1-abc",
            "X-Amz-Tenant-Id": "tenant",
            "X-Amz-Cognito-Identity": '{"cognitoIdentityId":"cid","cognitoIdentityPoolId":"pool"}',
            "X-Amzn-RequestId": "my-request-id",
        },
    )
    status, headers, body = runtime.next()
    assert body == b'{"via":"invoke"}'
    assert header(headers, "Lambda-Runtime-Aws-Request-Id") == "my-request-id"
    assert header(headers, "Lambda-Runtime-Client-Context") == '{"custom":{"k":"v"}}'
    assert header(headers, "Lambda-Runtime-Trace-Id") == "Root=1-abc"
    assert header(headers, "Lambda-Runtime-Aws-Tenant-Id") == "tenant"
    assert json.loads(header(headers, "Lambda-Runtime-Cognito-Identity")) == {
        "cognitoIdentityId": "cid",
        "cognitoIdentityPoolId": "pool",
    }
    runtime.post("my-request-id", body=b"\x00raw", headers=[("Content-Type", "application/unknown")])
    status, answer_headers, answer = wait()
    assert (status, answer) == (200, b"\x00raw")
    assert answer_headers["Content-Type"] == "application/octet-stream"
    assert "X-Amz-Function-Error" not in answer_headers
    runtime.close()


def test_function_error_and_oversized_response(served):
    runtime = RawClient(served.port)
    wait = invoke_in_background(served)
    _, headers, _ = runtime.next()
    request_id = header(headers, "Lambda-Runtime-Aws-Request-Id")
    runtime.post(request_id, kind="error", body=b'{"errorMessage":"m","errorType":"E"}')
    status, answer_headers, body = wait()
    assert status == 200 and answer_headers["X-Amz-Function-Error"] == "Unhandled"
    assert json.loads(body) == {"errorMessage": "m", "errorType": "E"}

    wait = invoke_in_background(served)
    _, headers, _ = runtime.next()
    assert runtime.post(header(headers, "Lambda-Runtime-Aws-Request-Id"), body=b"x" * (MAX_PAYLOAD_SIZE + 1))[0] == 413
    status, answer_headers, body = wait()
    assert status == 200 and answer_headers["X-Amz-Function-Error"] == "Unhandled"
    assert json.loads(body)["errorType"] == "Function.ResponseSizeTooLarge"
    runtime.close()


def test_timeout_and_late_post_refused(served):
    runtime = RawClient(served.port)
    wait = invoke_in_background(served)
    _, headers, _ = runtime.next()
    status, answer_headers, body = wait()
    assert (status, body) == (200, b"Task timed out after 2.00 seconds")
    # the invocation was abandoned: the runtime's late answer is refused
    assert runtime.post(header(headers, "Lambda-Runtime-Aws-Request-Id"))[0] == 403
    runtime.close()


def test_bad_invokes(served):
    status, _, _ = invoke_in_background(served, headers={"X-Amz-Client-Context": "%%%not base64"})()
    assert status == 500
    request = urllib.request.Request(served.invoke_url.replace("/invocations", "/other"), data=b"{}")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 404
