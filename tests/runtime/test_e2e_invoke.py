"""Invocations end to end, differential against awslambdaric where the contract says "same"."""

import json
import os
import sys

import pytest

from runtime_harness import PURE, both, error_json

import fastrt
from fastrt.emulator import Fault

ECHO = """
def handler(event, context):
    return event
"""


def test_mode_is_what_was_asked():
    # CI builds the extension, so the compiled core must really be active unless forced off.
    assert fastrt.COMPILED is (not PURE)


def test_version_reports_core_and_transport():
    import subprocess

    env = dict(os.environ, FASTRT_TRANSPORT="urllib3")
    out = subprocess.run([sys.executable, "-m", "fastrt", "--version"], env=env, capture_output=True, text=True)
    assert out.returncode == 0
    assert "fastrt %s" % fastrt.__version__ in out.stdout
    assert ("pure Python core" if PURE else "compiled (Cython) core") in out.stdout
    assert "urllib3 transport" in out.stdout


@pytest.mark.parametrize("argv_handler", [False, True])
def test_echo_many_events_one_connection(serve, argv_handler):
    fn = serve(ECHO, argv_handler=argv_handler)
    for i in range(30):
        result = fn.invoke({"i": i, "s": "x" * i})
        assert result.kind == "response"
        assert json.loads(result.body) == {"i": i, "s": "x" * i}
        assert result.content_type == "application/json"
    assert fn.emu.connections_opened == 1


# --- GET /next pipelined behind the answer ----------------------------------------------------

# The verdict on each answer is held back this long: a /next that arrives sooner was sent with
# the answer, one that arrives later waited for the verdict. Nothing here is timed closer.
_HELD_S = 0.5


def _next_went_with_the_answer(fn, event) -> bool:
    fn.emu.add_fault(Fault("response", "delay", seconds=_HELD_S))
    result = fn.invoke(event)
    assert result.kind == "response" and result.status == 202
    return fn.emu.wait_for_next() - result.completed_at < _HELD_S / 2


def test_next_goes_out_with_each_small_answer_after_the_first(serve):
    # The first answer is followed by orjson's import, which must not be left to run after the
    # platform may freeze the sandbox: its /next waits for the verdict, later ones do not.
    fn = serve(ECHO)
    assert [_next_went_with_the_answer(fn, {"n": n}) for n in range(4)] == [False, True, True, True]
    assert fn.emu.connections_opened == 1


@pytest.mark.parametrize("env", [{"FASTRT_PIPELINING": "0"}, {"FASTRT_TRANSPORT": "urllib3"}])
def test_next_waits_for_the_verdict_when_pipelining_is_off_or_impossible(serve, env):
    fn = serve(ECHO, env=env)
    assert [_next_went_with_the_answer(fn, {"n": n}) for n in range(3)] == [False, False, False]


@pytest.mark.parametrize("event", [{"pad": "x" * 70_000}, {"answer_size": 70_000}])
def test_next_waits_for_the_verdict_after_a_large_event_or_answer(serve, event):
    # Freeing a large event or answer after /next is out could also run after a freeze.
    fn = serve("def handler(event, context):\n    return 'y' * event['answer_size'] if 'answer_size' in event else event\n")
    assert _next_went_with_the_answer(fn, {"n": 0}) is False
    assert [_next_went_with_the_answer(fn, e) for e in (event, {"n": 1}, event)] == [False, True, False]


@pytest.mark.parametrize("first_size, fast_at_once", [(1000, False), (600 * 1024, True)])
def test_orjson_waits_for_the_first_answer_unless_the_first_event_is_large(serve, first_size, fast_at_once):
    # The two encoders are told apart by their spacing: the parity encoder writes the
    # reference's '{"a": 1}', orjson '{"a":1}'. A small first event is answered before orjson
    # is imported (cold start); a large one is cheaper through orjson, import included.
    fn = serve(ECHO)
    event = {"pad": "x" * first_size, "n": 1}
    first, second = fn.invoke(event), fn.invoke(event)
    assert json.loads(first.body) == json.loads(second.body) == event
    assert first.body.startswith(b'{"pad":"' if fast_at_once else b'{"pad": "')
    assert second.body.startswith(b'{"pad":"')


