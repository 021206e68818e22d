"""Every failure the runtime reports, in the shapes awslambdaric gives them (contract §1.6).

Three things live here: the errorType names and message texts of the reference's faults
(:class:`FaultError` and its factories), :func:`describe`, which turns any exception into
an :class:`ErrorInfo` (type, message, trace) without ever raising, and the two encodings of
that information the Runtime API receives: the ``/error`` body and the X-Ray cause header.

Nothing here runs until something fails, so the tracing machinery (``traceback``,
``linecache``) is imported inside :func:`describe` only.
"""

import _json

# errorType values of awslambdaric's FaultException (contract §1.6).
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
MARSHAL_ERROR = "Runtime.MarshalError"
LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"
BEFORE_SNAPSHOT_ERROR = "Runtime.BeforeSnapshotError"
AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"
LAMBDA_RUNTIME_CLIENT_ERROR = "Runtime.LambdaRuntimeClientError"
# What Lambda itself answers when a buffered response is over the 6 MB quota; fastrt posts
# it as an error instead of dying on the 413 as the reference does.
RESPONSE_SIZE_TOO_LARGE = "Function.ResponseSizeTooLarge"
RESPONSE_SIZE_LIMIT = 6291556

# The X-Ray exception type the reference reports for any FaultException during an invoke.
XRAY_VALIDATION_ERROR = "LambdaValidationError"
# The reference drops a cause header of this many UTF-8 bytes or more.
XRAY_CAUSE_LIMIT = 1024 * 1024

# A trace longer than this keeps its outermost and innermost halves: a RecursionError
# under a raised recursion limit must not turn error reporting into the slow part.
MAX_FRAMES = 2000

_STR_FAILED = "<exception str() failed>"


class FaultError(Exception):
    """A failure with a fixed errorType, reported as is (awslambdaric's FaultException)."""

    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.stack = stack


def malformed_handler(handler: str, exc: BaseException | None = None) -> FaultError:
    """``handler`` has no ``.``; the detail is the text of the failed 2-way unpacking."""
    detail = safe_str(exc) if exc is not None else "not enough values to unpack (expected 2, got 1)"
    return FaultError(MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, detail))


def built_in_conflict(modname: str) -> FaultError:
    return FaultError(BUILT_IN_MODULE_CONFLICT, "Cannot use built-in module %s as a handler module" % modname)


def import_failed(modname: str, exc: BaseException) -> FaultError:
    return FaultError(IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (modname, safe_str(exc)))


def syntax_error(modname: str, exc: SyntaxError) -> FaultError:
    """The reference's one-element trace: capital ``Line``, no ``, in``, the raw source text."""
    where = '  File "%s" Line %s\n    %s' % (
        getattr(exc, "filename", None),
        getattr(exc, "lineno", None),
        getattr(exc, "text", None),
    )
    return FaultError(USER_CODE_SYNTAX_ERROR, "Syntax error in module '%s': %s" % (modname, safe_str(exc)), [where])


def handler_missing(fname: str, modname: str) -> FaultError:
    return FaultError(HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (fname, modname))


def unmarshal_failed(exc: BaseException | str) -> FaultError:
    return FaultError(UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % _detail(exc))


def marshal_failed(exc: BaseException | str) -> FaultError:
    return FaultError(MARSHAL_ERROR, "Unable to marshal response: %s" % _detail(exc))


def context_unmarshal(which: str, exc: BaseException | str) -> FaultError:
    """``which`` is ``"Client Context"`` or ``"Cognito Identity"``."""
    return FaultError(LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (which, _detail(exc)))


def response_too_large() -> FaultError:
    """Lambda's own answer to an oversize buffered response (errorType and text)."""
    return FaultError(
        RESPONSE_SIZE_TOO_LARGE,
        "Response payload size exceeded maximum allowed payload size (%d bytes)." % RESPONSE_SIZE_LIMIT,
    )


