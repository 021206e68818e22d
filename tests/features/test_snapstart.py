"""SnapStart (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start): hooks, /restore/next, the error
types and exit codes of awslambdaric (contract §1.6), checked side by side with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from feature_harness import EXAMPLES, Function, StubApi, accepted, invoke, write_files

SNAP = {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}

APP = """
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    ORDER = []

    for name in ("b1", "b2"):
        register_before_snapshot(lambda name=name: ORDER.append(name))
    for name in ("a1", "a2"):
        register_after_restore(lambda name=name: ORDER.append(name))

    @register_before_snapshot
    def maybe_fail_before():
        if FAIL == "before":
            raise ValueError("cannot snapshot")

    @register_after_restore
    def maybe_fail_after():
        if FAIL == "after":
            raise RuntimeError("cannot restore")

    FAIL = None

    def handler(event, context):
        return ORDER
"""


def test_hooks_run_around_restore_next(function, emulator):
    function({"app.py": APP}, env=SNAP)
    assert json.loads(invoke(emulator, {}).body) == ["b2", "b1", "a1", "a2"]
    paths = [r.path for r in emulator.requests]
    assert paths.index("/2018-06-01/runtime/restore/next") < paths.index("/2018-06-01/runtime/invocation/next")


def test_without_snap_start_no_hooks_run(function, emulator):
    function({"app.py": APP})
    assert json.loads(invoke(emulator, {}).body) == []
    assert "/2018-06-01/runtime/restore/next" not in [r.path for r in emulator.requests]


def _run(runtime: str, emulator, tmp_path, source: str) -> tuple:
    root = write_files(str(tmp_path / runtime), {"app.py": source})
    fn = Function(emulator.runtime_api, root, "app.handler", SNAP, emulator.lambda_env("app.handler", root))
    if runtime == "fastrt":
        fn.start()
    else:
        fn.proc = subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", "app.handler"], cwd=root, env=fn.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    try:
        return fn.wait(timeout=20), fn
    finally:
        fn.stop()


@pytest.mark.parametrize(
    "fail, code, path, error_type, exception",
    [
        ("before", 64, "/2018-06-01/runtime/init/error", "Runtime.BeforeSnapshotError", "ValueError"),
        ("after", 65, "/2018-06-01/runtime/restore/error", "Runtime.AfterRestoreError", "RuntimeError"),
    ],
)
def test_hook_failures_match_awslambdaric(emulator, tmp_path, fail, code, path, error_type, exception):
    source = APP.replace('FAIL = None', 'FAIL = %r' % fail)
    seen = {}
    for runtime in ("awslambdaric", "fastrt"):
        start = len(emulator.requests)
        exit_code, _ = _run(runtime, emulator, tmp_path, source)
        posts = [r for r in emulator.requests[start:] if r.method == "POST"]
        assert [r.path for r in posts] == [path], runtime
        headers = {name.lower(): value for name, value in posts[0].headers}
        body = json.loads(posts[0].body)
        seen[runtime] = (exit_code, headers["lambda-runtime-function-error-type"], body["errorType"],
                         body["errorMessage"], body["requestId"])
        emulator.new_runtime()
    assert seen["fastrt"] == seen["awslambdaric"] == (code, error_type, exception, seen["fastrt"][3], "")
    assert seen["fastrt"][3] in ("cannot snapshot", "cannot restore")


def test_restore_next_failure_is_a_before_snapshot_error(tmp_path):
    stub = StubApi(
        {
            ("GET", "/2018-06-01/runtime/restore/next"): lambda r: (500, {}, b'{"errorType": "Broken"}'),
            ("POST", "/2018-06-01/runtime/init/error"): accepted,
        }
    )
    try:
        root = write_files(str(tmp_path / "task"), {"app.py": "def handler(event, context):\n    return 1\n"})
        env = {"_HANDLER": "app.handler", "LAMBDA_TASK_ROOT": root}
        env.update(SNAP)
        fn = Function(stub.address, root, "app.handler", env, {}).start()
        assert fn.wait(timeout=20) == 64
        post = [r for r in stub.requests if r["method"] == "POST"][0]
        assert post["path"] == "/2018-06-01/runtime/init/error"
        assert post["headers"]["lambda-runtime-function-error-type"] == "Runtime.BeforeSnapshotError"
        body = json.loads(post["body"])
        assert body["errorType"] == "LambdaRuntimeClientError"
        assert "'/2018-06-01/runtime/restore/next' endpoint failed. Reason: '500'" in body["errorMessage"]
    finally:
        stub.close()


def test_example(function, emulator):
    with open(os.path.join(EXAMPLES, "snapstart", "app.py")) as f:
        function({"app.py": f.read()}, env=SNAP)
    state = json.loads(invoke(emulator, {}).body)
    assert state["restored"] and state["connection"].startswith("reopened after restore")
