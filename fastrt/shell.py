"""Shell handlers: ``_HANDLER=function.handler`` with a ``function.sh`` in the task root.

The seed's bash bootstrap sources ``function.sh`` and, per event, runs
``RESPONSE=$(handler "$EVENT_DATA")`` between two curl calls. fastrt keeps that contract —
the function gets the event body as ``$1``, its standard output (without trailing newlines)
is the response — and replaces the per-event processes with one long-lived bash that
sources the script once and then serves events in a loop:

    Python --fd 3--> bash   a line of sizes, then request id, trace id and body in one block
    Python <--fd 4-- bash   "ready" after loading, then the exit status of each call
    Python <--fd 5-- bash   the function's standard output (the response)
    Python <--fd 2-- bash   standard error: copied to the runtime's stderr, kept for errors

The event only ever travels as data (read into ``EVENT_DATA`` and passed as ``"$1"``), never
as part of a command line, so nothing in it can run as shell code. Bodies over 64 KiB go
through a file (bash's ``read -N`` takes about 65 µs per KiB). ``REQUEST_ID`` and ``EVENT_DATA`` are
set as in the seed's bootstrap, and ``_X_AMZN_TRACE_ID`` is exported per event.

A non-zero exit status is an invocation error whose message carries the end of stderr; a
function that kills the shell (``exit``, ``set -u``) is reported the same way and a fresh
shell is started for the next event. A script that fails to load is an init error.
"""

from __future__ import annotations

import os

ERROR_TYPE = "Function.NonZeroExit"
# Events larger than this go through a file: `read -N` from a pipe costs about 65 µs per KiB.
PIPE_EVENT_LIMIT = 64 * 1024
# How much of a failing call's stderr its error message keeps (the end, where the cause is).
STDERR_TAIL_BYTES = 4096

# The bash side. Positional parameters: script, function name, event file.
DRIVER = r"""
__fastrt_script=$1 __fastrt_function=$2 __fastrt_event_file=$3
shift 3
set -euo pipefail
source "$__fastrt_script"
set +e
if ! declare -F -- "$__fastrt_function" >/dev/null; then
    printf 'missing\n' >&4
    exit 0
fi
printf 'ready\n' >&4
while IFS=' ' read -r -u 3 __fastrt_id_size __fastrt_trace_size __fastrt_size __fastrt_mode; do
    LC_ALL=C IFS= read -r -N "$__fastrt_size" -u 3 __fastrt_block
    REQUEST_ID=${__fastrt_block:0:__fastrt_id_size}
    __fastrt_trace=${__fastrt_block:__fastrt_id_size:__fastrt_trace_size}
    if [[ $__fastrt_mode == f ]]; then
        EVENT_DATA=$(<"$__fastrt_event_file")
    else
        EVENT_DATA=${__fastrt_block:__fastrt_id_size+__fastrt_trace_size}
    fi
    if [[ -n $__fastrt_trace ]]; then
        export _X_AMZN_TRACE_ID=$__fastrt_trace
    else
        unset _X_AMZN_TRACE_ID
    fi
    "$__fastrt_function" "$EVENT_DATA" >&5 </dev/null
    printf '%d\n' "$?" >&4
done
"""


def load(task_root: str, modname: str, fname: str) -> "ShellHandler":
    """Start bash on ``<task_root>/<modname>.sh`` and check that ``fname`` is defined in it.

    Raises :class:`fastrt.errors.FaultError` (an init error) when the script fails to load
    (``Runtime.ImportModuleError``) or lacks the function (``Runtime.HandlerNotFound``).
    """
    script = os.path.join(task_root, modname.replace(".", "/") + ".sh")
    handler = ShellHandler(script, modname, fname)
    handler.start()
    return handler