@pytest.mark.parametrize(
    "event",
    [
        b'{"a": [1, 2.5, "\\u00e9", null, true]}',
        b"[1,2,3]",
        b'"just a string"',
        b"12345678901234567890123456789",
        b"NaN",
        b"-Infinity",
        b'{"dup": 1, "dup": 2}',
        b'"\\ud800 lone surrogate"',
        b"1e400",
    ],
)
def test_events_decode_like_the_reference(serve, event):
    source = """
import math
def handler(event, context):
    def describe(v):
        if isinstance(v, float) and math.isnan(v):
            return "nan"
        if isinstance(v, float):
            return ["float", repr(v)]
        if isinstance(v, int):
            return ["int", str(v)]
        if isinstance(v, str):
            return ["str", [ord(c) for c in v]]
        if isinstance(v, dict):
            return {k: describe(x) for k, x in v.items()}
        if isinstance(v, list):
            return [describe(x) for x in v]
        return repr(v)
    return describe(event)
"""
    fns = both(serve, source)
    answers = {name: json.loads(fn.invoke(event, request_id="req-decode").body) for name, fn in fns.items()}
    assert answers["fastrt"] == answers["awslambdaric"]


@pytest.mark.parametrize("event", [b"", b"{", b'{"a":}', b"tru", b"[1,]", b"\xff\xfe"])
def test_bad_json_event_is_an_unmarshal_error_like_the_reference(serve, event):
    fns = both(serve, ECHO)
    errors_ = {name: error_json(fn.invoke(event)) for name, fn in fns.items()}
    ours, ref = errors_["fastrt"], errors_["awslambdaric"]
    assert ours["errorType"] == ref["errorType"] == "Runtime.UnmarshalError"
    assert ours["errorMessage"] == ref["errorMessage"]
    assert ours["stackTrace"] == ref["stackTrace"] == []
    # The loop goes on serving.
    assert json.loads(fns["fastrt"].invoke(b'{"ok": 1}').body) == {"ok": 1}


def test_non_json_content_types_reach_the_handler_as_bytes(serve):
    source = """
def handler(event, context):
    return {"type": type(event).__name__, "value": event.decode("latin-1") if isinstance(event, bytes) else event}
"""
    fns = both(serve, source)
    for content_type in ("text/plain", "application/json; charset=utf-8", "application/octet-stream"):
        answers = {
            name: json.loads(fn.invoke(b'{"a":1}', content_type=content_type).body) for name, fn in fns.items()
        }
        assert answers["fastrt"] == answers["awslambdaric"] == {"type": "bytes", "value": '{"a":1}'}


def test_missing_content_type_is_treated_as_json(serve):
    # Deliberate difference: awslambdaric 4.2.2 segfaults on this answer.
    fn = serve(ECHO)
    result = fn.invoke(b'{"a": 1}', content_type=None)
    assert json.loads(result.body) == {"a": 1}


RESULTS = """
import collections, decimal
Point = collections.namedtuple("Point", "x y")
VALUES = {
    "none": None, "str": "plain string", "tuple": (1, 2), "namedtuple": Point(1, 2),
    "bigint": 2 ** 70, "negbig": -(2 ** 65), "float": 1.0, "nan": float("nan"), "inf": float("-inf"),
    "decimal": decimal.Decimal("1.10"), "decexp": decimal.Decimal("1E+3"), "unicode": "h\\u00e9llo \\u2713 \\U0001F600",
    "nested": {"a": [decimal.Decimal("0.1"), (Point(3, 4),), {"k": float("inf")}]},
    "intkeys": {1: "a", 2.5: "b", True: "c", None: "d"}, "bool": False, "emptylist": [], "emptydict": {},
    "nestedbytes": {"b": b"utf-8 bytes are text to simplejson"},
}
def handler(event, context):
    return VALUES[event]
"""


