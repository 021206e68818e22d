"""Lambda Managed Instances: AWS_LAMBDA_MAX_CONCURRENCY=N worker processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading

from feature_harness import EXAMPLES, invoke, wait_until
from fastrt.emulator import Fault

BARRIER_APP = """
    import os, time

    def handler(event, context):
        # A barrier across processes: each event waits until all of them are being handled,
        # which only works if they run at the same time.
        directory = event["dir"]
        open(os.path.join(directory, context.aws_request_id), "w").close()
        deadline = time.time() + 15
        while len(os.listdir(directory)) < event["n"] and time.time() < deadline:
            time.sleep(0.01)
        print("served by", os.getpid(), flush=True)
        return {"pid": os.getpid(), "all_met": len(os.listdir(directory)) >= event["n"]}
"""


def test_n_workers_serve_n_events_at_once(function, emulator, tmp_path):
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    fn = function({"app.py": BARRIER_APP}, env={"AWS_LAMBDA_MAX_CONCURRENCY": "3"})
    pending = [emulator.enqueue(json.dumps({"dir": str(barrier), "n": 3})) for _ in range(3)]
    results = [inv.result(timeout=30) for inv in pending]
    answers = [json.loads(r.body) for r in results]
    assert all(a["all_met"] for a in answers)
    assert len({a["pid"] for a in answers}) == 3
    assert fn.proc.pid not in {a["pid"] for a in answers}  # the parent only supervises
    assert len({r.conn_id for r in results}) == 3  # one keep-alive connection per worker


def test_sigterm_reaches_every_worker_and_the_parent_exits_0(function, emulator):
    app = """
        import os
        import fastrt

        fastrt.on_shutdown(lambda: print("worker %d shut down" % os.getpid(), flush=True))

        def handler(event, context):
            return os.getpid()
    """
    fn = function({"app.py": app}, env={"AWS_LAMBDA_MAX_CONCURRENCY": "2"})
    wait_until(lambda: len(emulator.api.parked) == 2, timeout=15)
    fn.signal(signal.SIGTERM)
    assert fn.wait(timeout=15) == 0
    assert fn.stdout.count("shut down") == 2


def test_init_error_is_posted_and_the_parent_still_exits_0(function, emulator):
    fn = function({"app.py": "raise ImportError('no such thing')\n"}, env={"AWS_LAMBDA_MAX_CONCURRENCY": "2"})
    assert fn.wait(timeout=20) == 0
    accepted = [e for e in emulator.init_errors if e.status == 202]
    assert len(accepted) == 1 and json.loads(accepted[0].body)["errorType"] == "Runtime.ImportModuleError"
    # the other worker's 403 is expected and not logged as a failure
    assert "Failed to post init error" not in fn.stdout


def test_a_refused_response_does_not_end_the_worker(function, emulator):
    fn = function({"app.py": "def handler(event, context):\n    return event\n"}, env={"AWS_LAMBDA_MAX_CONCURRENCY": "1"})
    emulator.wait_for_next()
    emulator.add_fault(Fault("response", "status", status=500, body=b'{"errorType": "Boom"}'))
    emulator.enqueue(b'{"first": 1}')
    wait_until(lambda: "This won't kill the Runtime loop" in fn.stdout + fn.stderr, timeout=15)
    assert json.loads(invoke(emulator, {"second": 2}).body) == {"second": 2}


def test_next_is_retried_with_backoff(function, emulator):
    emulator.add_fault(Fault("next", "status", status=500, times=2))
    fn = function({"app.py": "def handler(event, context):\n    return 'ok'\n"}, env={"AWS_LAMBDA_MAX_CONCURRENCY": "1"})
    assert json.loads(invoke(emulator, {}).body) == "ok"
    assert "Initial runtime_client.next() failed: Failed to get next" in fn.stdout + fn.stderr


def test_workers_write_to_the_log_socket(function, emulator, tmp_path):
    path = str(tmp_path / "logs.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    received = []

    def collect():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=lambda c=conn: [received.append(d) for d in iter(lambda: c.recv(4096), b"")], daemon=True).start()

    threading.Thread(target=collect, daemon=True).start()
    try:
        app = "import sys\ndef handler(event, context):\n    print('to stdout'); print('to stderr', file=sys.stderr)\n    return 1\n"
        fn = function({"app.py": app}, env={"AWS_LAMBDA_MAX_CONCURRENCY": "1", "_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET": path})
        assert invoke(emulator, {}).body == b"1"
        wait_until(lambda: b"to stdout" in b"".join(received) and b"to stderr" in b"".join(received))
        assert "to stdout" not in fn.stdout
    finally:
        server.close()


def test_example(function, emulator):
    with open(os.path.join(EXAMPLES, "managed_instances", "app.py")) as f:
        function({"app.py": f.read()}, env={"AWS_LAMBDA_MAX_CONCURRENCY": "2"})
    answer = json.loads(invoke(emulator, {}).body)
    assert answer["request_id"] and answer["worker_pid"] > 0
