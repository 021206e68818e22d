"""A small single-threaded epoll loop for the Runtime API side.

Why not asyncio: on the bench path every invocation is two tiny request/answer exchanges, and
asyncio's per-event machinery (handles, ready queue, transports) measured about twice the cost
of a plain epoll loop per exchange on this machine. This loop offers just what the Runtime API
needs, with asyncio-like names so protocol code reads the same: ``call_soon_threadsafe``,
``call_later``, and transports with ``write``/``close``/``is_closing``.
"""

from __future__ import annotations

import heapq
import os
import select
import socket
import sys
import threading
import time
import traceback
from collections import deque

_IN = select.EPOLLIN | select.EPOLLRDHUP
_OUT = select.EPOLLOUT
_RECV_SIZE = 256 * 1024


class Timer:
    __slots__ = ("when", "fn", "args", "cancelled")

    def __init__(self, when: float, fn, args: tuple) -> None:
        self.when = when
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: "Timer") -> bool:
        return self.when < other.when


class Stream:
    """A non-blocking TCP connection; the protocol sees asyncio-transport-like methods."""

    __slots__ = ("reactor", "sock", "fd", "protocol", "_out", "_closing", "_closed")

    def __init__(self, reactor: "Reactor", sock: socket.socket, protocol) -> None:
        self.reactor = reactor
        self.sock = sock
        self.fd = sock.fileno()
        self.protocol = protocol
        self._out: bytearray | None = None
        self._closing = False
        self._closed = False

    def write(self, data: bytes) -> None:
        if self._closing:
            return
        if self._out is not None:
            self._out += data
            return
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._finish()
            return
        if sent < len(data):
            self._out = bytearray(data[sent:])
            self.reactor._epoll.modify(self.fd, _IN | _OUT)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Close once everything written so far has been sent."""
        if self._closing:
            return
        self._closing = True
        if self._out is None:
            self._finish()

    def get_extra_info(self, name: str):
        return self.sock if name == "socket" else None

    def on_event(self, events: int) -> None:
        if events & _OUT and self._out is not None:
            try:
                sent = self.sock.send(self._out)
            except BlockingIOError:
                sent = 0
            except OSError:
                self._finish()
                return
            del self._out[:sent]
            if not self._out:
                self._out = None
                if self._closing:
                    self._finish()
                    return
                self.reactor._epoll.modify(self.fd, _IN)
        if events & ~_OUT:
            try:
                data = self.sock.recv(_RECV_SIZE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._finish()
            elif not self._closing:
                self.protocol.data_received(data)

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = self._closing = True
        self.reactor._forget(self.fd)
        try:
            self.sock.close()
        finally:
            self.protocol.connection_lost(None)


class Listener:
    __slots__ = ("reactor", "sock", "factory")

    def __init__(self, reactor: "Reactor", sock: socket.socket, factory) -> None:
        self.reactor = reactor
        self.sock = sock
        self.factory = factory

    def on_event(self, events: int) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            protocol = self.factory()
            stream = Stream(self.reactor, conn, protocol)
            self.reactor._watch(stream.fd, stream, _IN)
            protocol.connection_made(stream)

    def close(self) -> None:
        self.reactor._forget(self.sock.fileno())
        self.sock.close()


class Reactor:
    """The loop. Run it with :meth:`run_in_thread`; everything else happens in that thread
    except ``call_soon_threadsafe``/``call``, which any thread may use."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._handlers: dict = {}
        self._timers: list = []
        self._calls: deque = deque()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._epoll.register(self._wake_r, select.EPOLLIN)
        self._sleeping = False
        self._wake_lock = threading.Lock()
        self._stopping = False
        self._closed = False
        self.thread: threading.Thread | None = None

    # --- registration (loop thread) ---
    def _watch(self, fd: int, handler, events: int) -> None:
        self._handlers[fd] = handler
        self._epoll.register(fd, events)

    def _forget(self, fd: int) -> None:
        if self._handlers.pop(fd, None) is not None:
            try:
                self._epoll.unregister(fd)
            except (OSError, ValueError):
                pass

    def listen(self, host: str, port: int, factory) -> Listener:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
        listener = Listener(self, sock, factory)
        self._watch(sock.fileno(), listener, select.EPOLLIN)
        return listener

    # --- scheduling ---
    def call_later(self, delay: float, fn, *args) -> Timer:
        timer = Timer(time.monotonic() + delay, fn, args)
        heapq.heappush(self._timers, timer)
        return timer

    def call_soon_threadsafe(self, fn, *args) -> None:
        self._calls.append((fn, args))
        if self._sleeping:
            # The lock keeps the loop thread from closing the pipe between the check and the
            # write (it can wake, run this very call, stop and shut down in that window).
            with self._wake_lock:
                if self._closed:
                    return
                try:
                    os.write(self._wake_w, b"\0")
                except BlockingIOError:
                    pass  # the pipe is full, so the loop is awake anyway

    def call(self, fn, *args, timeout: float = 10.0):
        """Run ``fn(*args)`` in the loop thread and return its result."""
        if threading.current_thread() is self.thread:
            return fn(*args)
        done = threading.Event()
        outcome: list = []

        def run() -> None:
            try:
                outcome.append((True, fn(*args)))
            except BaseException as error:
                outcome.append((False, error))
            done.set()

        self.call_soon_threadsafe(run)
        if not done.wait(timeout):
            raise TimeoutError("emulator loop did not answer within %.1f s" % timeout)
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    def is_closed(self) -> bool:
        return self._closed

    # --- running ---
    def run_in_thread(self, name: str = "fastrt-emulator") -> None:
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.call_soon_threadsafe(self._request_stop)
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def _request_stop(self) -> None:
        self._stopping = True

    def _run(self) -> None:
        epoll = self._epoll
        handlers = self._handlers
        timers = self._timers
        calls = self._calls
        wake_r = self._wake_r
        while not self._stopping:
            if calls:
                timeout = 0
            elif timers:
                timeout = max(0.0, timers[0].when - time.monotonic())
            else:
                timeout = -1
            # _sleeping tells call_soon_threadsafe to write the wake-up byte; the calls queue is
            # checked again after setting it so that an append just before is not missed.
            self._sleeping = True
            if calls:
                timeout = 0
            try:
                events = epoll.poll(timeout)
            finally:
                self._sleeping = False
            for fd, mask in events:
                if fd == wake_r:
                    try:
                        os.read(wake_r, 4096)
                    except BlockingIOError:
                        pass
                    continue
                handler = handlers.get(fd)
                if handler is None:
                    continue
                try:
                    handler.on_event(mask)
                except Exception:
                    self._report(handler)
            if timers:
                now = time.monotonic()
                while timers and timers[0].when <= now:
                    timer = heapq.heappop(timers)
                    if not timer.cancelled:
                        self._guarded(timer.fn, timer.args)
            while calls:
                fn, args = calls.popleft()
                self._guarded(fn, args)
        self._shutdown()

    def _guarded(self, fn, args) -> None:
        try:
            fn(*args)
        except Exception:
            traceback.print_exc(file=sys.stderr)

    def _report(self, handler) -> None:
        traceback.print_exc(file=sys.stderr)
        if isinstance(handler, Stream):
            handler._finish()

    def _shutdown(self) -> None:
        for handler in list(self._handlers.values()):
            if isinstance(handler, Stream):
                handler._finish()
            else:
                handler.close()
        self._epoll.close()
        with self._wake_lock:
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._closed = True
