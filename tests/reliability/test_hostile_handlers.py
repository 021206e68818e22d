"""Handlers that try to break the runtime from the inside (extends tests/runtime's
test_hostile_handlers_do_not_stop_the_loop).

Each case runs under fastrt and, side by side, under awslambdaric. fastrt must answer the
event (a response or an error, once) and serve the next one. Where awslambdaric survives too,
fastrt answers the same: same kind, errorType and errorMessage. Where the reference dies, the
test says so and only fastrt's survival is required.
"""

from __future__ import annotations

import json

import pytest

from runtime_harness import both, error_json

HOSTILE = r'''
import os, signal, sys, threading, time

class StrRaises(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")

class ReprRaises(Exception):
    def __repr__(self):
        raise RuntimeError("no repr for you")

class BothRaise(Exception):
    def __str__(self):
        raise RuntimeError("no str")
    def __repr__(self):
        raise RuntimeError("no repr")

class NameRaises(Exception):
    pass

ticks = []

def handler(event, context):
    kind = event["kind"]
    if kind == "fine":
        return {"ok": len(ticks) >= 0}
    if kind == "str_raises":
        raise StrRaises("hidden")
    if kind == "repr_raises":
        raise ReprRaises("shown")
    if kind == "both_raise":
        raise BothRaise()
    if kind == "recursion":
        def f(n):
            return f(n + 1)
        return f(0)
    if kind == "surrogate_message":
        raise ValueError(b"bad \xff\xfe bytes".decode("utf-8", "surrogateescape"))
    if kind == "bytes_message":
        raise ValueError(b"\xff\xfe raw")
    if kind == "surrogate_result":
        return {"s": b"\xff".decode("utf-8", "surrogateescape")}
    if kind == "print_megabytes":
        sys.stdout.write("x" * 5_000_000)
        sys.stderr.write("y" * 2_000_000)
        return "printed"
    if kind == "close_stdout":
        sys.stdout.close()
        return "closed"
    if kind == "close_stdout_then_raise":
        sys.stdout.close()
        raise ValueError("after close")
    if kind == "replace_stdout":
        class Broken:
            def write(self, text):
                raise OSError("no writes")
            def flush(self):
                raise OSError("no flush")
        sys.stdout = Broken()
        sys.stderr = Broken()
        raise ValueError("with broken streams")
    if kind == "close_fd1":
        os.close(1)
        raise ValueError("fd 1 gone")
    if kind == "chatty_thread":
        def chatter():
            while True:
                print("tick", flush=True)
                time.sleep(0.001)
        threading.Thread(target=chatter, daemon=True).start()
        return "thread"
    if kind == "busy_thread":
        def spin():
            while True:
                sum(range(1000))
        threading.Thread(target=spin, daemon=True).start()
        return "spinning"
    if kind == "timer_signal":
        signal.signal(signal.SIGALRM, lambda *args: ticks.append(1))
        signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)  # EINTR storm on every syscall
        return "timer"
    if kind == "ignore_term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        return "signals"
    if kind == "exit_in_thread":
        t = threading.Thread(target=sys.exit, args=(3,))
        t.start()
        t.join()
        return "thread exited"
    raise AssertionError(kind)
'''

# kind -> what fastrt must answer: ("response", value) or ("error", errorType or None)
CASES = {
    "str_raises": ("error", "StrRaises"),
    "repr_raises": ("error", "ReprRaises"),
    "both_raise": ("error", "BothRaise"),
    "recursion": ("error", "RecursionError"),
    "surrogate_message": ("error", "ValueError"),
    "bytes_message": ("error", "ValueError"),
    "surrogate_result": (None, None),  # response or Runtime.MarshalError: same as the reference
    "print_megabytes": ("response", "printed"),
    "close_stdout": ("response", "closed"),
    "close_stdout_then_raise": ("error", "ValueError"),
    "replace_stdout": ("error", "ValueError"),
    "close_fd1": ("error", "ValueError"),
    "chatty_thread": ("response", "thread"),
    "busy_thread": ("response", "spinning"),
    "timer_signal": ("response", "timer"),
    "ignore_term": ("response", "signals"),
    "exit_in_thread": ("response", "thread exited"),
}


def _answer(fn, kind: str, timeout: float = 20.0):
    """The runtime's accepted answer, or None once the process died (or after ``timeout``)."""
    inv = fn.emu.enqueue(json.dumps({"kind": kind}).encode())
    waited = 0.0
    while waited < timeout:
        try:
            return inv.wait_accepted(timeout=0.1)
        except TimeoutError:
            waited += 0.1
            if fn.proc.poll() is not None:
                return None
    return None


# Under python3.12+ (AWS_EXECUTION_ENV) the reference writes raw UTF-8 and polls /next from a
# thread: the cases where that matters run in both environments.
ENV_SENSITIVE = ("surrogate_message", "surrogate_result", "str_raises", "timer_signal")
PARAMS = [(kind, None) for kind in sorted(CASES)] + [(kind, "AWS_Lambda_python3.12") for kind in ENV_SENSITIVE]


@pytest.mark.parametrize("kind,execution_env", PARAMS)
def test_hostile_handler_is_answered_and_the_loop_goes_on(serve, kind, execution_env):
    fns = both(serve, HOSTILE, env={"AWS_EXECUTION_ENV": execution_env})
    ours = _answer(fns["fastrt"], kind)
    assert ours is not None, "fastrt did not answer %s: %s" % (kind, fns["fastrt"].stdout[-2000:])
    inv_results = [r for r in fns["fastrt"].emu.api.invocations.values() if r.results]
    assert all(sum(1 for r in inv.results if r.accepted) == 1 for inv in inv_results)
    expected_kind, expected = CASES[kind]
    if expected_kind == "response":
        assert ours.kind == "response", ours.body[:500]
        assert json.loads(ours.body) == expected
    elif expected_kind == "error":
        body = error_json(ours)
        assert body["errorType"] == expected
        assert isinstance(body["errorMessage"], str) and isinstance(body["stackTrace"], list)
    # And the same process serves the next event.
    after = _answer(fns["fastrt"], "fine")
    assert after is not None and json.loads(after.body) == {"ok": True}
    assert fns["fastrt"].proc.poll() is None

    ref = _answer(fns["awslambdaric"], kind)
    if ref is None:
        return  # the reference died on this one (or never answered): surviving is the improvement
    assert ours.kind == ref.kind, (ours.body[:300], ref.body[:300])
    if ref.kind == "error":
        ours_error, ref_error = error_json(ours), error_json(ref)
        assert ours_error["errorType"] == ref_error["errorType"]
        assert ours_error["errorMessage"] == ref_error["errorMessage"]
    else:
        assert json.loads(ours.body) == json.loads(ref.body)
