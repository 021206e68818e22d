"""The sandbox: runs the function's runtime as a child process and invokes it like Lambda/RIE.

Cold start on the first invoke (RIE starts the runtime lazily too); the init error, if the
runtime reports one, is served on that invoke; a runtime that exits is started again on the
next invoke; an invoke that outlives the timeout kills the runtime's process group. START, END
and REPORT lines are written in Lambda's format.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
import threading
import time
from typing import TextIO

from fastrt.emulator import platform
from fastrt.emulator.invoke_api import FUNCTION_ERROR, InvokeAnswer, answer_for_result, settle_future
from fastrt.emulator.records import Invocation

# Go's names for the signals a runtime commonly dies of (RIE reports "signal: killed").
_SIGNAL_TEXT = {
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGTERM: "terminated",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGINT: "interrupt",
}


def exit_detail(returncode: int) -> str:
    if returncode >= 0:
        return "exit status %d" % returncode
    number = -returncode
    try:
        return "signal: " + _SIGNAL_TEXT.get(number, signal.Signals(number).name)
    except ValueError:
        return "signal: %d" % number


def peak_rss_mb(pid: int) -> int | None:
    """VmHWM of the process, in MB rounded up (Linux); None when unavailable."""
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return math.ceil(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


def _resolve(future: asyncio.Future, value) -> None:
    if not future.done():
        future.set_result(value)


class Supervisor:
    """Invoker for :meth:`Emulator.serve_invoke` that owns the runtime process."""

    def __init__(
        self,
        emulator,
        command: list,
        handler: str,
        task_root: str,
        *,
        env: dict | None = None,
        log: TextIO | None = None,
        stdout=None,
        stderr=None,
    ) -> None:
        self.emulator = emulator
        self.command = list(command)
        self.handler = handler
        self.task_root = os.path.abspath(task_root)
        self.base_env = dict(os.environ if env is None else env)
        self.log = log or sys.stdout
        self.stdout = stdout
        self.stderr = stderr
        self.proc: subprocess.Popen | None = None
        self.cold_starts = 0
        self._exited: asyncio.Future | None = None
        self._ready: asyncio.Future | None = None
        self._init_failed: asyncio.Future | None = None
        self._init_started = 0.0
        self._peak_mb: int | None = None
        self._lock: asyncio.Lock | None = None
        emulator.api.parked_listeners.append(self._on_parked)
        emulator.api.init_error_listeners.append(self._on_init_error)

    # --- child process ---
    def child_env(self) -> dict:
        env = dict(self.base_env)
        env.update(self.emulator.lambda_env(self.handler, self.task_root))
        return env

    def _spawn(self) -> None:
        loop = asyncio.get_running_loop()
        self.emulator.new_runtime()
        self._exited = loop.create_future()
        self._ready = loop.create_future()
        self._init_failed = loop.create_future()
        self._peak_mb = None
        self._init_started = time.perf_counter()
        self.cold_starts += 1
        self.proc = proc = subprocess.Popen(
            self.command,
            cwd=self.task_root,
            env=self.child_env(),
            stdin=subprocess.DEVNULL,
            stdout=self.stdout,
            stderr=self.stderr,
            start_new_session=True,  # its own process group: a timeout kills helpers (curl) too
        )
        exited = self._exited

        def watch() -> None:
            code = proc.wait()
            if not loop.is_closed():
                loop.call_soon_threadsafe(lambda: exited.done() or exited.set_result(code))

        threading.Thread(target=watch, name="fastrt-runtime-watch", daemon=True).start()

    def _alive(self) -> bool:
        return self.proc is not None and self._exited is not None and not self._exited.done()

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # called in the Runtime API thread: hand over to the asyncio loop
    def _on_parked(self, at: float) -> None:
        ready = self._ready
        if ready is not None and not ready.done():
            ready.get_loop().call_soon_threadsafe(_resolve, ready, at)

    def _on_init_error(self, result) -> None:
        failed = self._init_failed
        if failed is not None and not failed.done():
            failed.get_loop().call_soon_threadsafe(_resolve, failed, result)

    def close(self) -> None:
        """Kill the runtime (from any thread)."""
        self._kill()
        if self.proc is not None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass

    # --- the invoker interface ---
    async def invoke(self, inv: Invocation) -> InvokeAnswer:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one invoke at a time, like a Lambda execution environment
            return await self._invoke(inv)

    async def _invoke(self, inv: Invocation) -> InvokeAnswer:
        init_ms = None
        if not self._alive():
            self._spawn()
            outcome = await self._first_of(self._ready, self._init_failed, self._exited)
            init_ms = (time.perf_counter() - self._init_started) * 1000.0
            if outcome is self._ready:
                init_ms = (self._ready.result() - self._init_started) * 1000.0
                self._peak_mb = peak_rss_mb(self.proc.pid)
            elif outcome is self._init_failed:
                return await self._serve_init_error(inv, init_ms)
            elif outcome is self._exited:
                self._line("START RequestId: %s Version: %s" % (inv.request_id, self.emulator.function_version))
                return self._finish(inv, time.perf_counter(), init_ms, self._exit_answer(inv))
            else:
                self._line("START RequestId: %s Version: %s" % (inv.request_id, self.emulator.function_version))
                return self._timed_out(inv, time.perf_counter(), init_ms)

        self._line("START RequestId: %s Version: %s" % (inv.request_id, self.emulator.function_version))
        settled = settle_future(inv)
        started = time.perf_counter()
        self.emulator.submit(inv)
        outcome = await self._first_of(settled, self._exited)
        if outcome is settled:
            return self._finish(inv, started, init_ms, answer_for_result(settled.result()))
        self.emulator.abandon(inv)
        if outcome is self._exited:
            return self._finish(inv, started, init_ms, self._exit_answer(inv))
        return self._timed_out(inv, started, init_ms)

    async def _first_of(self, *futures):
        """The first future to complete, or None after the function timeout."""
        done, _ = await asyncio.wait(futures, timeout=self.emulator.timeout, return_when=asyncio.FIRST_COMPLETED)
        for future in futures:  # deterministic preference when several completed together
            if future in done:
                return future
        return None

    async def _serve_init_error(self, inv: Invocation, init_ms: float) -> InvokeAnswer:
        result = self._init_failed.result()
        # the runtime is expected to exit after reporting; do not leave it behind if it does not
        done, _ = await asyncio.wait([self._exited], timeout=2.0)
        if not done:
            self._kill()
        self._line("START RequestId: %s Version: %s" % (inv.request_id, self.emulator.function_version))
        answer = InvokeAnswer(502, [("Content-Type", platform.json_content_type(result.body)), FUNCTION_ERROR], result.body)
        return self._finish(inv, time.perf_counter(), init_ms, answer, status="error", error_type=result.error_type)

    def _exit_answer(self, inv: Invocation) -> InvokeAnswer:
        detail = exit_detail(self._exited.result())
        self.proc = None
        return InvokeAnswer(
            200, [("Content-Type", "application/json"), FUNCTION_ERROR], platform.runtime_exit_error(inv.request_id, detail)
        )

    def _timed_out(self, inv: Invocation, started: float, init_ms: float | None) -> InvokeAnswer:
        self._kill()
        self.emulator.abandon(inv)
        self.proc = None
        body = platform.timeout_body(self.emulator.timeout)
        self._line("%s %s %s" % (time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()), inv.request_id, body.decode()))
        answer = InvokeAnswer(200, [("Content-Type", "text/plain"), FUNCTION_ERROR], body)
        return self._finish(inv, started, init_ms, answer, status="timeout")

    def _finish(self, inv, started: float, init_ms, answer: InvokeAnswer, status: str = "", error_type=None):
        duration = (time.perf_counter() - started) * 1000.0
        duration = min(duration, self.emulator.timeout * 1000.0)
        if self.proc is not None:
            self._peak_mb = peak_rss_mb(self.proc.pid) or self._peak_mb
        memory = self.emulator.memory_mb
        used = self._peak_mb if self._peak_mb is not None else memory
        self._line("END RequestId: %s" % inv.request_id)
        # Lambda's field order; Init Duration only on a cold start
        report = "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t" % (
            inv.request_id,
            duration,
            math.ceil(duration),
            memory,
            used,
        )
        if init_ms is not None:
            report += "Init Duration: %.2f ms\t" % init_ms
        if status:
            report += "Status: %s\t" % status
        if error_type:
            report += "Error Type: %s\t" % error_type
        self._line(report)
        return answer

    def _line(self, text: str) -> None:
        self.log.write(text + "\n")
        self.log.flush()
