"""Lambda Managed Instances (``AWS_LAMBDA_MAX_CONCURRENCY``) against the reference: where the
parent's and the workers' log records go when the platform gives a telemetry fd (contract §1.14)."""

import json
import os
import threading

import pytest

from runtime_harness import wait_until

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
        assert worker_lines["fastrt"][0].split("\t")[0] == worker_lines["awslambdaric"][0].split("\t")[0] == "[WARNING]"
