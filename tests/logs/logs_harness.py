"""Runs driver.py under each runtime and captures stdout, stderr and telemetry frames."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "driver.py")

_TEXT_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_JSON_TIME = re.compile(rb'"timestamp": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"')


def mask_times(data: bytes) -> bytes:
    """Timestamps replaced by placeholders: two runs never share a clock."""
    return _JSON_TIME.sub(b'"timestamp": "<T>"', _TEXT_TIME.sub(b"<T>", data))


class Frame:
    __slots__ = ("frame_type", "timestamp_us", "message")

    def __init__(self, frame_type: int, timestamp_us: int, message: bytes) -> None:
        self.frame_type = frame_type
        self.timestamp_us = timestamp_us
        self.message = message

    def masked(self) -> tuple:
        return (hex(self.frame_type), mask_times(self.message))


def parse_frames(data: bytes) -> list:
    """Split the telemetry byte stream into frames; fails on a torn or padded stream."""
    frames = []
    offset = 0
    while offset < len(data):
        assert len(data) - offset >= 16, "truncated frame header"
        frame_type = int.from_bytes(data[offset : offset + 4], "big")
        length = int.from_bytes(data[offset + 4 : offset + 8], "big")
        timestamp = int.from_bytes(data[offset + 8 : offset + 16], "big")
        message = data[offset + 16 : offset + 16 + length]
        assert len(message) == length, "truncated frame body"
        frames.append(Frame(frame_type, timestamp, message))
        offset += 16 + length
    return frames


class Run:
    __slots__ = ("stdout", "stderr", "frames", "returncode")

    def __init__(self, stdout: bytes, stderr: bytes, frames: list, returncode: int) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.frames = frames
        self.returncode = returncode

    def masked(self) -> tuple:
        return (
            mask_times(self.stdout).decode("utf-8", "replace").splitlines(True),
            mask_times(self.stderr).decode("utf-8", "replace").splitlines(True),
            [frame.masked() for frame in self.frames],
        )


def run_driver(runtime: str, scenarios: list, env: dict, telemetry: bool = False, extra_args=()) -> Run:
    """driver.py in a fresh interpreter; with ``telemetry`` the sink is a real os.pipe()."""
    return run_script(DRIVER, env, telemetry, [runtime, *scenarios, *extra_args])


def run_script(path: str, env: dict, telemetry: bool = False, args=()) -> Run:
    """A Python script in a fresh interpreter; with ``telemetry`` the sink is a real os.pipe()."""
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    child_env.update(env)
    pass_fds = ()
    read_end = write_end = None
    if telemetry:
        read_end, write_end = os.pipe()
        child_env["_LAMBDA_TELEMETRY_LOG_FD"] = str(write_end)
        pass_fds = (write_end,)
    started = time.time()
    process = subprocess.Popen(
        [sys.executable, path, *args],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=pass_fds,
    )
    chunks = []
    reader = None
    if telemetry:
        os.close(write_end)
        reader = threading.Thread(target=_read_all, args=(read_end, chunks))
        reader.start()
    stdout, stderr = process.communicate(timeout=60)
    frames = []
    if reader is not None:
        reader.join(timeout=60)
        os.close(read_end)
        frames = parse_frames(b"".join(chunks))
        finished = time.time()
        for frame in frames:
            assert started * 1e6 - 1e6 <= frame.timestamp_us <= finished * 1e6 + 1e6, "timestamp not µs since epoch"
    return Run(stdout, stderr, frames, process.returncode)


def _read_all(fd: int, chunks: list) -> None:
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        chunks.append(chunk)
