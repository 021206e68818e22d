"""What the Lambda platform (and AWS's Runtime Interface Emulator, RIE) says and decides.

Limits, the error-type check, and the exact JSON bodies RIE answers with, in one place so the
Runtime API side, the invoke side and the tests agree. Sources: RIE
``internal/lambda/interop/model.go`` (MaxPayloadSize, ErrorResponseTooLarge),
``internal/lambda/rapi/rendering/render_error.go``, ``internal/lambda/fatalerror/fatalerror.go``,
``internal/lambda/rie/handlers.go`` (timeouts, ARN, START/END/REPORT).
"""

from __future__ import annotations

import json
import re

API_VERSION = "2018-06-01"

# 6 MiB + 100 bytes: the buffered response limit (RIE interop.MaxPayloadSize; AWS quotas page: 6 MB).
MAX_PAYLOAD_SIZE = 6 * 1024 * 1024 + 100

DEFAULT_TIMEOUT = 300.0  # AWS_LAMBDA_FUNCTION_TIMEOUT default in RIE
ACCOUNT_ID = "012345678912"  # the account RIE puts in the function ARN

# Unanchored on purpose: Go's regexp.MatchString searches, so RIE accepts "x.Runtime.Foo" too.
_VALID_ERROR_TYPE = re.compile(r"(Runtime|Function)\.[A-Z][a-zA-Z]+")


def valid_error_type(error_type: str | None) -> str:
    """The error type the platform records for a runtime-supplied ``error_type`` (contract §1.4)."""
    if error_type and _VALID_ERROR_TYPE.search(error_type):
        return error_type
    if error_type and error_type.startswith("Function."):
        return "Function.Unknown"
    return "Runtime.Unknown"


def function_arn(region: str, function_name: str) -> str:
    return "arn:aws:lambda:%s:%s:function:%s" % (region, ACCOUNT_ID, function_name)


def _error_body(error_type: str, message: str) -> bytes:
    # RIE's model.ErrorResponse field order: errorMessage, errorType
    return json.dumps({"errorMessage": message, "errorType": error_type}, separators=(",", ":")).encode()


ACCEPTED_BODY = b'{"status":"OK"}\n'
INVALID_REQUEST_ID_BODY = _error_body("InvalidRequestID", "Invalid request ID")
TOO_LARGE_BODY = _error_body(
    "RequestEntityTooLarge", "Exceeded maximum allowed payload size (%d bytes)." % MAX_PAYLOAD_SIZE
)
# What the invoker receives when the runtime's buffered response was too large.
TOO_LARGE_FUNCTION_ERROR = _error_body(
    "Function.ResponseSizeTooLarge",
    "Response payload size exceeded maximum allowed payload size (%d bytes)." % MAX_PAYLOAD_SIZE,
)
INVALID_RESPONSE_MODE_BODY = _error_body("InvalidFunctionResponseMode", "Invalid function response mode")


def forbidden_transition_body(state: str, target: str) -> bytes:
    """RIE's 403 body when the runtime calls an endpoint its current state does not allow."""
    return _error_body(
        "InvalidStateTransition",
        "State transition from %s to %s failed for runtime. Error: State transition is not allowed"
        % (state, target),
    )


def runtime_exit_error(request_id: str, detail: str) -> bytes:
    """Invoker body when the runtime process exits during an invoke (``Runtime.ExitError``)."""
    message = "RequestId: %s Error: Runtime exited with error: %s" % (request_id, detail) if request_id else (
        "Error: Runtime exited with error: %s" % detail
    )
    return _error_body("Runtime.ExitError", message)


def timeout_body(timeout: float) -> bytes:
    """RIE's invoker body on timeout (``Task timed out after 3.00 seconds``)."""
    return b"Task timed out after %.2f seconds" % timeout


def json_content_type(body: bytes) -> str:
    """RIE's ``determineJSONContentType`` for init-error bodies."""
    try:
        json.loads(body)
    except ValueError:
        return "application/octet-stream"
    return "application/json"
