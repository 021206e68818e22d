"""Runs log scenarios under one runtime's log set-up, in a process of its own.

    python driver.py {reference|fastrt} SCENARIO [SCENARIO ...] [--preimport-logging]

``reference`` sets up output the way awslambdaric 4.2.2's ``bootstrap.run`` does (its own
functions, called directly); ``fastrt`` calls ``fastrt.logs.setup``. Both read the same
environment (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL, _LAMBDA_TELEMETRY_LOG_FD, ...),
then the named functions of ``scenarios.py`` run against a small common API.
"""

from __future__ import annotations

import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import scenarios  # noqa: E402


class ReferenceRuntime:
    """awslambdaric's log set-up and error log, called the way its run() calls them."""

    def __init__(self) -> None:
        from awslambdaric import bootstrap, lambda_context

        self.bootstrap = bootstrap
        self.lambda_context = lambda_context
        sys.stdout = bootstrap.Unbuffered(sys.stdout)
        sys.stderr = bootstrap.Unbuffered(sys.stderr)
        self.sink = bootstrap.create_log_sink().__enter__()
        bootstrap._setup_logging(bootstrap._AWS_LAMBDA_LOG_FORMAT, bootstrap._AWS_LAMBDA_LOG_LEVEL, self.sink)

    def set_request(self, request_id, tenant_id) -> None:
        self.bootstrap._GLOBAL_AWS_REQUEST_ID = request_id
        self.bootstrap._GLOBAL_TENANT_ID = tenant_id

    def log_error(self, error_type, message, stack, request_id) -> None:
        self.bootstrap.log_error(self.bootstrap.make_error(message, error_type, stack, request_id), self.sink)

    def log_init_warning(self) -> None:
        import logging

        from awslambdaric.lambda_literals import lambda_unhandled_exception_warning_message

        logging.warning(lambda_unhandled_exception_warning_message)

    def context(self, request_id):
        return self.lambda_context.LambdaContext(request_id, None, None, 0, "arn")


class FastrtRuntime:
    def __init__(self) -> None:
        from fastrt import logs
        from fastrt.start import Config
        from fastrt.context import ContextFactory

        self.logs = logs
        config = Config.from_environ(os.environ)
        logs.setup(config)
        self.contexts = ContextFactory(config)

    def set_request(self, request_id, tenant_id) -> None:
        self.logs.set_request(request_id, tenant_id)

    def log_error(self, error_type, message, stack, request_id) -> None:
        info = types.SimpleNamespace(error_type=error_type, message=message, stack=stack)
        self.logs.log_error(info, request_id)

    def log_init_warning(self) -> None:
        self.logs.log_init_warning()

    def context(self, request_id):
        return self.contexts.make(request_id, 0, "arn", None, None, None)


def main(argv: list) -> None:
    if "--preimport-logging" in argv:
        argv.remove("--preimport-logging")
        import logging  # noqa: F401
    runtime = {"reference": ReferenceRuntime, "fastrt": FastrtRuntime}[argv[0]]()
    print("telemetry fd variable left:", "_LAMBDA_TELEMETRY_LOG_FD" in os.environ)
    for name in argv[1:]:
        print("== %s" % name)
        getattr(scenarios, name)(runtime)


if __name__ == "__main__":
    main(sys.argv[1:])
