"""Error reporting against awslambdaric's bootstrap (contract §1.6), and against hostile exceptions."""

from __future__ import annotations

import importlib
import json
import os
import sys
import textwrap

import pytest

from marshal_helpers import reference_marshaller
from fastrt import errors
from fastrt.marshal import Marshaller
from frames_runner import RUNNER_PATH, call, invoke

RUNTIME_PATHS = (RUNNER_PATH,)


@pytest.fixture
def user_code(tmp_path, monkeypatch):
    """Write modules into a fresh directory on sys.path; returns a writer."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name, source):
        (tmp_path / (name + ".py")).write_text(textwrap.dedent(source), encoding="utf-8")
        importlib.invalidate_caches()
        return str(tmp_path / (name + ".py"))

    yield write
    for name in list(sys.modules):
        if name.startswith("usermod_"):
            del sys.modules[name]


class CapturingClient:
    """The part of awslambdaric's runtime client handle_event_request talks to."""

    def __init__(self, ensure_ascii):
        self.marshaller = reference_marshaller(ensure_ascii)
        self.error = None

    def post_invocation_error(self, invoke_id, error_response_data, xray_fault, invocation_id=None):
        self.error = (error_response_data, xray_fault)

    def post_invocation_result(self, *args):
        raise AssertionError("expected an error")


def reference_report(handler, body=b"{}", ensure_ascii=True, content_type="application/json"):
    """(error body bytes, X-Ray cause dict) the reference posts for one invoke."""
    from awslambdaric import bootstrap

    os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.11" if ensure_ascii else "AWS_Lambda_python3.12"
    try:
        client = CapturingClient(ensure_ascii)
        bootstrap.handle_event_request(
            client, handler, "req-1", body, content_type, None, None, "arn", 0, None, bootstrap.StandardLogSink()
        )
    finally:
        del os.environ["AWS_EXECUTION_ENV"]
    body_text, cause = client.error
    return body_text.encode("utf-8"), json.loads(cause)


def our_report(handler, body=b"{}", ensure_ascii=True):
    _, exc = invoke(Marshaller(ensure_ascii), handler, body)
    assert exc is not None
    info = errors.describe(exc, RUNTIME_PATHS)
    cause = errors.xray_cause(info, os.getcwd())
    assert cause.isascii()
    return errors.error_body(info, "req-1", ensure_ascii), json.loads(cause)


def same_cause(ours, theirs):
    assert ours["working_directory"] == theirs["working_directory"]
    assert ours["exceptions"] == theirs["exceptions"]
    assert sorted(ours["paths"]) == sorted(theirs["paths"])  # the reference lists a set


HANDLERS = {
    "plain": """
        def handler(event, context):
            return helper(event)

        def helper(event):
            raise ValueError("bad value")
    """,
    "custom_class_empty_message": """
        class MyError(Exception):
            pass

        def handler(event, context):
            raise MyError()
    """,
    "unicode_message": """
        def handler(event, context):
            raise RuntimeError("h\\u00e9llo \\u2713 \\U0001F600")
    """,
    "key_error": """
        def handler(event, context):
            return {}["missing"]
    """,
    "multiline_statement": """
        def handler(event, context):
            return int(
                "x",
            )
    """,
    "no_source": """
        code = compile("def handler(event, context):\\n    raise OSError(2, 'gone')\\n", "<generated>", "exec")
        exec(code)
    """,
    "set_result": """
        def handler(event, context):
            return {1, 2}
    """,
}


@pytest.mark.parametrize("ensure_ascii", [True, False], ids=["ascii", "utf8"])
@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_handler_failures_are_reported_like_the_reference(user_code, name, ensure_ascii):
    user_code("usermod_" + name, HANDLERS[name])
    handler = importlib.import_module("usermod_" + name).handler
    their_body, their_cause = reference_report(handler, ensure_ascii=ensure_ascii)
    our_body, our_cause = our_report(handler, ensure_ascii=ensure_ascii)
    assert our_body == their_body
    same_cause(our_cause, their_cause)


@pytest.mark.parametrize("body", [b"", b"{", b"NaN", b"\xff"])
def test_unmarshal_faults_are_reported_like_the_reference(body):
    def handler(event, context):
        return event

    their_body, their_cause = reference_report(handler, body)
    our_body, our_cause = our_report(handler, body)
    assert our_body == their_body
    same_cause(our_cause, their_cause)
    assert our_cause["exceptions"][0]["type"] == "LambdaValidationError"


