"""Where output goes: stdout/stderr, the telemetry fd, and the ``logging`` set-up (§1.11).

What awslambdaric 4.2.2 does, with the same bytes on stdout and on the telemetry fd:

- ``sys.stdout``/``sys.stderr`` are flushed on every write;
- with ``_LAMBDA_TELEMETRY_LOG_FD`` log records go to that fd as frames
  ``type (4 bytes) | length (4) | timestamp in µs (8) | UTF-8 message``, big-endian;
- the root logger gets one handler (text or JSON format, request-id filter, UTC times) and
  the level named by ``AWS_LAMBDA_LOG_LEVEL``.

The difference is when: importing ``logging`` costs milliseconds and many handlers never
use it, so :func:`setup` does not import it. A ``sys.meta_path`` entry waits for the first
``import logging`` (by the handler or a library) and configures the module right after it
has executed, before the importer gets it back — so user code always sees the configured
logging, as under the reference, which configured it before importing the handler.
"""

import io
import os
import sys
import time

TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
JSON_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Frame types, indexed by the record's level clamped to 0..50 and divided by 10:
# NOTSET, DEBUG, INFO, WARNING, ERROR, CRITICAL.
TEXT_FRAME_TYPES = tuple(
    code.to_bytes(4, "big")
    for code in (0xA55A0003, 0xA55A000B, 0xA55A000F, 0xA55A0013, 0xA55A0017, 0xA55A001B)
)
JSON_FRAME_TYPES = tuple(
    code.to_bytes(4, "big")
    for code in (0xA55A0002, 0xA55A000A, 0xA55A000E, 0xA55A0012, 0xA55A0016, 0xA55A001A)
)
DEFAULT_FRAME_TYPE = TEXT_FRAME_TYPES[0]
_ERROR_LEVEL_INDEX = 4

# Printed at WARNING before an init error is reported (awslambdaric's lambda_literals).
UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. To determine if the runtime has been updated, check the "
    "runtime version in the INIT_START log entry. If this error correlates with a change in the "
    "runtime version, you may be able to mitigate this error by temporarily rolling back to the "
    "previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)

# Logged at WARNING at start on a preview runtime (awslambdaric's lambda_literals).
PREVIEW_RUNTIME_WARNING = (
    "LAMBDA_WARNING: This is a preview runtime version and should not be used for production workloads. "
    "For further information and to provide feedback, see %s\r"
)
_PREVIEW_DOC_LINK = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
_PREVIEW_DOC_LINK_CN = "https://docs.amazonaws.cn/lambda/latest/dg/lambda-runtimes.html"

_NO_BREAK_SPACE = "\u00a0"


def level_index(levelno: int) -> int:
    """The record level as awslambdaric buckets it: clamped to 0..50, rounded down to tens, / 10."""
    if levelno >= 50:
        return 5
    if levelno <= 0:
        return 0
    return levelno // 10


class StdoutSink:
    """Log records to whatever ``sys.stdout`` is when they are written."""

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        _write_stdout(msg)

    def log_error(self, lines: list) -> None:
        # CloudWatch shows "\r" as a line break inside one record.
        _write_stdout("\r".join(lines) + "\n")


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.write(text)
    except Exception:
        # The handler closed or replaced sys.stdout: the record still reaches fd 1, and the
        # runtime goes on serving (awslambdaric dies here).
        try:
            os.write(1, text.encode("utf-8", "backslashreplace"))
        except OSError:
            pass


