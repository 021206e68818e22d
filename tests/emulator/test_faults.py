"""Every injected fault, seen from a raw client; and the exactly-once guarantees around them."""

import socket
import time

import pytest

from emulator_harness import API, RawClient, header, until

from fastrt.emulator import Fault


def test_fault_validation():
    with pytest.raises(ValueError):
        Fault("nowhere", "status")
    with pytest.raises(ValueError):
        Fault("next", "explode")
    with pytest.raises(ValueError):
        Fault("next", "omit_header")
    with pytest.raises(ValueError):
        Fault("next", "raw_status")


@pytest.mark.parametrize("action", ["drop_before_answer", "drop_mid_headers", "drop_mid_body", "garbage"])
def test_dropped_next_keeps_the_event_queued_and_serves_it_once(emulator, client, action):
    emulator.add_fault(Fault("next", action))
    inv = emulator.enqueue(b'{"payload":"0123456789"}')
    raw = client()
    raw.request("GET", API + "next")
    received = b""
    while True:
        try:
            chunk = raw.sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        received += chunk
    if action == "drop_mid_headers":
        assert received and b"\r\n\r\n" not in received
    elif action == "drop_mid_body":
        assert received.endswith(b'\r\n\r\n{"payload":"') and b"Content-Length: 24" in received
    elif action == "garbage":
        assert received and not received.startswith(b"HTTP/")
    else:
        assert received == b""
    until(lambda: inv.state == "queued")  # put back by the loop right after it closed
    assert inv.dispatch_count == 0
    retry = client()
    _, headers, body = retry.next()
    assert header(headers, "Lambda-Runtime-Aws-Request-Id") == inv.request_id and body == b'{"payload":"0123456789"}'
    assert retry.post(inv.request_id)[0] == 202
    assert inv.dispatch_count == 1 and len(inv.results) == 1


def test_status_on_next_keeps_the_event_and_the_connection(emulator, client):
    emulator.add_fault(Fault("next", "status", status=500, body=b'{"errorType":"Boom"}'))
    inv = emulator.enqueue(b"{}")
    raw = client()
    status, _, body = raw.next()
    assert status == 500 and body == b'{"errorType":"Boom"}'
    status, headers, _ = raw.next()  # same keep-alive connection
    assert status == 200 and header(headers, "Lambda-Runtime-Aws-Request-Id") == inv.request_id


def test_delay_and_times(emulator, client):
    emulator.add_fault(Fault("next", "delay", seconds=0.3, times=2))
    raw = client()
    for _ in range(3):
        emulator.enqueue(b"{}")
    started = time.monotonic()
    raw.next()
    raw.next()
    raw.next()
    assert time.monotonic() - started >= 0.6


def test_chunked_and_byte_by_byte_next(emulator, client):
    emulator.add_fault(Fault("next", "chunked"))
    emulator.add_fault(Fault("next", "byte_by_byte", seconds=0.0005))
    inv = emulator.enqueue(b'{"chunked":"yes, please"}')
    raw = client()
    raw.request("GET", API + "next")
    first = raw.sock.recv(65536)
    assert len(first) < 10  # dribbled
    raw.buf = first
    status, headers, body = raw.read_answer()
    assert header(headers, "Transfer-Encoding") == "chunked" and header(headers, "Content-Length") is None
    assert body == b'{"chunked":"yes, please"}'
    assert raw.post(inv.request_id)[0] == 202


def test_header_shaping_faults(emulator, client):
    emulator.add_fault(Fault("next", "omit_header", name="Lambda-Runtime-Aws-Request-Id"))
    emulator.add_fault(Fault("next", "duplicate_header", name="Lambda-Runtime-Trace-Id"))
    emulator.add_fault(Fault("next", "deadline", value="soon"))
    emulator.add_fault(Fault("next", "raw_status", value="HTTP/1.1 299 Odd"))
    emulator.enqueue(b"{}", trace_id="Root=1")
    raw = client()
    raw.request("GET", API + "next")
    head = raw._until(b"\r\n\r\n").decode()
    assert head.startswith("HTTP/1.1 299 Odd\r\n")
    assert "Lambda-Runtime-Aws-Request-Id" not in head
    assert head.count("Lambda-Runtime-Trace-Id: Root=1") == 2
    assert "Lambda-Runtime-Deadline-Ms: soon" in head


