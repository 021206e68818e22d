"""The Runtime API side: the state of one execution environment and its HTTP connections.

Runs entirely in the emulator's reactor thread (``reactor.py``). Rules follow RIE's runtime state machine
(``internal/lambda/core/states.go``): a post for the invocation in flight is accepted (202) or
refused as too large (413); a post for any other id is 400 ``InvalidRequestID`` while some
invocation is in flight and 403 ``InvalidStateTransition`` otherwise (e.g. a second answer for the
same id); ``/init/error`` is accepted only before the first ``/next``.
"""

from __future__ import annotations

import time
from collections import deque
from fastrt.emulator import platform
from fastrt.emulator.delivery import DROPS, deliver
from fastrt.emulator.faults import FaultBook
from fastrt.emulator.http11 import HttpError, Request, RequestParser, http_date, render_answer, render_chunked, status_line
from fastrt.emulator.records import Invocation, RequestRecord, Result

_PREFIX = "/%s/runtime/" % platform.API_VERSION
NEXT_PATH = _PREFIX + "invocation/next"
INVOCATION_PREFIX = _PREFIX + "invocation/"
INIT_ERROR_PATH = _PREFIX + "init/error"
RESTORE_NEXT_PATH = _PREFIX + "restore/next"
RESTORE_ERROR_PATH = _PREFIX + "restore/error"

_JSON = [("Content-Type", "application/json")]
_ACCEPTED = render_answer(202, _JSON, platform.ACCEPTED_BODY)  # Date refreshed in _accepted()
_TRANSITION_TARGET = {"response": "InvocationResponse", "error": "InvocationErrorResponse", "init_error": "InitError"}
_PLAIN_NEXT = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: %s\r\n"
    b"Lambda-Runtime-Deadline-Ms: %d\r\nLambda-Runtime-Invoked-Function-Arn: %s\r\nDate: %s\r\n"
    b"Content-Length: %d\r\n\r\n%s"
)


