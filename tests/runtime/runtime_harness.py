"""End-to-end harness: handler files in a temp task root, a runtime in a real subprocess,
the project's emulator as the Runtime API over loopback.

The same suite runs in both modes of the core: ``FASTRT_PURE=1`` in the pytest process is
passed on to every fastrt subprocess (the Makefile runs the suite once each way).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from fastrt.emulator import Emulator

PURE = os.environ.get("FASTRT_PURE", "") not in ("", "0")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RUNTIME_COMMANDS = {
    "fastrt": [sys.executable, "-m", "fastrt"],
    "awslambdaric": [sys.executable, "-m", "awslambdaric"],
    # A bootstrap of the user's own: the task root's app.py, which calls fastrt.serve(callable).
    "fastrt-embedded": [sys.executable, "app.py"],
}


def base_env() -> dict:
    """What a Lambda sandbox has besides the Lambda variables: a PATH and a HOME."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    if PURE:
        env["FASTRT_PURE"] = "1"
    return env


class CapturedOutput:
    """What a runtime subprocess wrote to the files at ``stdout_path`` and ``stderr_path``."""

    stdout_path: str
    stderr_path: str

    @property
    def stdout(self) -> str:
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Function(CapturedOutput):
    """One runtime process serving a handler from ``task_root`` against ``emu``."""

    def __init__(self, emu: Emulator, task_root: str, handler: str, runtime: str, env: dict, argv_handler: bool):
        self.emu = emu
        self.task_root = task_root
        self.handler = handler
        self.runtime = runtime
        self.env = env
        self.argv_handler = argv_handler
        self.proc = None
        self.stdout_path = os.path.join(task_root, "..", "%s.stdout" % runtime)
        self.stderr_path = os.path.join(task_root, "..", "%s.stderr" % runtime)
        self._out = None
        self._err = None
        self.pass_fds = ()

    def start(self) -> "Function":
        command = list(RUNTIME_COMMANDS[self.runtime])
        if self.argv_handler or self.runtime == "awslambdaric":
            command.append(self.handler)
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            command,
            cwd=self.task_root,
            env=self.env,
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            pass_fds=self.pass_fds,
        )
        return self

    def invoke(self, event=b"{}", timeout: float = 20.0, **headers):
        if not isinstance(event, (bytes, bytearray)):
            event = json.dumps(event).encode()  # a Python value; bytes are sent raw
        return self.emu.enqueue(event, **headers).result(timeout=timeout)

    def wait(self, timeout: float = 20.0) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for f in (self._out, self._err):
            if f is not None and not f.closed:
                f.close()


@pytest.fixture
def emulator():
    emu = Emulator(function_name="test-fn", timeout=30.0, memory_mb=256)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def write_files(root: str, files: dict) -> str:
    """Each ``{relative path: text}`` under ``root`` (dedented), folders made as needed."""
    os.makedirs(root, exist_ok=True)
    for name, text in files.items():
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
    return root


def write_task_root(root: str, source: str, files: dict | None = None, module: str = "app") -> str:
    return write_files(root, {module.replace(".", "/") + ".py": source, **(files or {})})


@pytest.fixture
def serve(tmp_path):
    """``serve(source, ...)`` -> a started :class:`Function` (stopped at teardown).

    Each call gets its own emulator unless ``emu`` is given, so a differential test can
    run fastrt and awslambdaric side by side without their events mixing.
    """
    started = []
    emulators = []

    def factory(
        source: str,
        handler: str = "app.handler",
        runtime: str = "fastrt",
        env: dict | None = None,
        files: dict | None = None,
        emu: Emulator | None = None,
        argv_handler: bool = False,
        start: bool = True,
        pass_fds: tuple = (),
        timeout: float = 30.0,
    ) -> Function:
        if emu is None:
            emu = Emulator(function_name="test-fn", timeout=timeout, memory_mb=256)
            emu.start()
            emulators.append(emu)
        task_root = write_task_root(str(tmp_path / ("task-%s-%d" % (runtime, len(started)))), source, files)
        full_env = base_env()
        full_env.update(emu.lambda_env(handler, task_root))
        full_env.update(env or {})
        full_env = {k: v for k, v in full_env.items() if v is not None}
        function = Function(emu, task_root, handler, runtime, full_env, argv_handler)
        function.pass_fds = pass_fds
        started.append(function)
        if start:
            function.start()
        return function

    yield factory
    for function in started:
        function.stop()
    for emu in emulators:
        emu.stop()


def both(serve, source: str, **kwargs) -> dict:
    """The same handler under fastrt and awslambdaric, each with its own emulator."""
    return {runtime: serve(source, runtime=runtime, **kwargs) for runtime in ("fastrt", "awslambdaric")}


def error_json(result) -> dict:
    assert result.kind == "error", (result.kind, result.body[:500])
    return json.loads(result.body)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %.1fs" % timeout)
