"""Lambda Managed Instances (``AWS_LAMBDA_MAX_CONCURRENCY``) against the reference (contract
§1.14): where the parent's and the workers' log records go, and what a worker logs when the
Runtime API refuses a post or fails a ``/next``."""

import json
import os
import re
import threading
import time

import pytest

from fastrt.emulator import Fault
from runtime_harness import wait_until

ECHO_APP = """
def handler(event, context):
    return event
"""

# The reference retries a failed /next only where it polls /next from a thread (3.12+).
THREAD_POLLING_ENV = {"AWS_LAMBDA_MAX_CONCURRENCY": "1", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}


def _log_lines(stdout: str) -> list:
    """The worker's log lines with times and request ids masked; the LAMBDA_RUNTIME lines (the
    reference's native client prints its own detail there) reduced to what failed."""
    lines = []
    for line in stdout.splitlines():
        line = re.sub(r"^\[ERROR\] \[\d+\] LAMBDA_RUNTIME (Failed to [a-z ]+)[.].*", r"LAMBDA_RUNTIME \1", line)
        line = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "T", line)
        lines.append(re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "R", line))
    return lines


LOGGING_APP = """
import logging

def handler(event, context):
    logging.getLogger().warning("from a worker")
    return 1
"""


def _workers_logging(serve, runtime: str, log_format: str) -> dict:
    read_end, write_end = os.pipe()
    chunks: list = []

    def read_all() -> None:
        for chunk in iter(lambda: os.read(read_end, 65536), b""):
            chunks.append(chunk)

    reader = threading.Thread(target=read_all, daemon=True)
    env = {
        "AWS_LAMBDA_MAX_CONCURRENCY": "2",
        "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
        "AWS_LAMBDA_LOG_FORMAT": log_format,
        "_LAMBDA_TELEMETRY_LOG_FD": str(write_end),
    }
    try:
        fn = serve(LOGGING_APP, runtime=runtime, env=env, pass_fds=(write_end,))
    finally:
        os.close(write_end)
    reader.start()
    assert fn.invoke({}).body == b"1"
    wait_until(lambda: "from a worker" in fn.stdout)
    # The parent closed the fd before forking and the workers never had it: the pipe ends
    # while they are still serving.
    reader.join(timeout=10)
    ended = not reader.is_alive()
    if ended:
        os.close(read_end)
    return {"telemetry": b"".join(chunks), "stdout": fn.stdout, "pipe_ended": ended}


@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_the_parent_logs_to_the_telemetry_fd_and_each_worker_to_its_stdout(serve, log_format: str) -> None:
    runs = {runtime: _workers_logging(serve, runtime, log_format) for runtime in ("awslambdaric", "fastrt")}
    for runtime, run in runs.items():
        assert run["pipe_ended"], runtime
        assert run["telemetry"].count(b"runtime_worker_pool_initializing") == 1, runtime
        assert b"from a worker" not in run["telemetry"], runtime
        assert "runtime_worker_pool_initializing" not in run["stdout"], runtime
    worker_lines = {
        runtime: [line for line in run["stdout"].splitlines() if "from a worker" in line] for runtime, run in runs.items()
    }
    assert len(worker_lines["fastrt"]) == len(worker_lines["awslambdaric"]) == 1
    if log_format == "JSON":
        ours, theirs = (json.loads(worker_lines[runtime][0]) for runtime in ("fastrt", "awslambdaric"))
        assert list(ours) == list(theirs)
        assert (ours["level"], ours["message"]) == (theirs["level"], theirs["message"]) == ("WARNING", "from a worker")
    else:
        assert _log_lines(worker_lines["fastrt"][0]) == _log_lines(worker_lines["awslambdaric"][0])
        assert _log_lines(worker_lines["fastrt"][0]) == ["[WARNING]\tT\tR\tfrom a worker"]


def _refused_response(serve, runtime: str) -> tuple:
    fn = serve(ECHO_APP, runtime=runtime, env=THREAD_POLLING_ENV)
    fn.emu.wait_for_next()
    fn.emu.add_fault(Fault("response", "status", status=500, body=b'{"errorType": "Boom"}'))
    fn.emu.enqueue(b'{"first": 1}')
    wait_until(lambda: "This won't kill the Runtime loop" in fn.stdout, timeout=15)
    second = fn.invoke({"second": 2})
    return json.loads(second.body), _log_lines(fn.stdout)


def _failed_next(serve, runtime: str) -> tuple:
    fn = serve(ECHO_APP, runtime=runtime, env=dict(THREAD_POLLING_ENV, AWS_LAMBDA_LOG_LEVEL="INFO"), start=False)
    fn.emu.add_fault(Fault("next", "status", status=500, times=2))
    answer = fn.start().invoke({"x": 1})
    time.sleep(0.2)  # the lines written after the answer left, if any, are compared too
    return json.loads(answer.body), _log_lines(fn.stdout)


# scenario -> (run it, the answer to the event served after the failure, the worker's log lines)
FAILURES = {
    "refused-response": (
        _refused_response,
        {"second": 2},
        [
            "LAMBDA_RUNTIME Failed to post handler success response",
            "[WARNING]\tT\tR\tFailed to post invocation response: This won't kill the Runtime loop",
        ],
    ),
    "failed-next": (
        _failed_next,
        {"x": 1},
        [
            "LAMBDA_RUNTIME Failed to get next invocation",
            "[WARNING]\tT\t\tInitial runtime_client.next() failed: Failed to get next",
            "[INFO]\tT\t\tRetrying runtime_client.next() [attempt 2]...",
            "LAMBDA_RUNTIME Failed to get next invocation",
            "[WARNING]\tT\t\tAttempt 2 failed: Failed to get next",
            "[INFO]\tT\t\tRetrying runtime_client.next() [attempt 3]...",
        ],
    ),
}


@pytest.mark.parametrize("scenario", FAILURES)
def test_a_worker_survives_a_failure_and_logs_it_as_the_reference_does(serve, scenario: str) -> None:
    run, answer, lines = FAILURES[scenario]
    runs = {runtime: run(serve, runtime) for runtime in ("awslambdaric", "fastrt")}
    assert runs["fastrt"] == runs["awslambdaric"] == (answer, lines)


def _init_failure(serve, runtime: str) -> tuple:
    fn = serve("raise ImportError('no such thing')\n", runtime=runtime, env={"AWS_LAMBDA_MAX_CONCURRENCY": "2"})
    code = fn.wait(timeout=20)
    posted = sorted((e.status, json.loads(e.body)["errorType"]) for e in fn.emu.init_errors)
    return code, posted, sorted(_log_lines(fn.stdout))


def test_an_init_failure_is_reported_once_and_the_parent_exits_0(serve) -> None:
    runs = {runtime: _init_failure(serve, runtime) for runtime in ("awslambdaric", "fastrt")}
    assert runs["fastrt"] == runs["awslambdaric"]
    code, posted, _ = runs["fastrt"]
    assert code == 0 and posted == [(202, "Runtime.ImportModuleError"), (403, "Runtime.ImportModuleError")]