class RuntimeApi:
    """Queue of events, the runtime's parked ``/next`` calls, and every post, for one function."""

    def __init__(
        self,
        loop,
        faults: FaultBook,
        *,
        default_arn: str,
        timeout: float,
        record_requests: bool = True,
    ) -> None:
        self.loop = loop
        self.faults = faults
        self.default_arn = default_arn
        self.timeout = timeout
        self.record_requests = record_requests
        self.queue: deque = deque()
        self.parked: deque = deque()  # connections whose GET /next waits for an event
        self.in_flight: dict = {}
        self.invocations: dict = {}  # every invocation ever enqueued, by request id
        self.requests: list = []
        self.init_errors: list = []
        self.restore_errors: list = []
        self.connections_opened = 0
        self.state = "Started"  # RIE runtime state name, used in 403 bodies
        # observers, called in the loop thread: the facade and the supervisor subscribe
        self.parked_listeners: list = []  # f(perf_counter time) when a GET /next starts waiting
        self.init_error_listeners: list = []  # f(Result) when an /init/error is accepted

    # --- lifecycle of the runtime process ---
    def new_runtime(self) -> None:
        """A fresh runtime process is starting: forget the dead one's connections and invocations."""
        for inv in list(self.in_flight.values()):
            inv.abandon()
        self.in_flight.clear()
        for conn in self.parked:
            conn.transport.close()
        self.parked.clear()
        self.state = "Started"

    def abandon(self, inv: Invocation) -> None:
        """Give up on ``inv`` (timeout, crash): unqueue it or take it out of flight."""
        if inv.state == "queued":
            try:
                self.queue.remove(inv)
            except ValueError:
                pass
        self.in_flight.pop(inv.request_id, None)
        inv.abandon()

    # --- events in ---
    def enqueue(self, inv: Invocation) -> None:
        self.invocations[inv.request_id] = inv
        if not self._hand_to_waiting_runtime(inv):
            self.queue.append(inv)

    def _requeue(self, inv: Invocation) -> None:
        """An answer to /next was not delivered: the event stays first in line (exactly-once)."""
        if inv.state == "queued" and not self._hand_to_waiting_runtime(inv):
            self.queue.appendleft(inv)

    def _hand_to_waiting_runtime(self, inv: Invocation) -> bool:
        """Answer a parked ``GET /next`` with ``inv``, if a live one is waiting."""
        parked = self.parked
        while parked:
            conn = parked.popleft()
            if not conn.transport.is_closing():
                self._dispatch(conn, inv)
                return True
        return False

    # --- requests ---
    def handle(self, conn: "RuntimeConnection", req: Request) -> None:
        if self.record_requests:
            self.requests.append(RequestRecord(req, conn.conn_id))
        path = req.path
        if "?" in path:
            path = path.split("?", 1)[0]
        if path == NEXT_PATH:
            if req.method != "GET":
                return conn.answer(render_answer(405, [], b""))
            return self._next(conn, req)
        if path.startswith(INVOCATION_PREFIX):
            request_id, _, tail = path[len(INVOCATION_PREFIX) :].partition("/")
            if tail in ("response", "error") and request_id:
                if req.method != "POST":
                    return conn.answer(render_answer(405, [], b""))
                return self._post(conn, req, tail, request_id)
        elif path == INIT_ERROR_PATH:
            if req.method != "POST":
                return conn.answer(render_answer(405, [], b""))
            return self._post(conn, req, "init_error", "")
        elif path == RESTORE_NEXT_PATH and req.method == "GET":
            return conn.answer(render_answer(200, [], b""))
        elif path == RESTORE_ERROR_PATH and req.method == "POST":
            self.restore_errors.append(self._result(conn, req, "restore_error", "", 202, None))
            return conn.answer(self._accepted())
        conn.answer(render_answer(404, [("Content-Type", "text/plain; charset=utf-8")], b"404 page not found\n"))

    def _next(self, conn: "RuntimeConnection", req: Request) -> None:
        conn.busy = True
        if self.state in ("Started", "RuntimeResponseSentState"):
            self.state = "Ready"
        if self.queue:
            self._dispatch(conn, self.queue.popleft())
            return
        conn.parked_at = req.received_at
        self.parked.append(conn)
        for listener in self.parked_listeners:
            listener(req.received_at)

    def _dispatch(self, conn: "RuntimeConnection", inv: Invocation) -> None:
        faults = self.faults.take("next") if self.faults.armed else None
        if not faults:
            data = self._render_next(inv, None)
            self._in_flight(inv)  # before the write: the runtime may answer at once
            conn.transport.write(data)
            inv.dispatched_at = time.perf_counter()
            conn.resume()
            return
        inv.state = "dispatching"
        data = self._render_next(inv, faults)
        status = faults.get("status")
        delivered_means_dispatched = status is None or 200 <= status.status < 300

        def done(delivered: bool) -> None:
            if inv.state != "dispatching":  # abandoned meanwhile (timeout)
                conn.resume()
                return
            inv.state = "queued"
            if delivered and delivered_means_dispatched:
                self._dispatched(conn, inv)
                return
            self._requeue(inv)
            conn.resume()

        deliver(self.loop, conn.transport, data, faults, done)

    def _in_flight(self, inv: Invocation) -> None:
        inv.dispatch_count += 1
        inv.state = "in_flight"
        self.in_flight[inv.request_id] = inv
        self.state = "Running"

    def _dispatched(self, conn: "RuntimeConnection", inv: Invocation) -> None:
        """A faulted answer finished writing and did deliver the event."""
        self._in_flight(inv)
        inv.dispatched_at = time.perf_counter()
        conn.resume()

    def _render_next(self, inv: Invocation, faults: dict | None) -> bytes:
        deadline = inv.deadline_ms
        if deadline is None:
            deadline = int((time.time() + self.timeout) * 1000)
        arn = inv.function_arn or self.default_arn
        body = inv.body
        if not faults and inv.content_type == "application/json" and inv.plain:
            # the bench's case: one formatting operation
            return _PLAIN_NEXT % (
                inv.request_id.encode("latin-1"),
                deadline,
                arn.encode("latin-1"),
                http_date(),
                len(body),
                body,
            )
        headers = []
        if inv.content_type is not None:
            headers.append(("Content-Type", inv.content_type))
        headers.append(("Lambda-Runtime-Aws-Request-Id", inv.request_id))
        if inv.tenant_id:
            headers.append(("Lambda-Runtime-Aws-Tenant-Id", inv.tenant_id))
        if inv.client_context:
            headers.append(("Lambda-Runtime-Client-Context", inv.client_context))
        if inv.cognito_identity:
            headers.append(("Lambda-Runtime-Cognito-Identity", inv.cognito_identity))
        headers.append(("Lambda-Runtime-Deadline-Ms", str(deadline)))
        if inv.invocation_id:
            headers.append(("Lambda-Runtime-Invocation-Id", inv.invocation_id))
        headers.append(("Lambda-Runtime-Invoked-Function-Arn", arn))
        if inv.trace_id:
            headers.append(("Lambda-Runtime-Trace-Id", inv.trace_id))
        if inv.extra_headers:
            headers.extend(inv.extra_headers)
        headers.append(("Date", http_date().decode()))
        if not faults:
            return _render(b"HTTP/1.1 200 OK\r\n", headers, body, chunked=False)
        return _shape(headers, body, faults)

    def _post(self, conn: "RuntimeConnection", req: Request, kind: str, request_id: str) -> None:
        faults = self.faults.take(kind) if self.faults.armed else None
        mode = req.header("lambda-runtime-function-response-mode") if b"response-mode" in req.lower_head else None
        if kind == "init_error":
            inv = None
            if self.state == "Started":
                status, body = 202, platform.ACCEPTED_BODY
                self.state = "InitError"
            else:
                status, body = 403, platform.forbidden_transition_body(self.state, "InitError")
        else:
            inv = self.in_flight.get(request_id)
            if inv is None:
                if self.in_flight:
                    status, body = 400, platform.INVALID_REQUEST_ID_BODY
                else:
                    status = 403
                    body = platform.forbidden_transition_body(self.state, _TRANSITION_TARGET[kind])
                inv = self.invocations.get(request_id)  # already answered: record it there too
            else:
                if kind == "response" and mode is not None and mode != "streaming":
                    status, body = 400, platform.INVALID_RESPONSE_MODE_BODY
                elif kind == "response" and mode is None and len(req.body) > platform.MAX_PAYLOAD_SIZE:
                    status, body = 413, platform.TOO_LARGE_BODY
                else:
                    status, body = 202, platform.ACCEPTED_BODY

        if faults and any(action in faults for action in DROPS):
            # the runtime never learns our verdict: nothing is recorded, the invocation stays open
            if kind == "init_error" and status == 202:
                self.state = "Started"
            conn.busy = True
            deliver(self.loop, conn.transport, render_answer(status, _JSON, body), faults, conn.resumed)
            return
        if faults and "status" in faults:
            fault = faults["status"]
            status, body = fault.status, fault.body
            if kind == "init_error" and not 200 <= status < 300:
                self.state = "Started"

        result = self._result(conn, req, kind, request_id, status, mode)
        if kind == "init_error":
            self.init_errors.append(result)
            if status == 202:
                for listener in self.init_error_listeners:
                    listener(result)
        elif inv is not None:
            in_flight = inv.state == "in_flight"
            inv.add_result(result)
            if in_flight and result.accepted:
                del self.in_flight[request_id]
                self.state = "RuntimeResponseSentState"
            settle = inv.on_settle
            if in_flight and settle is not None and (result.accepted or status == 413):
                inv.on_settle = None
                settle(inv, result)

        if faults:
            data = _shape([("Content-Type", "application/json"), ("Date", http_date().decode())], body, faults, status)
            conn.busy = True
            deliver(self.loop, conn.transport, data, faults, conn.resumed)
        elif status == 202:
            conn.answer(self._accepted())
        else:
            conn.answer(render_answer(status, _JSON, body))

    def _result(self, conn, req: Request, kind: str, request_id: str, status: int, mode: str | None) -> Result:
        if kind == "response":
            raw_type = None
            if req.trailers:
                raw_type = req.trailer_dict().get("lambda-runtime-function-error-type")
            error_type = platform.valid_error_type(raw_type) if raw_type is not None else None
        else:
            error_type = platform.valid_error_type(req.header("lambda-runtime-function-error-type"))
        inv = self.invocations.get(request_id) if request_id else None
        return Result(
            request_id,
            kind,
            status,
            req,
            error_type,
            mode == "streaming",
            conn.conn_id,
            inv.dispatched_at if inv is not None else None,
            time.perf_counter(),
        )

    _accepted_cache = (b"", b"")

    def _accepted(self) -> bytes:
        date = http_date()
        if self._accepted_cache[0] != date:
            self._accepted_cache = (date, render_answer(202, _JSON, platform.ACCEPTED_BODY))
        return self._accepted_cache[1]