class ShellHandler:
    """``handler(event, context) -> bytes``, served by one long-lived bash process."""

    def __init__(self, script: str, modname: str, fname: str) -> None:
        self.script = script
        self.modname = modname
        self.fname = fname
        self.pid = 0
        self._requests = self._status = self._stdout = self._stderr = -1
        self._poller = None
        self._event_file = None

    # The loop hands this handler the event body as sent (the seed's $1), not decoded JSON.
    @staticmethod
    def __fastrt_marshaller__(marshaller):
        return RawEventMarshaller(marshaller)

    def start(self) -> None:
        """Spawn bash and wait until the script is sourced; FaultError if it cannot be."""
        import select

        from fastrt import errors

        requests_r, requests_w = _pipe()
        status_r, status_w = _pipe()
        stdout_r, stdout_w = _pipe()
        stderr_r, stderr_w = _pipe()
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, stderr_w, 2),
            (os.POSIX_SPAWN_DUP2, requests_r, 3),
            (os.POSIX_SPAWN_DUP2, status_w, 4),
            (os.POSIX_SPAWN_DUP2, stdout_w, 5),
        ]
        argv = ["bash", "-c", DRIVER, "fastrt-shell", self.script, self.fname, self._event_path()]
        try:
            self.pid = os.posix_spawnp("bash", argv, dict(os.environ), file_actions=actions)
        finally:
            for fd in (requests_r, status_w, stdout_w, stderr_w):
                os.close(fd)
        self._requests, self._status, self._stdout, self._stderr = requests_w, status_r, stdout_r, stderr_r
        for fd in (status_r, stdout_r, stderr_r):
            os.set_blocking(fd, False)
        self._poller = select.poll()
        for fd in (status_r, stdout_r, stderr_r):
            self._poller.register(fd, select.POLLIN)
        line, _output, stderr = self._wait_status()
        if line == b"ready":
            return
        code = self._reap()
        if line == b"missing":
            raise errors.handler_missing(self.fname, self.modname)
        detail = "%s failed to load (exit status %d)" % (os.path.basename(self.script), code)
        tail = _tail_text(stderr)
        raise errors.FaultError(
            errors.IMPORT_MODULE_ERROR,
            "Unable to import module '%s': %s" % (self.modname, detail + (": " + tail if tail else "")),
        )

    def __call__(self, event, context) -> bytes:
        if not self.pid:
            self.start()  # the previous shell died with the previous event
        body = _event_bytes(event).rstrip(b"\n")  # as $(...) gave the seed's function
        trace = os.environ.get("_X_AMZN_TRACE_ID") or ""
        request_id = getattr(context, "aws_request_id", "") or ""
        if len(body) > PIPE_EVENT_LIMIT:
            with open(self._event_path(), "wb") as f:
                f.write(body)
            message = _message(request_id, trace, b"", "f")
        else:
            message = _message(request_id, trace, body, "p")
        try:
            _write_all(self._requests, message)
        except BrokenPipeError:
            # The shell died while idle (killed by a job it left behind, say): start afresh.
            self._reap()
            self.start()
            _write_all(self._requests, message)
        line, output, stderr = self._wait_status()
        if line is None:
            code = self._reap()
            raise self._failure("the shell exited with status %d" % code, stderr)
        if line != b"0":
            raise self._failure("exit status %s" % line.decode("ascii", "replace"), stderr)
        return output.rstrip(b"\n")

    def _failure(self, what: str, stderr: bytes):
        from fastrt import errors

        tail = _tail_text(stderr)
        message = "%s: %s" % (self.fname, what) + (": " + tail if tail else "")
        return errors.FaultError(ERROR_TYPE, message)

    def _wait_status(self) -> tuple:
        """Read until bash reports a status line; returns (line or None at EOF, stdout, stderr tail).

        Standard output and error are drained all the while, so a chatty function never
        blocks on a full pipe; stderr is copied to the runtime's stderr as it arrives.
        """
        import select

        poller = self._poller
        status_fd, stdout_fd = self._status, self._stdout
        output = []
        stderr = bytearray()
        pending = b""
        while True:
            for fd, events in poller.poll():
                data = _read(fd)
                if fd == status_fd:
                    if not data and events & select.POLLHUP:
                        # bash is gone: collect what it wrote before it went, then report.
                        self._drain(output, stderr)
                        return None, b"".join(output), bytes(stderr)
                    pending += data
                    end = pending.find(b"\n")
                    if end >= 0:
                        # Every write the function made happened before this line was written.
                        self._drain(output, stderr)
                        return pending[:end], b"".join(output), bytes(stderr)
                elif data:
                    if fd == stdout_fd:
                        output.append(data)
                    else:
                        _copy_stderr(data)
                        stderr += data
                        if len(stderr) > STDERR_TAIL_BYTES * 2:
                            del stderr[:-STDERR_TAIL_BYTES]
                elif events & select.POLLHUP:
                    poller.unregister(fd)

    def _drain(self, output: list, stderr: bytearray) -> None:
        while True:
            data = _read(self._stdout)
            if not data:
                break
            output.append(data)
        while True:
            data = _read(self._stderr)
            if not data:
                break
            _copy_stderr(data)
            stderr += data

    def _reap(self) -> int:
        """Close our ends, wait for bash, forget it; returns its exit code."""
        self._close()
        pid, self.pid = self.pid, 0
        if not pid:
            return -1
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def _close(self) -> None:
        for fd in (self._requests, self._status, self._stdout, self._stderr):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._requests = self._status = self._stdout = self._stderr = -1
        self._poller = None

    def _event_path(self) -> str:
        if self._event_file is None:
            base = os.environ.get("TMPDIR") or "/tmp"
            self._event_file = os.path.join(base, "fastrt-shell-event-%d" % os.getpid())
        return self._event_file


class RawEventMarshaller:
    """The runtime's marshaller, except that events stay the bytes that were sent."""

    def __init__(self, marshaller) -> None:
        self.marshaller = marshaller

    def decode(self, body, content_type):
        return body

    def __getattr__(self, name: str):
        return getattr(self.marshaller, name)


def _message(request_id: str, trace: str, body: bytes, mode: str) -> bytes:
    """One event for bash: a short line of sizes, then request id, trace id and body.

    bash reads a line from a pipe one byte per system call but ``read -N`` in bulk, so the
    line carries only numbers and everything else goes in the block read with ``-N``.
    """
    ids = _ascii(request_id) + _ascii(trace)
    head = b"%d %d %d %s\n" % (len(request_id), len(trace), len(ids) + len(body), mode.encode())
    return head + ids + body


def _ascii(value: str) -> bytes:
    # Header values are ASCII in practice; bash slices the block by character offsets, so
    # anything else would shift the event.
    return value.encode("ascii", "replace")


def _event_bytes(event) -> bytes:
    if isinstance(event, (bytes, bytearray)):
        return bytes(event)
    if isinstance(event, str):
        return event.encode("utf-8")
    # A loop without the raw-event hook decoded the JSON; hand bash compact JSON again.
    import json

    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _pipe() -> tuple:
    """A pipe whose two ends sit above the fds bash gets (0-5), so no dup2 clobbers another."""
    import fcntl

    ends = []
    for fd in os.pipe():
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        ends.append(high)
    return ends[0], ends[1]


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _copy_stderr(data: bytes) -> None:
    try:
        os.write(2, data)
    except OSError:
        pass


def _tail_text(stderr: bytes) -> str:
    return stderr[-STDERR_TAIL_BYTES:].decode("utf-8", "replace").strip()
