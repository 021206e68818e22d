"""fastrt.logs against awslambdaric 4.2.2: same scenarios, same bytes (timestamps masked).

Each case runs driver.py twice in fresh interpreters, once per runtime, with the same
environment, and compares stdout, stderr and the frames written to a real telemetry pipe.
"""

from __future__ import annotations

import pytest

from logs_harness import run_driver, run_script

MAIN_SCENARIOS = [
    "streams",
    "levels",
    "messages",
    "exceptions",
    "nested_exception",
    "error_records",
    "init_warning",
    "context_log",
    "second_handler_sees_request_id",
    "asyncio_task",
]

FORMATS = {
    "text": {},
    "json": {"AWS_LAMBDA_LOG_FORMAT": "JSON"},
    "json-lowercase": {"AWS_LAMBDA_LOG_FORMAT": "json"},
}
LEVELS = {
    "no-level": {},
    "DEBUG": {"AWS_LAMBDA_LOG_LEVEL": "DEBUG"},
    "TRACE": {"AWS_LAMBDA_LOG_LEVEL": "TRACE"},
    "warn-lowercase": {"AWS_LAMBDA_LOG_LEVEL": "warn"},
    "ERROR": {"AWS_LAMBDA_LOG_LEVEL": "ERROR"},
    "FATAL": {"AWS_LAMBDA_LOG_LEVEL": "FATAL"},
}


def assert_same(env: dict, scenarios: list, telemetry: bool, extra_args=(), expect_frames: bool = True) -> None:
    reference = run_driver("reference", scenarios, env, telemetry, extra_args)
    fastrt = run_driver("fastrt", scenarios, env, telemetry, extra_args)
    assert reference.returncode == 0, reference.stderr.decode()
    assert fastrt.returncode == 0, fastrt.stderr.decode()
    ref_out, ref_err, ref_frames = reference.masked()
    out, err, frames = fastrt.masked()
    assert out == ref_out
    assert err == ref_err
    assert frames == ref_frames
    if telemetry and expect_frames:
        assert frames, "the telemetry pipe stayed empty"


# Every level with the two canonical formats; the lowercase format spelling once.
MATRIX = [(fmt, level) for fmt in ("text", "json") for level in LEVELS] + [("json-lowercase", "no-level")]


@pytest.mark.parametrize("telemetry", [False, True], ids=["stdout", "telemetry-fd"])
@pytest.mark.parametrize("log_format,level", MATRIX, ids=["%s-%s" % case for case in MATRIX])
def test_scenarios_match_reference(log_format: str, level: str, telemetry: bool) -> None:
    env = {**FORMATS[log_format], **LEVELS[level]}
    assert_same(env, MAIN_SCENARIOS, telemetry)


@pytest.mark.parametrize("execution_env", ["AWS_Lambda_python3.11", "AWS_Lambda_python3.12"])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_error_record_escaping_follows_execution_env(log_format: str, execution_env: str) -> None:
    # The JSON error record escapes non-ASCII unless the environment is python3.12+.
    env = {**FORMATS[log_format], "AWS_EXECUTION_ENV": execution_env}
    assert_same(env, ["error_records"], telemetry=False)
    assert_same(env, ["error_records"], telemetry=True)


@pytest.mark.parametrize("telemetry", [False, True], ids=["stdout", "telemetry-fd"])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_logging_imported_before_setup(log_format: str, telemetry: bool) -> None:
    assert_same(FORMATS[log_format], ["levels", "context_log"], telemetry, ["--preimport-logging"])


@pytest.mark.parametrize("telemetry", [False, True], ids=["stdout", "telemetry-fd"])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_basic_config_in_handler_module_is_a_no_op(log_format: str, telemetry: bool) -> None:
    assert_same(FORMATS[log_format], ["basic_config_at_import"], telemetry)


@pytest.mark.parametrize("telemetry", [False, True], ids=["stdout", "telemetry-fd"])
def test_user_replaces_root_handler(telemetry: bool) -> None:
    # Nothing reaches the telemetry fd once the runtime's handler is gone, in both.
    assert_same({}, ["handler_replaced"], telemetry, expect_frames=False)


@pytest.mark.parametrize("level", ["trace", "BOGUS"])
def test_unusual_log_level_values(level: str) -> None:
    assert_same({"AWS_LAMBDA_LOG_LEVEL": level}, ["levels"], telemetry=True)


_WORKER_POOL = {
    "reference": """
from awslambdaric import bootstrap
from awslambdaric.lambda_multi_concurrent_utils import MultiConcurrentRunner
MultiConcurrentRunner._emit_worker_pool_event(3)
bootstrap.init_logging()  # what each forked worker's bootstrap.run does first
""",
    "fastrt": """
import os
from fastrt import logs
from fastrt.start import Config
logs.setup(Config.from_environ(os.environ))
logs.log_worker_pool_starting(3)
logs.setup(Config.from_environ(os.environ))
""",
}


@pytest.mark.parametrize("telemetry", [False, True], ids=["stdout", "telemetry-fd"])
@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_worker_pool_event_then_worker_logging(tmp_path, level: str, telemetry: bool) -> None:
    runs = {}
    for runtime, setup in _WORKER_POOL.items():
        script = tmp_path / ("worker_pool_%s.py" % runtime)
        script.write_text(setup + "import logging\nlogging.warning('from a worker')\n")
        runs[runtime] = run_script(str(script), {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": level}, telemetry)
    assert runs["fastrt"].returncode == runs["reference"].returncode == 0, runs["fastrt"].stderr
    assert runs["fastrt"].masked() == runs["reference"].masked()
    out = runs["fastrt"].stdout + b"".join(frame.message for frame in runs["fastrt"].frames)
    assert (b"runtime_worker_pool_initializing" in out) == (level == "DEBUG")
    assert b"from a worker" in runs["fastrt"].stdout  # workers never write to the parent's fd