class ErrorInfo:
    """What is reported about one failure.

    ``stack`` holds the reference's ``stackTrace`` strings; ``frames`` the same frames as
    ``(path, line, function)`` for X-Ray; ``fault`` is true for a :class:`FaultError`.
    """

    __slots__ = ("error_type", "message", "stack", "frames", "fault")

    def __init__(self, error_type: str, message: str, stack: list, frames: list, fault: bool = False) -> None:
        self.error_type = error_type
        self.message = message
        self.stack = stack
        self.frames = frames
        self.fault = fault

    def __repr__(self) -> str:
        return "ErrorInfo(%r, %r, %d frames)" % (self.error_type, self.message, len(self.frames))


def describe(exc: BaseException, runtime_paths: tuple | None = None) -> ErrorInfo:
    """Type, message and trace of ``exc``, as awslambdaric reports a failure. Never raises.

    A frame belongs to the runtime when its file name contains ``/bootstrap.py`` (the
    reference's rule) or starts with one of ``runtime_paths`` (default: this package, both
    as an absolute directory and as the relative ``fastrt/`` path Cython stamps on compiled
    frames). Leading runtime frames are dropped; if every frame is the runtime's, all are
    kept, as in the reference.
    """
    try:
        if type(exc) is FaultError or isinstance(exc, FaultError):
            stack = exc.stack
            return ErrorInfo(
                safe_str(exc.error_type), safe_str(exc.message), list(stack) if stack else [], [], True
            )
    except Exception:
        pass  # a hostile __class__; treat it as any other exception
    error_type = _class_name(exc)
    message = safe_str(exc)
    try:
        paths = runtime_paths if runtime_paths is not None else _runtime_paths()
        stack, frames = _trace(exc.__traceback__, paths)
    except Exception:
        stack, frames = [], []
    return ErrorInfo(error_type, message, stack, frames, False)


def error_body(info: ErrorInfo, request_id: str | None, ensure_ascii: bool) -> bytes:
    """The ``/error`` (and ``/init/error``) JSON body, byte for byte as the reference sends it.

    A message holding lone surrogates cannot be UTF-8; it is then sent \\u-escaped, which
    parses to the same string (the reference crashes there).
    """
    fields = {
        "errorMessage": info.message or "",
        "errorType": info.error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": info.stack or [],
    }
    return _json_bytes(fields, ensure_ascii)


def xray_cause(info: ErrorInfo, working_directory: str) -> str:
    """The ``Lambda-Runtime-Function-XRay-Error-Cause`` value; ``""`` when it is too large.

    Always ASCII (the reference sends raw UTF-8 under python3.12+, not valid in a header).
    """
    if info.fault:
        exception = {"message": info.message, "type": XRAY_VALIDATION_ERROR, "stack": []}
        paths: list = []
    else:
        stack = []
        paths = []
        seen = set()
        for path, line, function in info.frames:
            stack.append({"label": function, "path": path, "line": line})
            if path not in seen:
                seen.add(path)
                paths.append(path)
        exception = {"message": info.message, "type": info.error_type, "stack": stack}
    cause = {"working_directory": working_directory, "exceptions": [exception], "paths": paths}
    text = _json_text(cause, _json.encode_basestring_ascii)
    return text if len(text) < XRAY_CAUSE_LIMIT else ""


def header_error_type(error_type: str) -> str:
    """A ``Lambda-Runtime-Function-Error-Type`` value the platform accepts as given.

    The platform keeps types matching ``(Runtime|Function)\\.[A-Z][a-zA-Z]+`` and turns any
    other into ``Runtime.Unknown``; an exception class name ``Name`` is sent as
    ``Function.Name`` so the platform's records still say what failed.
    """
    prefix, dot, name = (error_type or "").partition(".")
    if not dot:
        # A bare exception class name: the failure came from the function's code.
        return "Function." + prefix if _is_type_name(prefix) else "Function.Unknown"
    if prefix in ("Runtime", "Function") and _is_type_name(name):
        return error_type
    return "Runtime.Unknown" if prefix == "Runtime" else "Function.Unknown"