def parse_loose(body: bytes):
    # Both outputs may contain NaN/Infinity; compare values, Decimal kept exact.
    import simplejson

    return simplejson.loads(body, use_decimal=True, allow_nan=True)


@pytest.mark.parametrize("execution_env", [None, "AWS_Lambda_python3.12"])
@pytest.mark.parametrize(
    "key",
    ["none", "str", "tuple", "namedtuple", "bigint", "negbig", "float", "nan", "inf", "decimal", "decexp",
     "unicode", "nested", "intkeys", "bool", "emptylist", "emptydict", "nestedbytes"],
)
def test_results_encode_to_the_same_value_as_the_reference(serve, key, execution_env):
    fns = both(serve, RESULTS, env={"AWS_EXECUTION_ENV": execution_env})
    results = {name: fn.invoke(key) for name, fn in fns.items()}
    ours, ref = results["fastrt"], results["awslambdaric"]
    assert ours.kind == ref.kind == "response"
    assert ours.content_type == ref.content_type == "application/json"
    assert repr(parse_loose(ours.body)) == repr(parse_loose(ref.body))
    if execution_env is None:
        assert ours.body.isascii()  # ensure_ascii like the reference outside 3.12+


@pytest.mark.parametrize(
    "expression,message_part",
    [
        ("{1, 2}", "set"),
        ("datetime.datetime(2024, 1, 1)", "datetime"),
        ("object()", "object"),
        ("coro()", "coroutine"),
        ("uuid.UUID(int=5)", "UUID"),
        ("Data(1)", "Data"),
        ("{'a': {1, 2}}", "set"),
        ("{'b': b'\\xff'}", "codec can't decode"),
    ],
)
def test_unserializable_results_are_marshal_errors_like_the_reference(serve, expression, message_part):
    source = """
import datetime, uuid, dataclasses
@dataclasses.dataclass
class Data:
    x: int
async def coro():
    return 1
def b_in_dict():
    return {"b": b"raw"}
def handler(event, context):
    return %s
""" % expression
    fns = both(serve, source)
    errors_ = {name: error_json(fn.invoke({})) for name, fn in fns.items()}
    ours, ref = errors_["fastrt"], errors_["awslambdaric"]
    assert ours["errorType"] == ref["errorType"] == "Runtime.MarshalError"
    assert ours["errorMessage"] == ref["errorMessage"]
    assert message_part in ours["errorMessage"]
    assert json.loads(fns["fastrt"].invoke(b"1").body) is not None or True


def test_bytes_result_is_sent_raw_as_application_unknown(serve):
    fns = both(serve, "def handler(event, context):\n    return b'\\x00\\xffraw'\n")
    for fn in fns.values():
        result = fn.invoke({})
        assert result.body == b"\x00\xffraw"
        assert result.content_type == "application/unknown"


def test_extended_json_opt_in_serializes_datetimes_and_uuids(serve):
    source = """
import datetime, uuid
def handler(event, context):
    return {"when": datetime.datetime(2024, 1, 2, 3, 4, 5), "id": uuid.UUID(int=1)}
"""
    fn = serve(source, env={"FASTRT_JSON": "extended"})
    body = json.loads(fn.invoke({}).body)
    assert body == {"when": "2024-01-02T03:04:05", "id": "00000000-0000-0000-0000-000000000001"}


