"""The ``logging`` side of :mod:`fastrt.logs`: root handler, request-id filter, JSON format.

Imported only once ``logging`` itself is (see ``fastrt.logs``); it is what awslambdaric
4.2.2's ``_setup_logging`` installs (§1.11), record for record.
"""

from __future__ import annotations

import logging
import time

from fastrt import logs

# LogRecord attributes (plus the runtime's own) that are not copied into a JSON record as
# ``extra=`` fields.
_RECORD_ATTRIBUTES = frozenset(
    (
        "name",
        "msg",
        "args",
        "levelname",
        "levelno",
        "pathname",
        "filename",
        "module",
        "exc_info",
        "exc_text",
        "stack_info",
        "lineno",
        "funcName",
        "created",
        "msecs",
        "relativeCreated",
        "thread",
        "threadName",
        "processName",
        "process",
        "aws_request_id",
        "tenant_id",
        "_frame_type",
    )
)


def install(sink, json_format: bool, level: str | None, typed_frames: bool) -> None:
    """Give the root logger the runtime's handler; set its level when one was configured."""
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    handler = RuntimeLogHandler(sink, typed_frames or json_format)
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(logs.TEXT_FORMAT, logs.TEXT_DATE_FORMAT))
    if level:
        root.setLevel(level)
    handler.addFilter(RequestFilter())
    root.addHandler(handler)


class RequestFilter(logging.Filter):
    """Stamps each record with the current invocation's request id and tenant id."""

    def filter(self, record) -> bool:
        record.aws_request_id = logs._request_id or ""
        record.tenant_id = logs._tenant_id
        return True


class RuntimeLogHandler(logging.Handler):
    """Writes formatted records to the runtime's sink (stdout or the telemetry fd).

    ``typed`` frames carry the record's level; untyped ones the default frame type. The
    ``log_sink`` attribute is what ``LambdaContext.log`` looks for, as in the reference.
    """

    def __init__(self, log_sink, typed: bool) -> None:
        logging.Handler.__init__(self)
        self.log_sink = log_sink
        self.typed = typed

    def emit(self, record) -> None:
        msg = self.format(record)
        if self.typed:
            frame_type = getattr(record, "_frame_type", None) or logs.TEXT_FRAME_TYPES[
                logs.level_index(record.levelno)
            ]
            self.log_sink.log(msg, frame_type)
        else:
            self.log_sink.log(msg)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, keys in awslambdaric's order, ``None`` values left out."""

    def __init__(self) -> None:
        logging.Formatter.__init__(self, datefmt=logs.JSON_DATE_FORMAT)
        import json  # only in JSON mode

        self.encode = json.JSONEncoder(ensure_ascii=False, default=str).encode

    def format(self, record) -> str:
        # The level is bucketed on the record itself, so later handlers see it too (as the
        # reference does).
        index = logs.level_index(record.levelno)
        record.levelno = index * 10
        record.levelname = logging.getLevelName(record.levelno)
        record._frame_type = logs.JSON_FRAME_TYPES[index]
        msg = record.msg
        exc_info = record.exc_info
        fields = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": msg if isinstance(msg, dict) and not record.args else record.getMessage(),
            "logger": record.name,
            "stackTrace": None,
            "errorType": None,
            "errorMessage": None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": None,
        }
        if exc_info:
            import traceback  # loaded by logging already

            fields["stackTrace"] = traceback.format_tb(exc_info[2])
            fields["errorType"] = exc_info[0].__name__
            fields["errorMessage"] = str(exc_info[1])
            fields["location"] = "%s:%s:%s" % (record.pathname, record.funcName, record.lineno)
        tenant_id = getattr(record, "tenant_id", None)
        if tenant_id is not None:
            fields["tenantId"] = tenant_id
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in fields:
                fields[key] = value
        return self.encode({key: value for key, value in fields.items() if value is not None}) + "\n"
