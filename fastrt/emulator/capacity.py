"""How many invocations per second the emulator itself can serve.

The client is a raw-socket loop in its own process (so it runs on the other core and does not
compete for this process's GIL): strict request/answer like a real runtime — ``GET /next``,
read the event, ``POST /response``, read the 202 — over one keep-alive connection. The
figure is measured on the server side: from the first event dispatched to the last post read.
"""

from __future__ import annotations

import subprocess
import sys
import time

# Parses only what it must (head end, Content-Length, request id): a few microseconds per call.
CLIENT = r"""
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: emu\r\n\r\n"
POST = b"POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: emu\r\nContent-Length: 2\r\n\r\n{}"
recv = s.recv
buf = b""
def answer():
    global buf
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[: end + 2]
            at = head.find(b"Content-Length: ")
            length = int(head[at + 16 : head.find(b"\r\n", at)])
            total = end + 4 + length
            if len(buf) >= total:
                out, buf = head, buf[total:]
                return out
        buf += recv(65536)
for _ in range(n):
    s.sendall(NEXT)
    head = answer()
    at = head.find(b"Lambda-Runtime-Aws-Request-Id: ") + 31
    s.sendall(POST % head[at : head.find(b"\r\n", at)])
    answer()
"""


def measure(emulator, n: int = 20000) -> float:
    """Serve ``n`` invocations to the raw client on a private emulator configured like ``emulator``."""
    from fastrt.emulator.emulator import Emulator

    private = Emulator(
        function_name=emulator.function_name,
        timeout=emulator.timeout,
        region=emulator.region,
        host=emulator.host,
        record_requests=emulator.record_requests,
    )
    with private:
        invocations = private.enqueue_many([b'{"k":1}'] * n)
        client = subprocess.Popen([sys.executable, "-c", CLIENT, private.host, str(private.port), str(n)])
        last = invocations[-1]
        try:
            while not last.done():
                if client.poll() is not None and not last.done():
                    raise RuntimeError("capacity client exited with %s before the last post" % client.returncode)
                time.sleep(0.01)
        finally:
            client.wait(30)
        first = invocations[0]
        last = last.result(0)
        return n / (last.completed_at - first.dispatched_at)
