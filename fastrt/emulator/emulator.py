"""The facade: an emulated Lambda execution environment, served from background threads.

The Runtime API runs in one thread on a lean epoll loop (``reactor.py``): it is on the bench's
hot path. The invoke side and the supervisor, which are not, run on an asyncio loop in a second
thread started only when needed. Methods here may be called from any thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from typing import Iterable

from fastrt.emulator import platform
from fastrt.emulator.faults import Fault, FaultBook
from fastrt.emulator.invoke_api import DirectInvoker, InvokeConnection
from fastrt.emulator.reactor import Reactor
from fastrt.emulator.records import Invocation, Result
from fastrt.emulator.runtime_api import RuntimeApi, RuntimeConnection


def _log_stream_name() -> str:
    """Lambda's form: ``2024/01/31/[$LATEST]<32 hex digits>``."""
    return time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()) + uuid.uuid4().hex


class Emulator:
    """Serves the Lambda Runtime API (and optionally RIE's invoke endpoint) on loopback."""

    def __init__(
        self,
        function_name: str = "test-fn",
        timeout: float = platform.DEFAULT_TIMEOUT,
        memory_mb: int = 128,
        region: str = "us-east-1",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        invoke_port: int | None = None,
        invoke_host: str | None = None,
        record_requests: bool = True,
        function_version: str = "$LATEST",
        runtime_dir: str = "/var/runtime",
    ) -> None:
        self.function_name = function_name
        self.timeout = float(timeout)
        self.memory_mb = memory_mb
        self.region = region
        self.host = host
        self.port = port
        self.invoke_port = invoke_port
        self.invoke_host = invoke_host or host
        self.record_requests = record_requests
        self.function_version = function_version
        self.runtime_dir = runtime_dir
        self.log_stream_name = _log_stream_name()
        self.faults = FaultBook()
        self.loop: Reactor | None = None  # the Runtime API thread's loop
        self.aloop: asyncio.AbstractEventLoop | None = None  # invoke side + supervisor, started on demand
        self.api: RuntimeApi | None = None
        self.invoke_address: tuple | None = None
        self._servers: list = []
        self._athread: threading.Thread | None = None
        self._next_cond = threading.Condition()
        self._next_watchers = 0

    # --- lifecycle ---
    def start(self) -> "Emulator":
        if self.loop is not None:
            return self
        reactor = Reactor()
        self.api = RuntimeApi(
            reactor,
            self.faults,
            default_arn=platform.function_arn(self.region, self.function_name),
            timeout=self.timeout,
            record_requests=self.record_requests,
        )
        self.api.parked_listeners.append(self._runtime_parked)
        api = self.api
        listener = reactor.listen(self.host, self.port, lambda: RuntimeConnection(api))
        self.port = listener.sock.getsockname()[1]
        reactor.run_in_thread()
        self.loop = reactor
        if self.invoke_port is not None:
            self.serve_invoke(port=self.invoke_port)
        return self

    def stop(self) -> None:
        if self.aloop is not None:
            aloop, self.aloop = self.aloop, None

            async def shutdown():
                for server in self._servers:
                    server.close()
                aloop.stop()

            asyncio.run_coroutine_threadsafe(shutdown(), aloop)
            self._athread.join(10)
        if self.loop is not None:
            self.loop.stop()
            self.loop = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def call(self, fn, *args, timeout: float = 10.0):
        """Run ``fn(*args)`` in the Runtime API thread and return its result."""
        return self.loop.call(fn, *args, timeout=timeout)

    def submit(self, inv: Invocation) -> Invocation:
        """Queue an already built invocation (from any thread)."""
        self.loop.call_soon_threadsafe(self.api.enqueue, inv)
        return inv

    def abandon(self, inv: Invocation) -> None:
        """Give up on ``inv``: unqueue it, or refuse its late posts (from any thread)."""
        self.call(self.api.abandon, inv)

    def async_loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop (own thread) that runs the invoke side and the supervisor."""
        if self.aloop is None:
            started = threading.Event()

            def run() -> None:
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
                self.aloop = loop
                started.set()
                loop.run_forever()
                loop.close()

            self._athread = threading.Thread(target=run, name="fastrt-invoke", daemon=True)
            self._athread.start()
            started.wait()
        return self.aloop

    def serve_invoke(self, invoker=None, host: str | None = None, port: int = 0) -> tuple:
        """Start the RIE-compatible invoke endpoint; returns its (host, port)."""
        invoker = invoker or DirectInvoker(self)
        host = host or self.invoke_host
        aloop = self.async_loop()

        async def open_server():
            return await aloop.create_server(
                lambda: InvokeConnection(invoker, _new_request_id), host, port, reuse_address=True
            )

        server = asyncio.run_coroutine_threadsafe(open_server(), aloop).result(10)
        self._servers.append(server)
        self.invoke_address = (host, server.sockets[0].getsockname()[1])
        self.invoke_port = self.invoke_address[1]
        return self.invoke_address

    # --- configuration for the runtime process ---
    @property
    def runtime_api(self) -> str:
        return "%s:%d" % (self.host, self.port)

    @property
    def invoke_url(self) -> str:
        host, port = self.invoke_address
        return "http://%s:%d/2015-03-31/functions/function/invocations" % (host, port)

    def lambda_env(self, handler: str, task_root: str) -> dict:
        """The variables Lambda sets for a function (contract §1.5); merge over PATH, HOME etc."""
        return {
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": self.runtime_dir,
            "AWS_LAMBDA_RUNTIME_API": self.runtime_api,
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": self.function_version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + self.function_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream_name,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
        }

    # --- events ---
    def enqueue(
        self,
        event: bytes | str = b"{}",
        *,
        content_type: str | None = "application/json",
        request_id: str | None = None,
        deadline_ms: int | str | None = None,
        trace_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        tenant_id: str | None = None,
        invocation_id: str | None = None,
        function_arn: str | None = None,
        extra_headers: list | None = None,
    ) -> Invocation:
        """Queue one event for the runtime's next ``GET /next``. ``deadline_ms`` None means
        "dispatch time + timeout"; any header value None is omitted from the /next answer."""
        inv = Invocation(request_id or _new_request_id(), event.encode() if isinstance(event, str) else event)
        inv.content_type = content_type
        inv.deadline_ms = deadline_ms
        inv.trace_id = trace_id
        inv.client_context = client_context
        inv.cognito_identity = cognito_identity
        inv.tenant_id = tenant_id
        inv.invocation_id = invocation_id
        inv.function_arn = function_arn
        inv.extra_headers = list(extra_headers) if extra_headers else None
        return self.submit(inv)

    def enqueue_many(self, events: Iterable, *, content_type: str | None = "application/json") -> list:
        """Queue many events in one hand-over to the loop (cheap for the bench)."""
        invocations = []
        for event in events:
            inv = Invocation(_new_request_id(), event.encode() if isinstance(event, str) else event)
            inv.content_type = content_type
            invocations.append(inv)

        def push() -> None:
            for inv in invocations:
                self.api.enqueue(inv)

        self.loop.call_soon_threadsafe(push)
        return invocations

    def wait_for_next(self, timeout: float = 10.0) -> float:
        """Block until a runtime has a ``GET /next`` waiting; return when it arrived (perf_counter)."""
        deadline = time.monotonic() + timeout
        with self._next_cond:
            self._next_watchers += 1
            try:
                while True:
                    for conn in list(self.api.parked):
                        if not conn.transport.is_closing():
                            return conn.parked_at
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise TimeoutError("no runtime called GET /next within %.1f s" % timeout)
                    self._next_cond.wait(min(remaining, 0.05))
            finally:
                self._next_watchers -= 1

    def _runtime_parked(self, at: float) -> None:
        if self._next_watchers:
            with self._next_cond:
                self._next_cond.notify_all()

    # --- what the runtime did ---
    @property
    def requests(self) -> list:
        return self.api.requests

    @property
    def connections_opened(self) -> int:
        return self.api.connections_opened

    @property
    def init_error(self) -> Result | None:
        errors = self.api.init_errors
        return errors[0] if errors else None

    @property
    def init_errors(self) -> list:
        return self.api.init_errors

    def wait_init_error(self, timeout: float = 10.0) -> Result:
        deadline = time.monotonic() + timeout
        while not self.api.init_errors:
            if time.monotonic() > deadline:
                raise TimeoutError("no POST /runtime/init/error within %.1f s" % timeout)
            time.sleep(0.005)
        return self.api.init_errors[0]

    def new_runtime(self) -> None:
        """Tell the emulator a new runtime process starts (the old one died): resets its state."""
        self.call(self.api.new_runtime)

    def runtime_state(self) -> str:
        """RIE's name for the runtime state (Started, Ready, Running, RuntimeResponseSentState, ...)."""
        return self.api.state

    # --- faults ---
    def add_fault(self, fault: Fault) -> None:
        self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- speed ---
    def capacity(self, n: int = 20000) -> float:
        """Invocations per second this emulator serves to a raw-socket client that costs ~nothing."""
        from fastrt.emulator.capacity import measure

        return measure(self, n)


def _new_request_id() -> str:
    return str(uuid.uuid4())