def test_import_time_faults_match_the_reference(user_code):
    from awslambdaric import bootstrap
    from awslambdaric.lambda_runtime_exception import FaultException

    path = user_code("usermod_syntax", "def handler(event, context)\n    return 1\n")
    user_code("usermod_ok", "value = 1\n")
    user_code("usermod_importer", "import usermod_nonexistent_dependency\n")

    def reference_fault(handler):
        with pytest.raises(FaultException) as caught:
            bootstrap._get_handler(handler)
        return caught.value.exception_type, caught.value.msg, caught.value.trace

    def ours(fault):
        return fault.error_type, fault.message, fault.stack

    def import_error(modname):
        try:
            importlib.import_module(modname)
        except ImportError as exc:
            return exc
        except SyntaxError as exc:
            return exc
        raise AssertionError("imported")

    assert ours(errors.malformed_handler("nodot")) == reference_fault("nodot")
    try:
        "nodot".rsplit(".", 1)[1]
    except IndexError:
        pass
    assert ours(errors.built_in_conflict("sys")) == reference_fault("sys.handler")
    assert ours(errors.import_failed("usermod_missing", import_error("usermod_missing"))) == reference_fault(
        "usermod_missing.handler"
    )
    assert ours(errors.import_failed("usermod_importer", import_error("usermod_importer"))) == reference_fault(
        "usermod_importer.handler"
    )
    sys.modules.pop("usermod_syntax", None)
    syntax = ours(errors.syntax_error("usermod_syntax", import_error("usermod_syntax")))
    assert syntax == reference_fault("usermod_syntax.handler")
    assert syntax[2][0].startswith('  File "%s" Line 1\n    ' % path)
    assert ours(errors.handler_missing("nothere", "usermod_ok")) == reference_fault("usermod_ok.nothere")


def test_context_unmarshal_message_matches_the_reference():
    from awslambdaric import bootstrap
    from awslambdaric.lambda_runtime_exception import FaultException

    for which in ("Client Context", "Cognito Identity"):
        with pytest.raises(FaultException) as caught:
            bootstrap.parse_json_header("{bad", which)
        try:
            json.loads("{bad")  # the reference parses these headers with the standard library
        except ValueError as exc:
            fault = errors.context_unmarshal(which, exc)
        assert (fault.error_type, fault.message) == (caught.value.exception_type, caught.value.msg)


def test_init_error_body_has_empty_request_id():
    from awslambdaric import bootstrap

    fault = errors.import_failed("m", ImportError("No module named 'm'"))
    expected = bootstrap.to_json(bootstrap.make_error(fault.message, fault.error_type, None)).encode()
    assert errors.error_body(errors.describe(fault), "", True) == expected
    assert errors.error_body(errors.describe(fault), None, True) == expected


def test_runtime_frames_are_dropped_but_kept_when_they_are_all_there_is():
    def raiser():
        raise ValueError("x")

    _, exc = call(raiser)
    info = errors.describe(exc, RUNTIME_PATHS)
    assert [frame[2] for frame in info.frames] == ["raiser"]
    _, exc = call(int, "x")  # only the runner's frame: kept, like the reference keeps bootstrap.py
    info = errors.describe(exc, RUNTIME_PATHS)
    assert [frame[2] for frame in info.frames] == ["call"]


def test_default_runtime_paths_cover_the_package_and_cython_frames():
    paths = errors._runtime_paths()
    package = os.path.dirname(os.path.abspath(errors.__file__))
    assert errors._is_runtime_frame(os.path.join(package, "loop.py"), paths)
    assert errors._is_runtime_frame("fastrt/loop.py", paths)
    assert errors._is_runtime_frame("/var/runtime/bootstrap.py", paths)
    assert not errors._is_runtime_frame("/var/task/app.py", paths)


# -- hostile exceptions ----------------------------------------------------------------------------