CONTEXT = """
import os
def handler(event, context):
    ctx = context
    out = {
        "aws_request_id": ctx.aws_request_id,
        "log_group_name": ctx.log_group_name,
        "log_stream_name": ctx.log_stream_name,
        "function_name": ctx.function_name,
        "memory_limit_in_mb": ctx.memory_limit_in_mb,
        "memory_type": type(ctx.memory_limit_in_mb).__name__,
        "function_version": ctx.function_version,
        "invoked_function_arn": ctx.invoked_function_arn,
        "tenant_id": ctx.tenant_id,
        "identity": [type(ctx.identity).__name__, ctx.identity.cognito_identity_id, ctx.identity.cognito_identity_pool_id],
        "client_context": None if ctx.client_context is None else {
            "custom": ctx.client_context.custom, "env": ctx.client_context.env,
            "client": None if ctx.client_context.client is None else {
                k: getattr(ctx.client_context.client, k) for k in
                ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")},
        },
        "remaining_ok": 0 < ctx.get_remaining_time_in_millis() <= 30000,
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "repr_head": repr(ctx).split("[")[0],
        "public": sorted(n for n in dir(ctx) if not n.startswith("_")),
    }
    if event.get("w3c"):
        out["w3c"] = ctx.w3c()
    return out
"""


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"trace_id": "Root=1-abc;Parent=def;Sampled=1", "tenant_id": "tenant-1", "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:f:alias"},
        {
            "client_context": json.dumps({
                "custom": {"k": "v"}, "env": {"e": "1"},
                "client": {"installation_id": "i", "app_title": "t", "app_version_name": "n",
                           "app_version_code": "c", "app_package_name": "p"},
            }),
            "cognito_identity": json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}),
        },
        {"client_context": json.dumps({"custom": {"w3c": {"traceparent": "00-aa-bb-01", "tracestate": "x=1", "other": "no"}}})},
    ],
)
def test_context_matches_the_reference(serve, headers):
    fns = both(serve, CONTEXT, env={"AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/26/[$LATEST]fixed"})
    answers = {}
    for name, fn in fns.items():
        result = fn.invoke({"w3c": True}, request_id="req-ctx-1", **headers)
        assert result.kind == "response", result.body
        answers[name] = json.loads(result.body)
    assert answers["fastrt"] == answers["awslambdaric"]
    assert answers["fastrt"]["aws_request_id"] == "req-ctx-1"
    assert answers["fastrt"]["memory_limit_in_mb"] == "256"


@pytest.mark.parametrize("header", ["client_context", "cognito_identity"])
def test_bad_context_headers_are_context_unmarshal_errors(serve, header):
    fns = both(serve, ECHO)
    errors_ = {name: error_json(fn.invoke({}, **{header: "{not json"})) for name, fn in fns.items()}
    assert errors_["fastrt"]["errorType"] == errors_["awslambdaric"]["errorType"] == "Runtime.LambdaContextUnmarshalError"
    assert errors_["fastrt"]["errorMessage"] == errors_["awslambdaric"]["errorMessage"]


def test_trace_id_is_set_and_removed_per_invocation(serve):
    # Seen by the handler through os.environ and by its child processes through the real
    # process environment, as under the reference.
    source = """
import os, subprocess
def handler(event, context):
    child = subprocess.run(["sh", "-c", "echo ${_X_AMZN_TRACE_ID-unset}"], capture_output=True, text=True).stdout.strip()
    return [os.environ.get("_X_AMZN_TRACE_ID"), child]
"""
    fn = serve(source)
    assert json.loads(fn.invoke({}, trace_id="Root=1-a").body) == ["Root=1-a", "Root=1-a"]
    assert json.loads(fn.invoke({}).body) == [None, "unset"]
    assert json.loads(fn.invoke({}, trace_id="Root=1-b").body) == ["Root=1-b", "Root=1-b"]


RAISES = """
class MyErr(Exception):
    pass

def inner(kind):
    if kind == "value":
        raise ValueError("bad value \\u00e9")
    if kind == "custom":
        raise MyErr("mine")
    if kind == "empty":
        raise RuntimeError()
    if kind == "keyerror":
        return {}["missing"]
    return 1 / 0

def handler(event, context):
    return inner(event)
"""


