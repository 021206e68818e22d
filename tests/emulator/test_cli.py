"""``fastrt emulate`` / ``fastrt invoke`` as users run them, with real runtimes as COMMAND and
plain HTTP as the invoker (the RIE-compatible side)."""

import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from emulator_harness import AWSLAMBDARIC, FIXTURES, SEED_BOOTSTRAP

CLI = [sys.executable, "-m", "fastrt.cli"]


class Emulate:
    """A running ``fastrt emulate``; its stdout (log lines + runtime output) is collected."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            CLI + ["emulate", "--port", "0", "--task-root", str(FIXTURES)] + list(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        banner = self.proc.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)(/2015-03-31/functions/function/invocations)", banner)
        assert match, banner
        self.url = "http://127.0.0.1:%s%s" % match.groups()
        self.lines: list = []
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def invoke(self, body: bytes = b"{}", headers: dict | None = None) -> tuple:
        request = urllib.request.Request(self.url, data=body, headers=headers or {}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def wait_line(self, pattern: str, count: int = 1, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in list(self.lines) if re.search(pattern, line)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError("no %d lines like %r in %r" % (count, pattern, self.lines))
            time.sleep(0.01)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def emulate():
    started = []

    def start(*args: str) -> Emulate:
        running = Emulate(*args)
        started.append(running)
        return running

    yield start
    for running in started:
        running.close()


def test_emulate_awslambdaric_success_error_crash_and_logs(emulate):
    emu = emulate("--handler", "app.echo", "--", *AWSLAMBDARIC, "app.echo")
    context = base64.b64encode(b'{"custom":{"a":"b"},"client":{},"env":{}}').decode()
    status, headers, body = emu.invoke(
        b'{"k":1}',
        {"X-Amz-Client-Context": context, "X-Amzn-Trace-Id": "Root=1-abc", "X-Amz-Tenant-Id": "t9"},
    )
    assert status == 200 and "X-Amz-Function-Error" not in headers
    seen = json.loads(body)
    assert seen["event"] == {"k": 1} and seen["trace"] == "Root=1-abc" and seen["client_context"] == {"a": "b"}
    assert seen["function_name"] == "function" and seen["memory"] == "128"
    request_id = seen["request_id"]
    assert emu.wait_line(r"^START RequestId: %s Version: \$LATEST$" % request_id)
    assert emu.wait_line(r"^END RequestId: %s$" % request_id)
    (report,) = emu.wait_line(r"^REPORT RequestId: %s\t" % request_id)
    assert re.match(
        r"REPORT RequestId: \S+\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t"
        r"Max Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t$",
        report,
    ), report
    # warm invoke: no Init Duration, same process
    status, _, body = emu.invoke(b"[2]")
    assert status == 200 and json.loads(body)["pid"] == seen["pid"]
    warm = emu.wait_line(r"^REPORT RequestId: %s\t" % json.loads(body)["request_id"])[0]
    assert "Init Duration" not in warm


def test_emulate_function_error_crash_restart_and_timeout(emulate):
    emu = emulate("--timeout", "2", "--handler", "app.fail", "--", *AWSLAMBDARIC, "app.fail")
    status, headers, body = emu.invoke(b"{}")
    assert status == 200 and headers["X-Amz-Function-Error"] == "Unhandled"
    assert json.loads(body)["errorType"] == "ValueError"

    crash = emulate("--timeout", "2", "--", *AWSLAMBDARIC, "app.crash")
    status, headers, body = crash.invoke(b"{}")
    error = json.loads(body)
    assert status == 200 and headers["X-Amz-Function-Error"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    status, _, body = crash.invoke(b"{}")  # restarted: a new cold start
    assert json.loads(body)["errorType"] == "Runtime.ExitError"
    assert len(crash.wait_line(r"Init Duration", count=2)) == 2

    slow = emulate("--timeout", "1", "--", *AWSLAMBDARIC, "app.slow")
    started = time.monotonic()
    status, headers, body = slow.invoke(b'{"sleep": 30}')
    assert body == b"Task timed out after 1.00 seconds" and status == 200
    assert headers["X-Amz-Function-Error"] == "Unhandled"
    assert time.monotonic() - started < 20
    status, _, body = slow.invoke(b'{"sleep": 0}')  # the killed runtime is replaced
    assert (status, body) == (200, b'"late"')
    assert slow.wait_line(r"Task timed out after 1\.00 seconds")


def test_emulate_serves_the_init_error_on_first_invoke(emulate):
    emu = emulate("--", *AWSLAMBDARIC, "broken.handler")
    status, headers, body = emu.invoke(b"{}")
    assert status == 502 and headers["Content-Type"] == "application/json"
    error = json.loads(body)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "module_that_does_not_exist" in error["errorMessage"]
    assert emu.wait_line(r"Status: error\tError Type: Runtime\.ImportModuleError")


def test_emulate_with_the_seed_bootstrap(emulate):
    emu = emulate("--handler", "function.handler", "--", str(SEED_BOOTSTRAP))
    status, _, body = emu.invoke(b'{"hello":"bash"}')
    assert (status, body) == (200, b"Echoing request: '{\"hello\":\"bash\"}'")
    status, _, body = emu.invoke(b"42")
    assert body == b"Echoing request: '42'"


def test_invoke_prints_the_result_and_fails_on_function_error(tmp_path):
    event = tmp_path / "event.json"
    event.write_text('{"from":"file"}')
    done = subprocess.run(
        CLI + ["invoke", "app.echo", "--event", str(event), "--task-root", str(FIXTURES), "--"] + AWSLAMBDARIC + ["app.echo"],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == {"from": "file"}
    assert b"REPORT RequestId:" in done.stderr  # logs go to stderr, stdout is the result only

    failed = subprocess.run(
        CLI + ["invoke", "app.fail", "--event", "-", "--task-root", str(FIXTURES), "--"] + AWSLAMBDARIC + ["app.fail"],
        input=b"{}",
        capture_output=True,
        timeout=60,
    )
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorMessage"] == "boom"


def test_cli_usage_and_bench_outside_a_checkout(tmp_path):
    usage = subprocess.run(CLI, capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2 and "fastrt emulate" in usage.stderr
    # only the fastrt package on the path (no site-packages, no checkout): bench is not importable
    (tmp_path / "fastrt").symlink_to(Path(__file__).resolve().parents[2] / "fastrt")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    outside = subprocess.run(
        [sys.executable, "-S", "-m", "fastrt.cli", "bench"], capture_output=True, text=True, timeout=30, cwd="/", env=env
    )
    assert outside.returncode == 2 and "run from a checkout" in outside.stderr