@pytest.mark.parametrize("status", [413, 500, 400, 403])
def test_status_fault_on_response_leaves_the_invocation_open(emulator, client, status):
    emulator.add_fault(Fault("response", "status", status=status, body=b"{}"))
    inv = emulator.enqueue(b"{}")
    raw = client()
    raw.next()
    assert raw.post(inv.request_id, body=b"first")[0] == status
    assert inv.result(5).status == status and inv.state == "in_flight"
    assert raw.post(inv.request_id, body=b"second")[0] == 202
    assert inv.result().body == b"second"


def test_status_fault_on_error_and_init_error(emulator, client):
    emulator.add_fault(Fault("error", "status", status=500))
    emulator.add_fault(Fault("init_error", "raw_status", value="HTTP/1.1 202 Fine"))
    raw = client()
    raw.request("POST", "/2018-06-01/runtime/init/error", b"{}")
    status_line = raw._until(b"\r\n")
    assert status_line == b"HTTP/1.1 202 Fine"
    inv = emulator.enqueue(b"{}")
    other = client()
    other.next()
    assert other.post(inv.request_id, kind="error")[0] == 500
    assert inv.state == "in_flight"


@pytest.mark.parametrize("action", ["drop_before_answer", "drop_mid_headers", "garbage"])
def test_dropped_response_answer_leaves_the_invocation_open(emulator, client, action):
    emulator.add_fault(Fault("response", action))
    inv = emulator.enqueue(b"{}")
    raw = client()
    raw.next()
    raw.request("POST", API + inv.request_id + "/response", b"lost")
    while raw.sock.recv(65536):
        pass
    assert not inv.results and inv.state == "in_flight"
    retry = client()
    assert retry.post(inv.request_id, body=b"again")[0] == 202
    assert inv.result(5).body == b"again"
    assert [r.path.rsplit("/", 1)[-1] for r in emulator.requests].count("response") == 2


def test_drop_mid_request_closes_while_the_body_uploads(emulator, client):
    emulator.add_fault(Fault("response", "drop_mid_request"))
    inv = emulator.enqueue(b"{}")
    raw = client()
    raw.next()
    raw.send(("POST %s%s/response HTTP/1.1\r\nHost: e\r\nContent-Length: 1000\r\n\r\n" % (API, inv.request_id)).encode())
    assert raw.closed()
    assert not inv.results and inv.state == "in_flight"
    assert emulator.requests[-1].body == b"" and emulator.requests[-1].method == "POST"


def test_clear_faults(emulator, client):
    emulator.add_fault(Fault("next", "status", status=500, times=5))
    emulator.clear_faults()
    emulator.enqueue(b"{}")
    assert client().next()[0] == 200


def test_expect_100_continue_is_honoured(emulator):
    inv = emulator.enqueue(b"{}")
    raw = RawClient(emulator.port)
    raw.next()
    raw.send(
        ("POST %s%s/response HTTP/1.1\r\nHost: e\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n" % (API, inv.request_id)).encode()
    )
    assert raw._until(b"\r\n\r\n") == b"HTTP/1.1 100 Continue"
    raw.send(b"body")
    assert raw.read_answer()[0] == 202
    raw.close()


def test_pipelined_requests_behind_a_parked_next_wait_their_turn(emulator):
    raw = socket.create_connection(("127.0.0.1", emulator.port))
    raw.sendall(
        b"GET " + API.encode() + b"next HTTP/1.1\r\nHost: e\r\n\r\n"
        b"GET /2018-06-01/runtime/unknown HTTP/1.1\r\nHost: e\r\n\r\n"
    )
    emulator.wait_for_next(5)
    raw.settimeout(0.2)
    with pytest.raises(socket.timeout):
        raw.recv(65536)  # the 404 must not overtake the /next answer
    emulator.enqueue(b"{}")
    raw.settimeout(5)
    data = b""
    while data.count(b"HTTP/1.1") < 2:
        data += raw.recv(65536)
    assert data.index(b"HTTP/1.1 200") < data.index(b"HTTP/1.1 404")
    raw.close()