def _is_type_name(name: str) -> bool:
    return len(name) >= 2 and name.isascii() and name.isalpha() and "A" <= name[0] <= "Z"


def _detail(exc: BaseException | str) -> str:
    return exc if type(exc) is str else safe_str(exc)


def safe_str(obj: object) -> str:
    """``str(obj)`` as an exact ``str``, or a placeholder when ``__str__`` misbehaves."""
    try:
        text = str(obj)
        return text if type(text) is str else str.__str__(text)
    except Exception:
        return _STR_FAILED


def _class_name(exc: BaseException) -> str:
    try:
        name = type(exc).__name__
        return name if type(name) is str else safe_str(name)
    except Exception:
        return "Exception"


def _runtime_paths() -> tuple:
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    return (here + os.sep, "fastrt" + os.sep)


def _is_runtime_frame(filename: str, runtime_paths: tuple) -> bool:
    return "/bootstrap.py" in filename or filename.startswith(runtime_paths)


def _trace(tb, runtime_paths: tuple) -> tuple:
    """(stackTrace strings, X-Ray frames) for a traceback, leading runtime frames dropped."""
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    for index, entry in enumerate(entries):
        if not _is_runtime_frame(entry.tb_frame.f_code.co_filename, runtime_paths):
            entries = entries[index:]
            break
    if not entries:
        return [], []
    half = MAX_FRAMES // 2
    if len(entries) <= MAX_FRAMES:
        summaries = [_extract(entries[0], len(entries))]
    else:
        summaries = [_extract(entries[0], half), _extract(entries[-half], half)]
    parts = [_format(summary) for summary in summaries]
    stack = parts[0]
    if len(parts) > 1:
        stack.append("  [... %d frames omitted ...]\n" % (len(entries) - 2 * half))
        stack.extend(parts[1])
    frames = [(path, line, function) for summary in summaries for path, line, function, _ in summary]
    return stack, frames


def _format(summary: list) -> list:
    """``traceback.format_list`` of the tuples, as the reference formats them."""
    import traceback

    try:
        return traceback.format_list(summary)
    except Exception:
        # Source lookup failed while formatting: the same frames without source lines.
        return traceback.format_list([(path, line, function, "") for path, line, function, _ in summary])


def _extract(tb, limit: int) -> list:
    """``limit`` frames from ``tb`` on as the reference's (file, line, function, source) tuples."""
    import traceback

    try:
        return [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb, limit)]
    except Exception:
        # A loader whose get_source() raises breaks linecache: keep the frames, drop the source.
        frames = []
        while tb is not None and len(frames) < limit:
            code = tb.tb_frame.f_code
            frames.append((code.co_filename, tb.tb_lineno, code.co_name, ""))
            tb = tb.tb_next
        return frames


def _json_bytes(value: object, ensure_ascii: bool) -> bytes:
    """Encode like the reference's encoder; lone surrogates are escaped rather than fatal."""
    if ensure_ascii:
        return _json_text(value, _json.encode_basestring_ascii).encode("ascii")
    try:
        return _json_text(value, _json.encode_basestring).encode("utf-8")
    except UnicodeEncodeError:
        return _json_text(value, _json.encode_basestring_ascii).encode("ascii")


def _json_text(value: object, quote) -> str:
    """JSON for the few shapes error reports hold: dict, list, str, int, None."""
    if type(value) is str:
        return quote(value)
    if type(value) is dict:
        if not value:
            return "{}"
        return "{" + ", ".join(quote(key) + ": " + _json_text(item, quote) for key, item in value.items()) + "}"
    if type(value) is list:
        return "[" + ", ".join(_json_text(item, quote) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int):
        return int.__repr__(int(value))
    return quote(safe_str(value))