@pytest.mark.parametrize("kind", ["value", "custom", "empty", "keyerror", "zero"])
def test_handler_exceptions_match_the_reference(serve, kind):
    fns = both(serve, RAISES)
    results = {name: fn.invoke(kind, request_id="req-err-1") for name, fn in fns.items()}
    ours, ref = error_json(results["fastrt"]), error_json(results["awslambdaric"])
    assert list(ours) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    for key in ("errorMessage", "errorType", "requestId"):
        assert ours[key] == ref[key]
    # Same frames: the runtime's own frames removed, the handler's kept, same text.
    strip = lambda trace: [line.replace(fns["fastrt"].task_root, "ROOT").replace(fns["awslambdaric"].task_root, "ROOT") for line in trace]
    assert strip(ours["stackTrace"]) == strip(ref["stackTrace"])
    assert ours["stackTrace"] and "in handler" in ours["stackTrace"][0]
    # Same body bytes modulo paths: key order and separators too.
    assert results["fastrt"].body.replace(fns["fastrt"].task_root.encode(), b"R") == results["awslambdaric"].body.replace(
        fns["awslambdaric"].task_root.encode(), b"R"
    )
    # X-Ray cause is sent, ASCII only, and parses.
    cause = results["fastrt"].headers.get("lambda-runtime-function-xray-error-cause")
    assert cause and cause.isascii() and json.loads(cause)["exceptions"][0]["type"] == ours["errorType"]
    # The error type header is always valid for the platform (deliberate difference).
    assert results["fastrt"].headers["lambda-runtime-function-error-type"].startswith("Function.")
    # And the loop goes on.
    assert fns["fastrt"].invoke("zero").kind == "error"


def test_error_log_line_matches_the_reference(serve):
    fns = both(serve, RAISES)
    for fn in fns.values():
        fn.invoke("value", request_id="req-log")
        fn.invoke({"ok": 1} and "custom", request_id="req-log2")
    def error_lines(text, root):
        return [line.replace(root, "ROOT") for line in text.split("\n") if line.startswith("[ERROR]")]
    ours = error_lines(fns["fastrt"].stdout, fns["fastrt"].task_root)
    ref = error_lines(fns["awslambdaric"].stdout, fns["awslambdaric"].task_root)
    assert ours == ref and len(ours) == 2
    assert "\r" in ours[0] and "Traceback (most recent call last):" in ours[0]


def test_system_exit_in_handler_ends_the_process_with_its_code(serve):
    fns = both(serve, "import sys\ndef handler(event, context):\n    sys.exit(3)\n")
    for fn in fns.values():
        inv = fn.emu.enqueue(b"{}")
        assert fn.wait() == 3
        assert not inv.done()


def test_hostile_handlers_do_not_stop_the_loop(serve):
    source = """
import sys, threading, time
class Evil(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")
def handler(event, context):
    kind = event["kind"]
    if kind == "evil":
        raise Evil()
    if kind == "recursion":
        def f(n): return f(n + 1)
        return f(0)
    if kind == "print":
        sys.stdout.write("x" * 3_000_000)
        return "printed"
    if kind == "closestdout":
        sys.stdout.close()
        return "closed"
    if kind == "thread":
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
        return "thread"
    if kind == "badbytes":
        raise ValueError(b"\\xff\\xfe".decode("utf-8", "surrogateescape"))
    return "ok"
"""
    fn = serve(source)
    for kind, expected_kind in [
        ("evil", "error"), ("recursion", "error"), ("print", "response"), ("thread", "response"),
        ("badbytes", "error"), ("closestdout", "response"), ("evil", "error"), ("fine", "response"),
    ]:
        result = fn.invoke({"kind": kind})
        assert result.kind == expected_kind, (kind, result.body[:300])
    assert error_json(fn.invoke({"kind": "recursion"}))["errorType"] == "RecursionError"
