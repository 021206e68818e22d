"""Injected misbehaviour of the Runtime API, for the reliability tests.

A :class:`Fault` names an endpoint, an action and how many times it fires. Several faults may
match one request (e.g. ``chunked`` + ``byte_by_byte``); at most one of each action applies.
Answer *shaping* actions change the bytes (``status``, ``raw_status``, ``chunked``,
``omit_header``, ``duplicate_header``, ``deadline``); *delivery* actions change how they are
written (``delay``, ``byte_by_byte``, the ``drop_*`` family, ``garbage``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

ENDPOINTS = ("next", "response", "error", "init_error")

ACTIONS = (
    "drop_before_answer",  # read the whole request, close without answering
    "drop_mid_headers",  # write part of the answer's head, then close
    "drop_mid_body",  # write the head and half of the body, then close
    "drop_mid_request",  # close as soon as the request head is read (body still uploading)
    "status",  # answer ``status`` with ``body`` instead
    "delay",  # wait ``seconds`` before answering
    "chunked",  # /next answer with Transfer-Encoding: chunked
    "byte_by_byte",  # write the answer one byte at a time, ``seconds`` apart (default 1 ms)
    "garbage",  # write non-HTTP bytes, then close
    "omit_header",  # leave header ``name`` out of the answer
    "duplicate_header",  # send header ``name`` twice
    "deadline",  # Lambda-Runtime-Deadline-Ms: ``value`` (raw text)
    "raw_status",  # replace the status line with ``value``, e.g. "HTTP/1.1 299 Odd"
)

GARBAGE = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1 not http at all \xff\xfe\r\n\r\n"


@dataclass
class Fault:
    endpoint: str
    action: str
    status: int = 500
    body: bytes = b""
    seconds: float = 0.0
    name: str | None = None
    value: str | None = None
    times: int = 1

    def __post_init__(self) -> None:
        if self.endpoint not in ENDPOINTS:
            raise ValueError("unknown endpoint %r (one of %s)" % (self.endpoint, ", ".join(ENDPOINTS)))
        if self.action not in ACTIONS:
            raise ValueError("unknown action %r (one of %s)" % (self.action, ", ".join(ACTIONS)))
        if self.action in ("omit_header", "duplicate_header") and not self.name:
            raise ValueError("%s needs name=<header name>" % self.action)
        if self.action in ("deadline", "raw_status") and self.value is None:
            raise ValueError("%s needs value=<raw text>" % self.action)
        if isinstance(self.body, str):
            self.body = self.body.encode()


class FaultBook:
    """The armed faults. ``take`` is called from the loop thread, the rest from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list = []
        self.armed = False  # cheap check for the hot path

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)
            self.armed = True

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.armed = False

    def take(self, endpoint: str, actions: tuple | None = None) -> dict:
        """Consume one firing of each matching fault: {action: Fault}."""
        chosen: dict = {}
        with self._lock:
            for fault in self._faults:
                if fault.endpoint != endpoint or fault.times <= 0 or fault.action in chosen:
                    continue
                if actions is not None and fault.action not in actions:
                    continue
                fault.times -= 1
                chosen[fault.action] = fault
            self._faults = [f for f in self._faults if f.times > 0]
            self.armed = bool(self._faults)
        return chosen

    def peek(self, endpoint: str, action: str) -> bool:
        with self._lock:
            return any(f.endpoint == endpoint and f.action == action and f.times > 0 for f in self._faults)
