"""What the emulator records: every request the runtime made, every post for an invocation.

Invocations are written by the event-loop thread and read by test/bench threads; waiting uses a
lazily created Condition so that the hot path (nobody waiting yet) costs one attribute read.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

_create_lock = threading.Lock()


class RequestRecord:
    """One request as the runtime sent it (a view on the parsed request: nothing is copied)."""

    __slots__ = ("_request", "conn_id")

    def __init__(self, request, conn_id: int) -> None:
        self._request = request
        self.conn_id = conn_id

    method = property(lambda self: self._request.method)
    path = property(lambda self: self._request.path)
    headers = property(lambda self: self._request.headers, doc="[(name, value)] as received")
    body = property(lambda self: self._request.body)
    trailers = property(lambda self: self._request.trailers)
    received_at = property(lambda self: self._request.received_at, doc="perf_counter when its head was parsed")

    def __repr__(self) -> str:
        return "RequestRecord(%s %s conn=%d)" % (self.method, self.path, self.conn_id)


class Result:
    """One post by the runtime (``/response``, ``/error`` or ``/init/error``) and our answer.

    ``headers``/``trailers`` (lower-cased names) are built from the request on first use."""

    __slots__ = (
        "request_id",
        "kind",
        "status",
        "error_type",
        "streamed",
        "conn_id",
        "dispatched_at",
        "completed_at",
        "_request",
        "_headers",
    )

    def __init__(
        self,
        request_id: str,
        kind: str,
        status: int,
        request,
        error_type: str | None,
        streamed: bool,
        conn_id: int,
        dispatched_at: float | None,
        completed_at: float,
    ) -> None:
        self.request_id = request_id
        self.kind = kind
        self.status = status
        self._request = request
        self.error_type = error_type
        self.streamed = streamed
        self.conn_id = conn_id
        self.dispatched_at = dispatched_at
        self.completed_at = completed_at
        self._headers: dict | None = None

    @property
    def body(self) -> bytes:
        return self._request.body

    @property
    def headers(self) -> dict:
        if self._headers is None:
            self._headers = self._request.header_dict()
        return self._headers

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def trailers(self) -> dict:
        return self._request.trailer_dict() if self._request.trailers else {}

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    def __repr__(self) -> str:
        return "Result(%s %s status=%d error_type=%r body=%r)" % (
            self.kind,
            self.request_id,
            self.status,
            self.error_type,
            self.body[:80],
        )


class Invocation:
    """One queued event and everything the runtime posted for it.

    States: ``queued`` -> ``in_flight`` (its /next answer was written) -> ``closed`` (a post was
    accepted with 2xx, or the invocation was abandoned because the runtime died or timed out).
    A rejected post (413, an injected 500) is recorded but leaves the invocation in flight, so
    the runtime may still report an error for it."""

    __slots__ = (
        "request_id",
        "body",
        "content_type",
        "deadline_ms",
        "trace_id",
        "client_context",
        "cognito_identity",
        "tenant_id",
        "invocation_id",
        "function_arn",
        "extra_headers",
        "state",
        "results",
        "dispatched_at",
        "dispatch_count",
        "on_settle",
        "_cond",
    )

    def __init__(self, request_id: str, body: bytes) -> None:
        self.request_id = request_id
        self.body = body
        self.content_type: str | None = "application/json"
        self.deadline_ms: int | str | None = None
        self.trace_id: str | None = None
        self.client_context: str | None = None
        self.cognito_identity: str | None = None
        self.tenant_id: str | None = None
        self.invocation_id: str | None = None
        self.function_arn: str | None = None
        self.extra_headers: list | None = None
        self.state = "queued"
        self.results: list = []
        self.dispatched_at: float | None = None
        self.dispatch_count = 0
        # called in the loop thread with the first post that decides the invoker's answer
        self.on_settle: Callable | None = None
        self._cond: threading.Condition | None = None

    # --- loop-thread side ---
    def add_result(self, result: Result) -> None:
        self.results.append(result)
        if result.accepted:
            self.state = "closed"
        self._wake()

    def abandon(self) -> None:
        """The runtime died or timed out: later posts for this id are refused."""
        if self.state != "closed":
            self.state = "closed"
            self._wake()

    def _wake(self) -> None:
        cond = self._cond  # read after the state change: see _condition()
        if cond is not None:
            with cond:
                cond.notify_all()

    @property
    def plain(self) -> bool:
        """No optional /next header is set, so the one-format fast rendering applies."""
        return not (
            self.trace_id
            or self.client_context
            or self.cognito_identity
            or self.tenant_id
            or self.invocation_id
            or self.extra_headers
        )

    # --- caller side ---
    def done(self) -> bool:
        """True once the runtime posted anything for this invocation."""
        return bool(self.results)

    def result(self, timeout: float = 30.0) -> Result:
        """Wait for the runtime's post. Returns the accepted post when there is one (e.g. the
        ``/error`` that followed a 413), else the latest post (e.g. the 413 itself)."""
        self._wait(lambda: self.results, timeout)
        for result in reversed(self.results):
            if result.accepted:
                return result
        return self.results[-1]

    def wait_accepted(self, timeout: float = 30.0) -> Result:
        """Wait for a post the emulator accepted (2xx), skipping rejected ones."""
        self._wait(lambda: any(r.accepted for r in self.results), timeout)
        return next(r for r in self.results if r.accepted)

    def wait_results(self, count: int, timeout: float = 30.0) -> list:
        """Wait until ``count`` posts were recorded for this invocation; returns them all."""
        self._wait(lambda: len(self.results) >= count, timeout)
        return list(self.results)

    def _condition(self) -> threading.Condition:
        # Publish the Condition before testing the predicate; the loop thread changes state
        # before reading _cond, so under the GIL no wake-up is lost.
        cond = self._cond
        if cond is None:
            with _create_lock:
                cond = self._cond
                if cond is None:
                    cond = self._cond = threading.Condition()
        return cond

    def _wait(self, predicate: Callable, timeout: float) -> None:
        if predicate():
            return
        cond = self._condition()
        deadline = time.monotonic() + timeout
        with cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        "invocation %s: no matching post within %.1f s (state %s, %d posts)"
                        % (self.request_id, timeout, self.state, len(self.results))
                    )
                cond.wait(remaining)

    def __repr__(self) -> str:
        return "Invocation(%s, %s, %d posts)" % (self.request_id, self.state, len(self.results))
