"""Measuring one runtime process: its cold start, its warm invocations, its throughput.

Each runtime process gets its own Runtime API emulator (a background thread of the bench), so a
killed process can never leave a pending ``/next`` behind for the next one. Every answer is checked:
one response per request id, and its body must be the echo of the event.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass

from fastrt.emulator import Emulator

from bench import procstats
from bench.events import EchoChecker
from bench.prepare import minimal_environ
from bench.runtimes import Launch

# How long one invocation may take before the runtime is declared stuck.
INVOCATION_TIMEOUT_S = 60.0
# How often a wait for an answer also checks that the runtime process is still alive.
_LIVENESS_POLL_S = 0.2


class RuntimeFailed(Exception):
    """The runtime died or hung; the message is the error of the row or of the event size."""


class WrongAnswer(RuntimeFailed):
    """The runtime lost or corrupted an event: none of its numbers can be trusted."""


@dataclass(frozen=True)
class ColdStart:
    first_next_s: float
    first_response_s: float
    peak_rss_mib: float


@dataclass(frozen=True)
class Block:
    """One run of consecutive warm invocations of one event size."""

    latencies_s: list[float]
    cpu_s: float

    @property
    def count(self) -> int:
        return len(self.latencies_s)


def _tail(path: str, lines: int = 1) -> str:
    try:
        with open(path, "rb") as file:
            file.seek(max(0, os.path.getsize(path) - 4096))
            text = file.read().decode(errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-400:]


class RuntimeProcess:
    """One runtime process serving its own emulator."""

    def __init__(self, launch: Launch, log_path: str, checker: EchoChecker) -> None:
        self._launch = launch
        self._log_path = log_path
        self._checker = checker
        self._emulator = Emulator(function_name="bench", timeout=300.0, memory_mb=128, record_requests=False)
        self._emulator.start()
        self._process: subprocess.Popen | None = None
        self._unverified: list = []
        self.invocations = 0

    def start(self) -> float:
        """Launch the process; returns the perf_counter time just before launch."""
        launch = self._launch
        env = {**minimal_environ(), **self._emulator.lambda_env(launch.handler, launch.task_root), **launch.extra_env}
        log = open(self._log_path, "ab")
        try:
            started = time.perf_counter()
            # A session of its own, so the whole tree (curl children included) can be stopped at once.
            self._process = subprocess.Popen(
                launch.argv, cwd=launch.cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True,
            )
        except OSError as exc:
            raise RuntimeFailed("cannot launch %s: %s" % (launch.argv[0], exc)) from None
        finally:
            log.close()
        return started

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def failure(self) -> str:
        """Why the process is gone, from its exit status and the last lines it printed."""
        code = self._process.poll() if self._process else None
        tail = _tail(self._log_path)
        return "exited with %s%s" % (code, ": " + tail if tail else "")

    def enqueue(self, body: bytes):
        return self._emulator.enqueue(body, content_type="application/json")

    def answer(self, invocation, size: str, timeout: float = INVOCATION_TIMEOUT_S):
        """Wait for ``invocation``'s result, watching the process; check it is the echo of ``size``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = invocation.result(_LIVENESS_POLL_S)
                break
            except TimeoutError:
                if self._process.poll() is not None:
                    raise RuntimeFailed(self.failure()) from None
                if time.monotonic() > deadline:
                    raise RuntimeFailed("no answer within %.0f s" % timeout) from None
        if result.kind != "response" or not result.accepted:
            detail = bytes(result.body[:200]).decode(errors="replace")
            raise WrongAnswer("answered with %s (HTTP %d): %s" % (result.kind, result.status, detail))
        problem = self._checker.problem(size, result.body)
        if problem:
            raise WrongAnswer(problem)
        self.invocations += 1
        self._unverified.append(invocation)
        return result

    def enqueue_many(self, body: bytes, count: int) -> list:
        return self._emulator.enqueue_many([body] * count, content_type="application/json")

    def invoke(self, size: str, body: bytes):
        return self.answer(self.enqueue(body), size)

    def verify_one_answer_each(self) -> None:
        """Every event answered since the last check was delivered once and answered exactly once."""
        checked, self._unverified = self._unverified, []
        for invocation in checked:
            if invocation.dispatch_count != 1 or len(invocation.results) != 1:
                raise WrongAnswer(
                    "request %s: delivered %d times, %d answers posted"
                    % (invocation.request_id, invocation.dispatch_count, len(invocation.results))
                )

    def cpu_seconds(self) -> float:
        return procstats.tree_cpu_seconds(self.pid)

    def peak_rss_mib(self) -> float:
        """Peak RSS of the tree, read once the runtime waits on ``/next`` again, so that every
        process it keeps around then (seed-bash's curl) is alive and counted."""
        try:
            self._emulator.wait_for_next(timeout=10.0)
        except TimeoutError:
            pass  # a runtime that never asks again is measured as it is
        return procstats.tree_peak_rss_mib(self.pid)

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is not None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._process.wait()
        self._emulator.stop()


def cold_start(process: RuntimeProcess, event: bytes) -> ColdStart:
    """Launch with the first event already queued: launch -> first /next, launch -> first response."""
    try:
        invocation = process.enqueue(event)
        started = process.start()
        result = process.answer(invocation, "small")
        peak = process.peak_rss_mib()
        process.verify_one_answer_each()
    finally:
        process.stop()
    return ColdStart(result.dispatched_at - started, result.completed_at - started, peak)


def warm_block(process: RuntimeProcess, size: str, event: bytes, count: int, budget_s: float) -> Block:
    """Up to ``count`` invocations, one outstanding at a time, stopping early after ``budget_s``."""
    latencies = []
    cpu_before = process.cpu_seconds()
    stop_at = time.perf_counter() + budget_s
    while len(latencies) < count:
        result = process.invoke(size, event)
        latencies.append(result.completed_at - result.dispatched_at)
        if result.completed_at > stop_at:
            break
    cpu_after = process.cpu_seconds()
    process.verify_one_answer_each()
    return Block(latencies, cpu_after - cpu_before)


def throughput(process: RuntimeProcess, event: bytes, count: int) -> float:
    """Invocations per second when ``count`` events wait in the queue: the runtime never waits for us."""
    invocations = process.enqueue_many(event, count)
    results = [process.answer(invocation, "small") for invocation in invocations]
    span = max(r.completed_at for r in results) - min(r.dispatched_at for r in results)
    process.verify_one_answer_each()
    return count / span
