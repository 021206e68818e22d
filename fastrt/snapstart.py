"""SnapStart: the hooks around the snapshot, with awslambdaric's error types and exit codes.

With ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``, once the handler is imported (contract
§1.6, §1.12):

1. the before-snapshot hooks registered through ``snapshot_restore_py`` run, newest first;
2. ``GET /runtime/restore/next`` waits — the snapshot is taken during it, and it returns in
   the restored environment;
3. the after-restore hooks run, oldest first.

A failure in 1 or 2 is posted to ``/init/error`` as ``Runtime.BeforeSnapshotError`` and the
process exits 64; a failure in 3 is posted to ``/restore/error`` as
``Runtime.AfterRestoreError`` and the process exits 65. Without ``snapshot_restore_py``
installed there are no hooks, and only step 2 happens.
"""

from __future__ import annotations

import sys

from fastrt import errors, logs, protocol

BEFORE_SNAPSHOT_EXIT_CODE = 64
AFTER_RESTORE_EXIT_CODE = 65


class LambdaRuntimeClientError(Exception):
    """``/restore/next`` did not answer 200 (class name and message as in awslambdaric)."""


def restore(config, transport) -> None:
    """Run the SnapStart sequence; returns in the restored environment or ends the process."""
    before, after = _hooks()
    try:
        while before:
            # Newest first: what was set up last is torn down first.
            func, args, kwargs = before.pop()
            func(*args, **kwargs)
        _restore_next(transport)
    except BaseException as exc:  # the reference catches everything here, SystemExit too
        _fail(config, transport, exc, errors.BEFORE_SNAPSHOT_ERROR, protocol.INIT_ERROR_PATH)
        sys.exit(BEFORE_SNAPSHOT_EXIT_CODE)
    try:
        for func, args, kwargs in after:
            func(*args, **kwargs)
    except BaseException as exc:
        _fail(config, transport, exc, errors.AFTER_RESTORE_ERROR, protocol.RESTORE_ERROR_PATH)
        sys.exit(AFTER_RESTORE_EXIT_CODE)


def _hooks() -> tuple:
    """The registered ``(func, args, kwargs)`` lists, or empty ones without the package."""
    try:
        from snapshot_restore_py import get_after_restore, get_before_snapshot
    except ImportError:
        return [], []
    return get_before_snapshot(), get_after_restore()


def _restore_next(transport) -> None:
    status, body = transport.get(protocol.RESTORE_NEXT_PATH)
    if status != 200:
        raise LambdaRuntimeClientError(
            "Request to Lambda Runtime '%s' endpoint failed. Reason: '%d'. Response body: '%r'"
            % (protocol.RESTORE_NEXT_PATH, status, body)
        )


def _fail(config, transport, exc: BaseException, error_type: str, path: str) -> None:
    """Log the failure and post it: the body describes the exception, the header says which phase."""
    info = errors.describe(exc)
    logs.log_error(info, None)
    body = errors.error_body(info, "", config.ensure_ascii)
    try:
        transport.post_init_error(body, error_type, path)
    except Exception as post_failure:
        from fastrt.loop import runtime_log

        runtime_log("Failed to post %s. %s" % (error_type, post_failure))
