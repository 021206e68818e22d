"""Harness for the feature tests (fixtures are re-exported by conftest.py): a task root on disk, fastrt in a real subprocess, and the
project's emulator (or, where the emulator has no such endpoint, a small stub server) as
the Runtime API over loopback.

``FASTRT_PURE=1`` in the pytest process is passed on to the runtime subprocesses.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading

import pytest
from runtime_harness import REPO, CapturedOutput, base_env, wait_until, write_files  # noqa: F401  (re-exported)

from fastrt.emulator import Emulator

EXAMPLES = REPO + "/examples"


class Function(CapturedOutput):
    """One fastrt process serving the handler in ``task_root``."""

    def __init__(self, runtime_api: str, task_root: str, handler: str, env: dict, lambda_env: dict) -> None:
        self.task_root = task_root
        self.env = base_env()
        self.env.update(lambda_env)
        self.env["AWS_LAMBDA_RUNTIME_API"] = runtime_api
        self.env.update(env)
        self.env = {k: v for k, v in self.env.items() if v is not None}
        self.stdout_path = task_root.rstrip("/") + ".stdout"
        self.stderr_path = task_root.rstrip("/") + ".stderr"
        self.proc = None

    def start(self) -> "Function":
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fastrt"],
                cwd=self.task_root,
                env=self.env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        return self

    def wait(self, timeout: float = 20.0) -> int:
        return self.proc.wait(timeout=timeout)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.proc.send_signal(signum)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def function(tmp_path, emulator):
    """``function(files, handler=..., env=...)`` -> a started :class:`Function` on ``emulator``."""
    started = []

    def factory(files: dict, handler: str = "app.handler", env: dict | None = None, api=None) -> Function:
        root = write_files(str(tmp_path / ("task%d" % len(started))), files)
        runtime_api = api.address if api is not None else emulator.runtime_api
        fn = Function(runtime_api, root, handler, env or {}, emulator.lambda_env(handler, root))
        started.append(fn)
        return fn.start()

    yield factory
    for fn in started:
        fn.stop()


def invoke(emulator: Emulator, event=None, timeout: float = 20.0, **headers):
    body = event if isinstance(event, (bytes, str)) else json.dumps(event if event is not None else {}).encode()
    return emulator.enqueue(body, **headers).result(timeout=timeout)


def peak_rss_kib(pid: int) -> int:
    """VmHWM (the peak resident set) of a live process, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for pid %d" % pid)


class StubApi:
    """A minimal scripted Runtime API, for what the emulator does not offer.

    ``routes`` maps ``(method, path)`` to a function ``(request) -> (status, headers, body)``
    or to None to hold the request open forever (a long poll that never answers). Each
    request is recorded as a dict with method, path, headers and body; chunked bodies are
    decoded and each chunk is recorded as it arrives in ``chunks`` (for streaming tests);
    with ``drop_streams`` the connection is cut after a streamed body's first chunk.
    """

    def __init__(self, routes: dict, drop_streams: bool = False) -> None:
        self.routes = routes
        self.drop_streams = drop_streams  # hang up on a streamed body after its first chunk
        self.requests: list = []
        self.chunks: list = []
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.address = "127.0.0.1:%d" % self._server.getsockname()[1]
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closing = True
        self._server.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        reader = conn.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line:
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers = {}
                while True:
                    line = reader.readline().decode("latin-1").rstrip("\r\n")
                    if not line:
                        break
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                request = {"method": method, "path": path, "headers": headers, "body": b"", "trailers": {}}
                if headers.get("transfer-encoding") == "chunked":
                    body = []
                    while True:
                        size = int(reader.readline().split(b";")[0], 16)
                        if size == 0:
                            break
                        data = reader.read(size)
                        reader.readline()
                        body.append(data)
                        self.chunks.append((path, data))
                        if self.drop_streams:
                            conn.shutdown(socket.SHUT_RDWR)
                            return
                    while True:
                        line = reader.readline().decode("latin-1").rstrip("\r\n")
                        if not line:
                            break
                        name, _, value = line.partition(":")
                        request["trailers"][name.strip().lower()] = value.strip()
                    request["body"] = b"".join(body)
                elif "content-length" in headers:
                    request["body"] = reader.read(int(headers["content-length"]))
                self.requests.append(request)
                route = self.routes.get((method, path.split("?")[0]))
                if route is None and (method, path.split("?")[0]) in self.routes:
                    threading.Event().wait()  # a long poll that never answers
                status, extra, body = route(request) if route else (404, {}, b"not found")
                head = "HTTP/1.1 %d X\r\nContent-Length: %d\r\n" % (status, len(body))
                head += "".join("%s: %s\r\n" % item for item in extra.items())
                conn.sendall(head.encode("latin-1") + b"\r\n" + body)
        except OSError:
            return
        finally:
            conn.close()


def next_answer(events: list):
    """A ``GET /next`` route that hands out ``events`` (bodies) in order, then waits forever."""
    lock = threading.Lock()
    queue = list(events)

    def route(request):
        with lock:
            body = queue.pop(0) if queue else None
        if body is None:
            threading.Event().wait()
        number = len(events) - len(queue)
        return 200, {"Lambda-Runtime-Aws-Request-Id": "req-%d" % number, "Content-Type": "application/json"}, body

    return route


def accepted(request):
    return 202, {"Content-Type": "application/json"}, b'{"status":"OK"}'
