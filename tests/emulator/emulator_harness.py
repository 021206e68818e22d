"""Fixtures for the emulator tests: a started Emulator, a raw HTTP client, real runtimes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fastrt.emulator import Emulator

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
SEED_BOOTSTRAP = HERE / "seed_bootstrap.sh"
API = "/2018-06-01/runtime/invocation/"


@pytest.fixture
def emulator():
    emu = Emulator(function_name="test-fn", timeout=300.0, memory_mb=128, region="us-east-1")
    emu.start()
    yield emu
    emu.stop()


class RawClient:
    """A deliberately dumb HTTP/1.1 client over one socket, to see the emulator's exact bytes."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str, path: str, body: bytes | None = None, headers: list = ()) -> None:
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: emulator"]
        lines += ["%s: %s" % pair for pair in headers]
        if body is not None:
            lines.append("Content-Length: %d" % len(body))
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))

    def read_answer(self) -> tuple:
        """(status, [(name, value)], body); understands Content-Length and chunked answers."""
        head = self._until(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
        names = {name.lower(): value for name, value in headers}
        if names.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size = int(self._until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._until(b"\r\n")
                    break
                body += self._exactly(size)
                self._exactly(2)
        else:
            body = self._exactly(int(names.get("content-length", "0")))
        return status, headers, body

    def next(self) -> tuple:
        self.request("GET", API + "next")
        return self.read_answer()

    def post(self, request_id: str, kind: str = "response", body: bytes = b"{}", headers: list = ()) -> tuple:
        self.request("POST", API + "%s/%s" % (request_id, kind), body, headers)
        return self.read_answer()

    def closed(self) -> bool:
        """True if the peer closed the connection (reads EOF/reset) without sending more."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the emulator; had %r" % self.buf)
            self.buf += chunk
        out, _, self.buf = self.buf.partition(marker)
        return out

    def _exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the emulator mid-body")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def client(emulator):
    clients = []

    def connect() -> RawClient:
        raw = RawClient(emulator.port)
        clients.append(raw)
        return raw

    yield connect
    for raw in clients:
        raw.close()


def until(predicate, timeout: float = 5.0) -> None:
    """Wait for something the emulator's thread does just after the client saw its effect."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within %.1f s" % timeout)
        time.sleep(0.002)


def header(headers: list, name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


@pytest.fixture
def start_runtime():
    """start_runtime(emulator, command, handler, task_root=FIXTURES) -> Popen, killed afterwards."""
    procs = []

    def start(emu: Emulator, command: list, handler: str, task_root: Path = FIXTURES, **popen):
        env = dict(os.environ)
        env.update(emu.lambda_env(handler, str(task_root)))
        proc = subprocess.Popen(command, cwd=str(task_root), env=env, start_new_session=True, **popen)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        proc.wait(10)


AWSLAMBDARIC = [sys.executable, "-m", "awslambdaric"]
