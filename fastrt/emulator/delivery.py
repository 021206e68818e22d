"""Writing an answer, honestly or with an injected delivery fault (delay, dribble, drop, garbage)."""

from __future__ import annotations

from typing import Callable

from fastrt.emulator.faults import GARBAGE

DROPS = ("drop_before_answer", "drop_mid_headers", "drop_mid_body", "garbage")


def deliver(
    loop,
    transport,
    data: bytes,
    faults: dict,
    done: Callable[[bool], None],
) -> None:
    """Write ``data`` to ``transport`` as ``faults`` dictate, then call ``done(delivered)``.

    ``loop`` needs ``call_later``; ``transport`` needs ``write``, ``close``, ``is_closing``.

    ``delivered`` is False when the answer was not (completely) written: the connection was
    dropped on purpose or was already gone."""
    delay = faults.get("delay")
    if delay is not None and delay.seconds > 0:
        loop.call_later(delay.seconds, _write, loop, transport, data, faults, done)
    else:
        _write(loop, transport, data, faults, done)


def _write(loop, transport, data, faults, done) -> None:
    if transport.is_closing():
        done(False)
        return
    if "drop_before_answer" in faults:
        transport.close()
        done(False)
        return
    if "garbage" in faults:
        transport.write(GARBAGE)
        transport.close()
        done(False)
        return
    head_end = data.find(b"\r\n\r\n") + 4
    if "drop_mid_headers" in faults:
        transport.write(data[: max(1, head_end // 2)])
        transport.close()
        done(False)
        return
    if "drop_mid_body" in faults:
        body_len = len(data) - head_end
        transport.write(data[: head_end + max(1, body_len // 2)] if body_len > 1 else data[:head_end])
        transport.close()
        done(False)
        return
    dribble = faults.get("byte_by_byte")
    if dribble is not None:
        _dribble(loop, transport, data, 0, dribble.seconds or 0.001, done)
        return
    transport.write(data)
    done(True)


def _dribble(loop, transport, data: bytes, index: int, interval: float, done) -> None:
    """One byte now, the rest later, so the runtime's reads really see one byte at a time."""
    if transport.is_closing():
        done(False)
        return
    transport.write(data[index : index + 1])
    if index + 1 >= len(data):
        done(True)
        return
    loop.call_later(interval, _dribble, loop, transport, data, index + 1, interval, done)