class StrRaises(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")

    def __repr__(self):
        raise RuntimeError("no repr either")


class StrReturnsSubclass(Exception):
    class Sub(str):
        pass

    def __str__(self):
        return self.Sub("sub")


class ClassRaises(Exception):
    @property
    def __class__(self):
        raise RuntimeError("no class")


def throw(exc):
    raise exc


def recurse(n):
    return recurse(n + 1)


def hostile_exceptions():
    found = []
    for thrower in (
        lambda: throw(StrRaises()),
        lambda: throw(StrReturnsSubclass()),
        lambda: throw(ClassRaises("c")),
        lambda: recurse(0),
        lambda: throw(ValueError("lone \ud800 surrogate \udfff")),
        lambda: throw(ValueError(b"\xff\xfe not utf-8")),
        lambda: throw(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")),
        lambda: throw(KeyError("\x00\n\r")),
    ):
        _, exc = call(thrower)
        found.append(exc)
    return found


# pytest itself trips over some of these objects, so they are built inside the test.
@pytest.mark.parametrize("index", range(8))
@pytest.mark.parametrize("ensure_ascii", [True, False], ids=["ascii", "utf8"])
def test_hostile_exceptions_never_break_reporting(index, ensure_ascii):
    exc = hostile_exceptions()[index]
    info = errors.describe(exc, RUNTIME_PATHS)
    assert type(info.message) is str and type(info.error_type) is str
    body = errors.error_body(info, "r", ensure_ascii)
    parsed = json.loads(body.decode("utf-8"))
    assert list(parsed) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert parsed["errorMessage"] == info.message
    cause = errors.xray_cause(info, "/var/task")
    assert cause.isascii()
    json.loads(cause)


def test_str_failure_has_a_placeholder_message():
    _, exc = call(lambda: throw(StrRaises()))
    assert errors.describe(exc, RUNTIME_PATHS).message == "<exception str() failed>"


def test_recursion_error_trace_matches_the_reference_length():
    _, exc = call(recurse, 0)
    info = errors.describe(exc, RUNTIME_PATHS)
    assert info.error_type == "RecursionError"
    assert len(info.frames) > 100
    # format_list folds the repeats, for the reference too
    assert info.stack[-1].startswith("  [Previous line repeated ")


def test_very_deep_traces_are_bounded():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)
    try:
        _, exc = call(recurse, 0)
    finally:
        sys.setrecursionlimit(limit)
    info = errors.describe(exc, RUNTIME_PATHS)
    assert len(info.frames) == errors.MAX_FRAMES
    assert sum("frames omitted" in line for line in info.stack) == 1


def test_broken_source_loader_keeps_the_frames(tmp_path):
    class Loader:
        def get_source(self, name):
            raise ValueError("loader broke")

    namespace = {"__name__": "broken_loader_module", "__loader__": Loader()}
    exec(compile("def f():\n    raise TypeError('t')\n", str(tmp_path / "absent.py"), "exec"), namespace)
    import linecache

    linecache.clearcache()
    _, exc = call(namespace["f"])
    info = errors.describe(exc, RUNTIME_PATHS)
    assert [frame[2] for frame in info.frames] == ["f"]


def test_xray_cause_over_one_mebibyte_is_dropped():
    info = errors.ErrorInfo("ValueError", "x" * (1024 * 1024), [], [])
    assert errors.xray_cause(info, "/") == ""
    info = errors.ErrorInfo("ValueError", "\u00e9" * 10, [], [("/a.py", 1, "f"), ("/a.py", 2, "g")])
    cause = json.loads(errors.xray_cause(info, "/w"))
    assert cause["paths"] == ["/a.py"]
    assert cause["exceptions"][0]["message"] == "\u00e9" * 10


@pytest.mark.parametrize(
    "error_type, header",
    [
        ("Runtime.MarshalError", "Runtime.MarshalError"),
        ("Function.ResponseSizeTooLarge", "Function.ResponseSizeTooLarge"),
        ("ValueError", "Function.ValueError"),
        ("my_error", "Function.Unknown"),
        ("Error2", "Function.Unknown"),
        ("\u00c9rreur", "Function.Unknown"),
        ("", "Function.Unknown"),
        ("Runtime.bad", "Runtime.Unknown"),
        ("Other.Thing", "Function.Unknown"),
    ],
)
def test_header_error_type_is_always_valid_for_the_platform(error_type, header):
    assert errors.header_error_type(error_type) == header


def test_response_too_large_is_lambdas_own_error():
    fault = errors.response_too_large()
    assert fault.error_type == "Function.ResponseSizeTooLarge"
    assert fault.message == "Response payload size exceeded maximum allowed payload size (6291556 bytes)."


def test_errors_module_imports_nothing_heavy():
    import subprocess

    code = "import sys; b = set(sys.modules); import fastrt.errors; print(' '.join(sorted(set(sys.modules) - b)))"
    root = __file__.rsplit("/tests/", 1)[0]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True).stdout
    assert not set(out.split()) & {"traceback", "linecache", "json", "re", "enum", "typing"}
