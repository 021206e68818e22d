"""The events every runtime echoes, and the check that an answer is the echo.

Events are rendered with ``json.dumps`` defaults (``", "`` / ``": "``, ASCII only), so a runtime that
re-encodes the way awslambdaric does sends back the very same bytes; other encodings (orjson's
compact form) are accepted when they decode to the same value.
"""

from __future__ import annotations

import json

MiB = 1024 * 1024

# Size name -> exact event size in bytes (None: the small event, whatever its natural size).
SIZES: dict[str, int | None] = {"small": None, "1MiB": MiB, "5.5MiB": int(5.5 * MiB)}

SMALL_EVENT = {"key1": "value1", "key2": "value2", "key3": "value3", "requestContext": {"stage": "bench", "n": 1}}


def _record(index: int) -> dict:
    # A batch record shaped like the ones SQS/Kinesis deliver: the JSON codec works per value.
    return {"id": index, "name": "item-%06d" % index, "active": index % 2 == 0, "score": index * 0.5, "tags": ["a", "b"]}


def _sized_event(size: int) -> bytes:
    # As many records as fit (estimated from a sample, then trimmed), and a pad string that
    # makes the size exact.
    sample = 100000
    per_record = len(json.dumps([_record(i) for i in range(sample, sample + 1000)])) / 1000
    records = [_record(i) for i in range(int(size / per_record))]
    while True:
        body = json.dumps({"records": records, "pad": ""}).encode()
        if len(body) <= size:
            break
        del records[-int((len(body) - size) / per_record + 1) :]
    body = json.dumps({"records": records, "pad": "x" * (size - len(body))}).encode()
    assert len(body) == size, (len(body), size)
    return body


def make_events() -> dict[str, bytes]:
    """Size name -> event body."""
    return {
        name: json.dumps(SMALL_EVENT).encode() if size is None else _sized_event(size)
        for name, size in SIZES.items()
    }


def _loads(body: bytes):
    try:
        import orjson
    except ImportError:
        return json.loads(body)
    return orjson.loads(body)


class EchoChecker:
    """Knows each event's decoded value so answers that differ only in spacing can be compared."""

    def __init__(self, events: dict[str, bytes]) -> None:
        self._events = events
        self._values = {name: json.loads(body) for name, body in events.items()}

    def problem(self, size: str, body: bytes) -> str | None:
        """None if ``body`` is the echo of the ``size`` event, else what is wrong with it."""
        if body == self._events[size]:
            return None
        try:
            value = _loads(body)
        except ValueError:
            return "answer is not JSON: %r" % bytes(body[:80])
        if value != self._values[size]:
            return "answer differs from the event: %r" % bytes(body[:80])
        return None