class TelemetrySink:
    """Log records as frames on the platform's telemetry fd, written unbuffered."""

    def __init__(self, fd: int, error_frame_type: bytes) -> None:
        self.file = io.open(fd, "wb", buffering=0)
        self.error_frame_type = error_frame_type

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        data = msg.encode("utf-8")
        frame = (
            (frame_type or DEFAULT_FRAME_TYPE)
            + len(data).to_bytes(4, "big")
            + (time.time_ns() // 1000).to_bytes(8, "big")
            + data
        )
        written = self.file.write(frame)
        if written is not None and written < len(frame):
            # A signal cut the write short; finish it so the next frame stays aligned.
            view = memoryview(frame)
            while written < len(frame):
                written += self.file.write(view[written:]) or 0

    def log_error(self, lines: list) -> None:
        self.log("\n".join(lines), self.error_frame_type)


# State read by the logging filter and the error log; set by setup() and set_request().
_request_id: str | None = None
_tenant_id: str | None = None
_sink = StdoutSink()
_json_format = False
_log_level: str | None = None
_typed_frames = False
_ensure_ascii = True
_import_hook = None


def setup(config) -> None:
    """Once, before the handler is imported: streams, log sink, and (lazily) ``logging``."""
    global _sink, _json_format, _log_level, _typed_frames, _ensure_ascii
    sys.stdout = flushing_stream(sys.stdout)
    sys.stderr = flushing_stream(sys.stderr)
    _json_format = config.log_format == "json"
    _log_level = config.log_level
    # awslambdaric tags text records with their level only when AWS_LAMBDA_LOG_LEVEL is set.
    _typed_frames = config.log_level_given
    _ensure_ascii = config.ensure_ascii
    # The fd is the platform's, not something child processes should inherit by name.
    os.environ.pop("_LAMBDA_TELEMETRY_LOG_FD", None)
    if config.telemetry_fd is not None:
        frame_types = JSON_FRAME_TYPES if _json_format else TEXT_FRAME_TYPES
        _sink = TelemetrySink(config.telemetry_fd, frame_types[_ERROR_LEVEL_INDEX])
    else:
        _sink = StdoutSink()
    if "logging" in sys.modules:
        _configure_logging()
    else:
        _await_logging_import()


def set_request(request_id: str | None, tenant_id: str | None) -> None:
    """The invocation that log records belong to from now on."""
    global _request_id, _tenant_id
    _request_id = request_id
    _tenant_id = tenant_id


def log_error(info, request_id: str | None) -> None:
    """The record of an uncaught error, written before it is posted to the Runtime API.

    ``info`` has ``error_type``, ``message`` and ``stack`` (a list of formatted frames).
    """
    error_type = info.error_type or ""
    message = info.message or ""
    stack = info.stack or []
    if _json_format:
        import json  # errors are rare; the text format never needs it

        logging = sys.modules.get("logging")
        converter = logging.Formatter.converter if logging is not None else time.gmtime
        record = {
            "timestamp": time.strftime(JSON_DATE_FORMAT, converter(time.time())),
            "level": "ERROR",
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request_id if request_id is not None else "",
            "stackTrace": stack,
        }
        _sink.log_error([json.dumps(record, ensure_ascii=_ensure_ascii)])
    else:
        _sink.log_error(_text_error_lines(error_type, message, stack))


def log_init_warning() -> None:
    """The LAMBDA_WARNING line that precedes an init error, logged through ``logging``."""
    import logging  # only on an init failure; configures logging via the hook if not yet done

    logging.warning(UNHANDLED_EXCEPTION_WARNING)


def log_preview_warning(region: str) -> None:
    """The LAMBDA_WARNING line of a preview runtime, logged through ``logging`` before the handler
    is imported; the documentation link is the China partition's in a ``cn-`` region."""
    import logging  # only on a preview runtime; configures logging via the hook if not yet done

    logging.warning(PREVIEW_RUNTIME_WARNING % (_PREVIEW_DOC_LINK_CN if region.startswith("cn-") else _PREVIEW_DOC_LINK))


def log_worker_pool_starting(worker_count: int) -> None:
    """Multi-concurrency parent (§1.14): its one DEBUG record, then it stops logging.

    As the reference does before forking: the record, the root handler removed, the telemetry
    fd closed. Each worker then sets logging up afresh with :func:`setup`; the fd's variable is
    gone by then, so workers log to their own stdout. ``logging`` is imported for this only
    when it is loaded already or the record can be seen (level DEBUG).
    """
    global _sink
    if _log_level == "DEBUG" or "logging" in sys.modules:
        import logging  # configured through the import hook if not yet done

        root = logging.getLogger()
        root.debug(
            {
                "event": "runtime_worker_pool_initializing",
                "workerCount": worker_count,
                "executionEnvironmentMaxConcurrency": worker_count,
            }
        )
        root.handlers.clear()
    if isinstance(_sink, TelemetrySink):
        _sink.file.close()
    _sink = StdoutSink()


def context_log(msg: str) -> None:
    """``LambdaContext.log``: the message as is, to the runtime's log sink or to stdout."""
    if _import_hook is not None:
        # logging is not loaded yet, so the runtime's handler is (virtually) root's only one.
        _sink.log(msg)
        return
    logging = sys.modules.get("logging")
    if logging is not None:
        # As the reference: the first root handler that carries a sink, if the code kept one.
        for handler in logging.getLogger().handlers:
            if hasattr(handler, "log_sink"):
                handler.log_sink.log(msg)
                return
    sys.stdout.write(msg)


def _text_error_lines(error_type: str, message: str, stack: list) -> list:
    """``[ERROR] Type: message``, ``Traceback…`` and the frames with no-break-space indents."""
    head = "[ERROR]"
    if error_type:
        head += " " + error_type
    if message:
        head += (": " if error_type else " ") + message
    lines = [head, "Traceback (most recent call last):"]
    for frame in stack:
        if frame == "":
            lines.append("")
            continue
        for line in frame.splitlines():
            stripped = line.lstrip(" ")
            lines.append(_NO_BREAK_SPACE * (len(line) - len(stripped)) + stripped)
    return lines


def flushing_stream(stream):
    """``stream`` made to pass every write straight to its file descriptor.

    For the interpreter's own kind of stream: a text layer over the raw fd with
    ``write_through`` — what ``python -u`` builds — rather than awslambdaric's Python-level
    flush-after-write proxy: the same output, with no Python call per write. Anything else
    (a stream some start-up code replaced, one without an fd) keeps its own ``write`` and
    gets the proxy.
    """
    if stream is None:
        return None
    if type(stream) is not io.TextIOWrapper:
        return FlushingWriter(stream)
    if stream.write_through and type(stream.buffer) is io.FileIO:
        return stream  # already unbuffered (python -u, PYTHONUNBUFFERED)
    try:
        fd = stream.fileno()
    except (ValueError, OSError):
        return FlushingWriter(stream)
    stream.flush()
    raw = io.open(fd, "wb", buffering=0, closefd=False)
    name = getattr(stream, "name", None)
    if name is not None:
        raw.name = name
    text = io.TextIOWrapper(
        raw,
        encoding=stream.encoding,
        errors=stream.errors,
        newline="\n",
        write_through=True,
    )
    text.mode = "w"
    return text


class FlushingWriter:
    """Any text stream, flushed after each write (for streams that have no fd)."""

    def __init__(self, stream) -> None:
        self.stream = stream

    def __getattr__(self, name: str):
        return getattr(self.stream, name)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb) -> None:
        pass

    def write(self, text: str):
        written = self.stream.write(text)
        self.stream.flush()
        return written

    def writelines(self, lines) -> None:
        self.stream.writelines(lines)
        self.stream.flush()


def _configure_logging() -> None:
    from fastrt import logs_stdlib  # imports logging, which is loaded by now

    logs_stdlib.install(_sink, _json_format, _log_level, _typed_frames)


def _await_logging_import() -> None:
    global _import_hook
    if _import_hook is None:
        _import_hook = _ConfigureLoggingOnImport()
        sys.meta_path.insert(0, _import_hook)


def _logging_imported() -> None:
    global _import_hook
    hook = _import_hook
    _import_hook = None
    if hook in sys.meta_path:
        sys.meta_path.remove(hook)
    _configure_logging()


class _ConfigureLoggingOnImport:
    """``sys.meta_path`` entry: ``logging`` is found as usual, configured once it has executed.

    It is also the loader of that one import (wrapping the real one): one class, not two, is
    built at every cold start.
    """

    loader = None

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != "logging":
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    self.loader = spec.loader
                    spec.loader = self
                return spec
        return None

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        loader = self.loader
        # Put the real loader back first, so the module looks as if imported normally.
        module.__loader__ = loader
        module.__spec__.loader = loader
        loader.exec_module(module)
        _logging_imported()