def _render(status: bytes, headers: list, body: bytes, chunked: bool) -> bytes:
    parts = [status]
    for name, value in headers:
        parts.append(("%s: %s\r\n" % (name, value)).encode("latin-1"))
    if chunked:
        parts.append(b"Transfer-Encoding: chunked\r\n\r\n")
        parts.append(render_chunked(body))
    else:
        parts.append(b"Content-Length: %d\r\n\r\n" % len(body))
        parts.append(body)
    return b"".join(parts)


def _shape(headers: list, body: bytes, faults: dict, status: int = 200) -> bytes:
    """Render an answer bent by the shaping faults (status, headers, deadline, chunking)."""
    if "status" in faults and status == 200:
        # /next answered with an error status: body replaces the event
        status = faults["status"].status
        body = faults["status"].body
    line = status_line(status)
    if "raw_status" in faults:
        line = faults["raw_status"].value.encode("latin-1") + b"\r\n"
    if "deadline" in faults:
        raw = faults["deadline"].value
        replaced = False
        for index, (name, _) in enumerate(headers):
            if name == "Lambda-Runtime-Deadline-Ms":
                headers[index] = (name, raw)
                replaced = True
        if not replaced:
            headers.append(("Lambda-Runtime-Deadline-Ms", raw))
    if "omit_header" in faults:
        gone = faults["omit_header"].name.lower()
        headers = [(n, v) for n, v in headers if n.lower() != gone]
    if "duplicate_header" in faults:
        twin = faults["duplicate_header"].name.lower()
        doubled = []
        for name, value in headers:
            doubled.append((name, value))
            if name.lower() == twin:
                doubled.append((name, value))
        headers = doubled
    return _render(line, headers, body, chunked="chunked" in faults)


