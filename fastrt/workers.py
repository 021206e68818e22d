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
        try:
            return self.transport.next_invocation()
        except Exception as exc:
            error = exc
        import time

        delay = NEXT_FIRST_DELAY_S
        _warn("Initial /next failed: %s" % (error,))
        for attempt in range(2, NEXT_RETRIES + 2):
            time.sleep(delay)
            try:
                return self.transport.next_invocation()
            except Exception as exc:
                _warn("Attempt %d failed: %s" % (attempt, exc))
                error = exc
            delay *= 2
        raise error

    def post_response(self, request_id, body, content_type, invocation_id):
        status, answer = self.transport.post_response(request_id, body, content_type, invocation_id)
        return self._survive("response", status, answer)

    def post_error(self, request_id, body, error_type, xray_cause, invocation_id):
        status, answer = self.transport.post_error(request_id, body, error_type, xray_cause, invocation_id)
        return self._survive("error", status, answer)

    def post_init_error(self, body, error_type, *path):
        status, answer = self.transport.post_init_error(body, error_type, *path)
        if status == 403:
            return 202, b""  # another worker has already reported the init failure
        return status, answer

    @staticmethod
    def _survive(what: str, status: int, answer: bytes) -> tuple:
        if status >= 500:
            # A single runtime would exit here; a worker logs and goes on with the next event.
            _warn(
                "Failed to post invocation %s. Http response code: %d. %s: This won't kill the Runtime loop"
                % (what, status, answer.decode("utf-8", "replace"))
            )
            return 202, answer
        return status, answer


def _warn(message: str) -> None:
    import logging  # the reference logs these through logging too

    logging.warning(message)


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
