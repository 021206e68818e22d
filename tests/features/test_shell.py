"""Shell handlers: a ``function.sh`` served by one long-lived bash, the seed's semantics."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest
from feature_harness import EXAMPLES, REPO, Function, invoke, wait_until, write_files

SEED_DIR = os.path.join(REPO, "bench", "seed")

SCRIPT = """
    echo "sourced once: $$"
    COUNTER_FILE=${TMPDIR:-/tmp}/fastrt-shell-test-$$

    handler () {
      echo "to stderr: $1" >&2
      printf 'got[%s] id[%s] trace[%s]\\n\\n\\n' "$1" "$REQUEST_ID" "${_X_AMZN_TRACE_ID:-}"
    }
    length () { printf '%s' "${#1}"; }
    pid () { echo "$$"; }
    fails () { echo "something broke" >&2; echo "partial output"; return 3; }
    quits () { echo "bye" >&2; exit 9; }
    unset_var () { echo "$NOT_DEFINED_ANYWHERE"; }
"""


def test_event_is_dollar_one_and_stdout_is_the_response(function, emulator):
    function({"function.sh": SCRIPT}, handler="function.handler")
    event = b'{"key": "value",  "spaced": true}'
    result = invoke(emulator, event, trace_id="Root=1-abc;Sampled=1")
    assert result.kind == "response"
    # the body exactly as sent (no JSON round trip), trailing newlines stripped like $(...)
    assert result.body == b'got[{"key": "value",  "spaced": true}] id[%s] trace[Root=1-abc;Sampled=1]' % (
        result.request_id.encode()
    )


def test_event_content_is_never_run_as_shell_code(function, emulator, tmp_path):
    marker = tmp_path / "pwned"
    function({"function.sh": SCRIPT}, handler="function.handler")
    hostile = '{"a": "$(touch %s)", "b": "`touch %s`", "c": "\'; touch %s; \'"}' % ((marker,) * 3)
    result = invoke(emulator, hostile.encode())
    assert result.kind == "response"
    assert hostile.encode() in result.body
    assert not marker.exists()


def test_one_bash_serves_every_event_and_the_script_is_sourced_once(function, emulator):
    fn = function({"function.sh": SCRIPT}, handler="function.pid")
    pids = {invoke(emulator, {}).body for _ in range(5)}
    assert len(pids) == 1
    assert fn.stdout.count("sourced once") == 1


def test_large_and_multibyte_events_arrive_whole(function, emulator):
    function({"function.sh": SCRIPT}, handler="function.length", env={"LANG": "C.UTF-8"})
    small = ('{"s": "%s"}' % ("é" * 1000)).encode()
    large = ('{"s": "%s"}' % ("é" * 100_000)).encode()  # over the pipe limit: sent as a file
    assert invoke(emulator, small).body == str(len(small.decode())).encode()
    assert invoke(emulator, large).body == str(len(large.decode())).encode()


def test_non_zero_exit_is_an_error_with_stderr(function, emulator):
    fn = function({"function.sh": SCRIPT}, handler="function.fails")
    result = invoke(emulator, {})
    assert result.kind == "error"
    error = json.loads(result.body)
    assert error["errorType"] == "Function.NonZeroExit"
    assert error["errorMessage"] == "fails: exit status 3: something broke"
    assert result.headers["lambda-runtime-function-error-type"] == "Function.NonZeroExit"
    wait_until(lambda: "something broke" in fn.stderr)  # stderr also reaches the logs


def test_a_function_that_exits_the_shell_fails_alone(function, emulator):
    fn = function({"function.sh": SCRIPT}, handler="function.quits")
    for _ in range(2):  # a fresh bash serves the next event
        error = json.loads(invoke(emulator, {}).body)
        assert error["errorMessage"] == "quits: the shell exited with status 9: bye"
    assert fn.proc.poll() is None


def test_unset_variable_fails_like_under_the_seeds_set_u(function, emulator):
    function({"function.sh": SCRIPT}, handler="function.unset_var")
    error = json.loads(invoke(emulator, {}).body)
    assert error["errorType"] == "Function.NonZeroExit"
    assert "NOT_DEFINED_ANYWHERE: unbound variable" in error["errorMessage"]


def test_script_that_fails_to_load_is_an_init_error(function, emulator):
    fn = function({"function.sh": "echo loading\nfalse\nhandler () { echo hi; }\n"}, handler="function.handler")
    error = emulator.wait_init_error()
    body = json.loads(error.body)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'function': function.sh failed to load (exit status 1)"
    assert fn.wait() == 1


def test_syntax_error_text_is_in_the_init_error(function, emulator):
    function({"function.sh": "handler () {\n  echo (\n}\n"}, handler="function.handler")
    body = json.loads(emulator.wait_init_error().body)
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "syntax error" in body["errorMessage"]


def test_missing_function_is_handler_not_found(function, emulator):
    function({"function.sh": SCRIPT}, handler="function.nope")
    body = json.loads(emulator.wait_init_error().body)
    assert body == {
        "errorMessage": "Handler 'nope' missing on module 'function'",
        "errorType": "Runtime.HandlerNotFound",
        "requestId": "",
        "stackTrace": [],
    }


def test_a_python_module_of_the_same_name_wins(function, emulator):
    function(
        {"function.sh": SCRIPT, "function.py": "def handler(event, context):\n    return 'python'\n"},
        handler="function.handler",
    )
    assert json.loads(invoke(emulator, {}).body) == "python"


@pytest.mark.parametrize("script_dir", [os.path.join(EXAMPLES, "shell"), SEED_DIR])
def test_same_responses_as_the_seed_bootstrap(tmp_path, emulator, script_dir):
    """The seed's own function.sh (and the example) under the seed's bootstrap and under fastrt."""
    events = [b'{"hello": "world"}', b'{"n": 1,   "list": [1, 2, 3]}', b'"plain string"']
    answers = {}
    for runtime in ("seed", "fastrt"):
        root = write_files(str(tmp_path / runtime), {})
        with open(os.path.join(script_dir, "function.sh")) as f:
            write_files(root, {"function.sh": f.read()})
        fn = Function(emulator.runtime_api, root, "function.handler", {"TMPDIR": str(tmp_path)}, emulator.lambda_env("function.handler", root))
        if runtime == "seed":
            fn.proc = subprocess.Popen(
                ["bash", os.path.join(SEED_DIR, "bootstrap")],
                cwd=root, env=fn.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,  # its curl children go down with it
            )
        else:
            fn.start()
        try:
            answers[runtime] = [invoke(emulator, event).body for event in events]
        finally:
            if runtime == "seed":
                os.killpg(fn.proc.pid, signal.SIGKILL)
            fn.stop()
            emulator.new_runtime()
    assert answers["fastrt"] == answers["seed"]
    assert b'{"hello": "world"}' in answers["fastrt"][0]