class RuntimeConnection:
    """One TCP connection from the runtime. Answers go out in request order (HTTP/1.1)."""

    __slots__ = ("api", "transport", "conn_id", "parser", "busy", "backlog", "parked_at", "_checked_partial")

    def __init__(self, api: RuntimeApi) -> None:
        self.api = api
        self.transport = None  # a reactor.Stream
        self.conn_id = 0
        self.parser = RequestParser()
        self.busy = False  # an answer is pending (parked /next, delayed answer)
        self.backlog: deque = deque()
        self.parked_at = 0.0
        self._checked_partial = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        api = self.api
        api.connections_opened += 1
        self.conn_id = api.connections_opened

    def connection_lost(self, exc) -> None:
        try:
            self.api.parked.remove(self)
        except ValueError:
            pass

    def data_received(self, data: bytes) -> None:
        try:
            requests = self.parser.feed(data)
        except HttpError as error:
            self.transport.write(
                render_answer(error.status, [("Content-Type", "text/plain")], str(error).encode(), close=True)
            )
            self.transport.close()
            return
        partial = self.parser.partial
        if partial is not None and partial is not self._checked_partial:
            self._checked_partial = partial
            if self._upload_started(partial):
                return
        if self.busy or self.backlog:
            self.backlog.extend(requests)
            return
        api = self.api
        for index, req in enumerate(requests):
            api.handle(self, req)
            if self.busy:
                self.backlog.extend(requests[index + 1 :])
                return

    def _upload_started(self, partial: Request) -> bool:
        """A request head arrived, its body has not: maybe drop mid-upload, maybe 100-continue."""
        api = self.api
        if api.faults.armed:
            endpoint = _endpoint_of(partial.path)
            if endpoint and api.faults.take(endpoint, ("drop_mid_request",)):
                if api.record_requests:
                    api.requests.append(RequestRecord(partial, self.conn_id))
                self.transport.close()
                return True
        if self.parser.expect_continue:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return False

    def answer(self, data: bytes) -> None:
        self.transport.write(data)

    def resumed(self, delivered: bool) -> None:
        self.resume()

    def resume(self) -> None:
        """The pending answer went out: serve requests that queued up behind it."""
        self.busy = False
        backlog = self.backlog
        api = self.api
        while backlog and not self.busy:
            if self.transport.is_closing():
                backlog.clear()
                return
            api.handle(self, backlog.popleft())


def _endpoint_of(path: str) -> str | None:
    if path.startswith(INVOCATION_PREFIX):
        tail = path.rsplit("/", 1)[-1]
        if tail in ("response", "error"):
            return tail
        if tail == "next":
            return "next"
    if path.startswith(INIT_ERROR_PATH):
        return "init_error"
    return None
