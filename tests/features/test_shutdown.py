"""Graceful shutdown: SIGTERM while the runtime waits on /next runs the hooks, exits 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from feature_harness import EXAMPLES, StubApi, accepted, base_env, invoke, next_answer, wait_until

APP = """
    import asyncio, signal, sys
    import fastrt

    @fastrt.on_shutdown
    def first():
        print("hook: first", flush=True)

    @fastrt.on_shutdown
    async def second():
        await asyncio.sleep(0)
        print("hook: second (async)", flush=True)

    @fastrt.on_shutdown
    def broken():
        raise ValueError("hook failed")

    def handler(event, context):
        return "ok"
"""


def test_sigterm_while_idle_on_next_runs_hooks_and_exits_0(function, emulator):
    fn = function({"app.py": APP})
    assert json.loads(invoke(emulator, {}).body) == "ok"
    emulator.wait_for_next()  # the runtime is blocked in recv() on /next
    fn.signal(signal.SIGTERM)
    assert fn.wait(timeout=10) == 0
    out = fn.stdout
    # newest first, like atexit; a failing hook does not stop the others
    assert out.index("hook: second (async)") < out.index("hook: first")
    assert "ValueError: hook failed" in fn.stderr


def test_user_signal_handlers_run_while_waiting_on_next(function, emulator):
    app = """
        import os, signal, sys

        def on_usr1(signum, frame):
            print("usr1 handled", flush=True)

        def on_term(signum, frame):
            print("user term handler", flush=True)
            sys.exit(0)

        signal.signal(signal.SIGUSR1, on_usr1)
        signal.signal(signal.SIGTERM, on_term)

        def handler(event, context):
            return "ok"
    """
    fn = function({"app.py": app})
    emulator.wait_for_next()
    fn.signal(signal.SIGUSR1)
    wait_until(lambda: "usr1 handled" in fn.stdout)
    # still serving after the signal: recv() was resumed (PEP 475), not broken
    assert json.loads(invoke(emulator, {}).body) == "ok"
    emulator.wait_for_next()
    fn.signal(signal.SIGTERM)
    assert fn.wait(timeout=10) == 0
    assert "user term handler" in fn.stdout


def test_a_sigterm_handler_installed_before_on_shutdown_still_runs(function, emulator):
    app = """
        import signal
        import fastrt

        signal.signal(signal.SIGTERM, lambda s, f: print("earlier handler", flush=True))
        fastrt.on_shutdown(lambda: print("hook", flush=True))

        def handler(event, context):
            return "ok"
    """
    fn = function({"app.py": app})
    emulator.wait_for_next()
    fn.signal(signal.SIGTERM)
    assert fn.wait(timeout=10) == 0
    assert fn.stdout.index("hook") < fn.stdout.index("earlier handler")


def test_example(function, emulator):
    with open(os.path.join(EXAMPLES, "shutdown", "app.py")) as f:
        fn = function({"app.py": f.read()})
    assert json.loads(invoke(emulator, {}).body) == {"open": True}
    emulator.wait_for_next()
    fn.signal(signal.SIGTERM)
    assert fn.wait(timeout=10) == 0
    assert "shutdown: connections closed" in fn.stdout


def test_first_hook_registers_a_no_op_extension_before_the_first_next(tmp_path):
    """Against a stub with the Extensions API: register, then a parked /event/next."""

    def register(request):
        return 200, {"Lambda-Extension-Identifier": "ext-id-1", "Content-Type": "application/json"}, b"{}"

    stub = StubApi(
        {
            ("POST", "/2020-01-01/extension/register"): register,
            ("GET", "/2020-01-01/extension/event/next"): None,  # never answers: no events
            ("GET", "/2018-06-01/runtime/invocation/next"): next_answer([b"{}"]),
            ("POST", "/2018-06-01/runtime/invocation/req-1/response"): accepted,
        }
    )
    root = tmp_path / "task"
    root.mkdir()
    (root / "app.py").write_text(
        "import fastrt\nfastrt.on_shutdown(lambda: print('bye', flush=True))\n"
        "def handler(event, context):\n    return 'ok'\n"
    )
    env = base_env()
    env["PYTHONFAULTHANDLER"] = "1"
    env.update({"AWS_LAMBDA_RUNTIME_API": stub.address, "_HANDLER": "app.handler", "LAMBDA_TASK_ROOT": str(root)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastrt"], cwd=str(root), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_until(lambda: any(r["path"].endswith("/response") for r in stub.requests), timeout=15)
        paths = [r["path"] for r in stub.requests]
        register_at = paths.index("/2020-01-01/extension/register")
        assert register_at < paths.index("/2018-06-01/runtime/invocation/next")
        registration = stub.requests[register_at]
        assert registration["headers"]["lambda-extension-name"] == "fastrt-graceful-shutdown"
        assert json.loads(registration["body"]) == {"events": []}
        # The extension's /event/next poll is opened on its own thread, so it may trail the response.
        wait_until(lambda: any(r["path"] == "/2020-01-01/extension/event/next" for r in stub.requests))
        polls = [r for r in stub.requests if r["path"] == "/2020-01-01/extension/event/next"]
        assert polls[0]["headers"]["lambda-extension-identifier"] == "ext-id-1"
        # idle again: the second /next is parked (never answered by the stub)
        wait_until(lambda: [r["path"] for r in stub.requests].count("/2018-06-01/runtime/invocation/next") == 2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err.decode()
        assert b"bye" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stub.close()


def test_registration_failure_only_warns(function, emulator):
    """The emulator has no Extensions API: the runtime warns and serves as usual."""
    fn = function({"app.py": APP})
    assert json.loads(invoke(emulator, {}).body) == "ok"
    assert "could not register the shutdown extension: HTTP 404" in fn.stderr
    assert [r.path for r in emulator.requests if r.path.startswith("/2020-01-01/extension")] == [
        "/2020-01-01/extension/register"
    ]


@pytest.mark.parametrize("value", ["0", "false", "No", "OFF"])
def test_shutdown_extension_can_be_turned_off(function, emulator, value):
    """No registration at all: no request for it reaches the API, so no warning either."""
    fn = function({"app.py": APP}, env={"FASTRT_SHUTDOWN_EXTENSION": value})
    assert json.loads(invoke(emulator, {}).body) == "ok"
    emulator.wait_for_next()
    fn.signal(signal.SIGTERM)
    assert fn.wait(timeout=10) == 0
    assert "could not register the shutdown extension" not in fn.stderr
    assert not [r for r in emulator.requests if r.path.startswith("/2020-01-01/extension")]


def test_sigterm_during_an_invocation_still_runs_the_hooks(function, emulator, tmp_path):
    started = tmp_path / "started"
    app = """
        import time
        import fastrt

        fastrt.on_shutdown(lambda: print("hook ran", flush=True))

        def handler(event, context):
            open(%r, "w").close()
            time.sleep(30)
    """ % str(started)
    fn = function({"app.py": app})
    emulator.enqueue(b"{}")
    wait_until(started.exists, timeout=15)
    fn.signal(signal.SIGTERM)
    assert fn.wait(timeout=10) == 0
    assert "hook ran" in fn.stdout
