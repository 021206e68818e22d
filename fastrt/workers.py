"""Lambda Managed Instances: ``AWS_LAMBDA_MAX_CONCURRENCY=N`` serves N events at once.

As awslambdaric does it (contract §1.14): the parent forks N worker processes, each a whole
runtime of its own — it imports the handler, opens its own keep-alive connection and loops
on ``/next``. With ``_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET`` set, each worker connects
its stdout and stderr to that unix socket. Workers are more forgiving than a single runtime:
a failed ``/next`` is retried with backoff, a refused post is logged instead of ending the
worker, and a 403 on ``/init/error`` (another worker reported first) is not an error.

The parent only waits. It exits 0 when the workers are gone, whatever their exit codes,
and passes SIGTERM on to them so their ``fastrt.on_shutdown`` hooks run.
"""

from __future__ import annotations

import os
import sys

from fastrt.loop import log_next_failed, log_refused

# awslambdaric's multi-concurrent /next retry: 4 more attempts, 0.1 s doubling.
NEXT_RETRIES = 4
NEXT_FIRST_DELAY_S = 0.1


def run_workers(config, environ) -> None:
    """Fork ``config.max_concurrency`` workers and wait for all of them; never returns."""
    from fastrt import logs

    count = config.max_concurrency
    logs.log_worker_pool_starting(count)
    _flush()
    workers = []
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            _worker(config, environ, index)  # never returns
        workers.append(pid)
    _supervise(workers)
    _flush()
    sys.exit(0)


# --- the parent -----------------------------------------------------------------------------


def _supervise(workers: list) -> None:
    import _signal

    def forward(signum, frame):
        for pid in workers:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    _signal.signal(_signal.SIGTERM, forward)
    remaining = set(workers)
    while remaining:
        try:
            pid, _status = os.waitpid(-1, 0)
        except ChildProcessError:
            return
        remaining.discard(pid)


# --- one worker -----------------------------------------------------------------------------


def _worker(config, environ, index: int) -> None:
    """The body of a forked worker: a full runtime; ends the process, never returns."""
    import _signal

    code = 1
    try:
        _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)  # not the parent's forwarder
        environ["FASTRT_WORKER_INDEX"] = str(index)
        if config.lmi_socket_path:
            _redirect_output(config.lmi_socket_path)
        _serve(config, environ)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        _flush()
        os._exit(code)


def _redirect_output(socket_path: str) -> None:
    """Point fd 1 and fd 2 at fresh connections to the platform's log socket."""
    import _socket

    _flush()
    for fd in (1, 2):
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.connect(socket_path)
            os.dup2(sock.fileno(), fd)
        finally:
            sock.close()


def _serve(config, environ) -> None:
    from fastrt import logs
    from fastrt.start import Config, make_transport, serve

    # A whole runtime, as the reference's bootstrap.run in each worker: settings read and logging
    # set up afresh (the parent took the telemetry fd, so records go to this worker's stdout).
    config = Config.from_environ(environ, config.handler)
    logs.setup(config)
    serve(config, environ, WorkerTransport(make_transport(config)))


class WorkerTransport:
    """A transport with awslambdaric's multi-concurrent error handling around it."""

    def __init__(self, transport) -> None:
        self.transport = transport

    def __getattr__(self, name: str):
        # Everything not overridden here (open_stream, get, close, ...) is the transport's.
        return getattr(self.transport, name)

    def next_invocation(self):
        # The reference's multi-concurrent client: its native client prints a LAMBDA_RUNTIME line
        # and raises "Failed to get next"; the first failure and each retry's are logged as
        # warnings, each retry announced at INFO, 0.1 s doubling between them.
        try:
            return self.transport.next_invocation()
        except Exception as exc:
            error = exc
        import time

        log_next_failed(error)
        _log(_WARNING, "Initial runtime_client.next() failed: %s" % _NEXT_FAILED)
        delay = NEXT_FIRST_DELAY_S
        for attempt in range(2, NEXT_RETRIES + 2):
            _log(_INFO, "Retrying runtime_client.next() [attempt %d]..." % attempt)
            time.sleep(delay)
            try:
                return self.transport.next_invocation()
            except Exception as exc:
                error = exc
            log_next_failed(error)
            _log(_WARNING, "Attempt %d failed: %s" % (attempt, _NEXT_FAILED))
            delay *= 2
        raise error

    def post_response(self, request_id, body, content_type, invocation_id):
        status, answer = self.transport.post_response(request_id, body, content_type, invocation_id)
        if status == 413:
            return status, answer  # reported as Function.ResponseSizeTooLarge, as by one runtime
        return _survive(status, answer, "handler success response", "invocation response")

    def post_error(self, request_id, body, error_type, xray_cause, invocation_id):
        status, answer = self.transport.post_error(request_id, body, error_type, xray_cause, invocation_id)
        return _survive(status, answer, "invocation error", "invocation error")

    def post_init_error(self, body, error_type, *path):
        status, answer = self.transport.post_init_error(body, error_type, *path)
        if status == 403:
            return 202, b""  # another worker has already reported the init failure
        return status, answer


# The message of the reference's native client for any failed /next.
_NEXT_FAILED = "Failed to get next"
# logging.INFO and logging.WARNING: logging itself is imported on the first failure only.
_INFO = 20
_WARNING = 30


def _survive(status: int, answer: bytes, printed: str, raised: str) -> tuple:
    """A refused post, as the reference's workers take it: logged, and the loop goes on."""
    if status < 300:
        return status, answer
    log_refused(printed, status, answer)
    _log(_WARNING, "Failed to post %s: This won't kill the Runtime loop" % raised)
    return 202, answer


def _log(level: int, message: str) -> None:
    import logging  # the reference logs these through logging too

    logging.log(level, message)


def _exit_code(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write("%s\n" % (code,))
    return 1


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
