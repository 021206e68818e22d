"""Decode+encode cost per event: fastrt fast path, fastrt reference path, awslambdaric.

Run: .venv/bin/python tests/marshal/bench_marshal.py   (prints µs per decode+encode round)
"""

from __future__ import annotations

import decimal
import json
import os
import sys
import timeit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from marshal_helpers import reference_marshaller  # noqa: E402
from fastrt.marshal import Marshaller  # noqa: E402

SMALL = json.dumps({"key1": "value1", "key2": "value2", "key3": "value3", "n": 12, "ok": True}).encode()
LARGE = json.dumps(
    [{"id": i, "name": "user%d" % i, "tags": ["a", "b"], "score": i * 1.5, "active": i % 2 == 0, "note": None}
     for i in range(11000)]
).encode()
DYNAMO = [{"id": decimal.Decimal(i), "price": decimal.Decimal("19.99"), "name": "item"} for i in range(200)]


def per_call(function, budget=0.5) -> float:
    number = max(1, int(budget / max(min(timeit.repeat(function, number=1, repeat=3)), 1e-7)))
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def main() -> None:
    fast = Marshaller(True)
    fast.enable_fast_path()
    slow = Marshaller(True)
    reference = reference_marshaller(True)
    print("payload sizes: small %d B, large %d B" % (len(SMALL), len(LARGE)))
    for label, body in (("small", SMALL), ("large", LARGE)):
        event = json.loads(body)
        rows = {
            "fastrt fast path": lambda: fast.encode(fast.decode(body, "application/json")),
            "fastrt reference path": lambda: slow.encode(slow.decode(body, "application/json")),
            "awslambdaric": lambda: reference.marshal_response(reference.unmarshal_request(body, "application/json")),
            "orjson alone": lambda: fast._dumps(fast._loads(body)),
        }
        for name, function in rows.items():
            print("%-6s decode+encode %-22s %10.2f us" % (label, name, per_call(function)))
        print("%-6s encode only   %-22s %10.2f us" % (label, "fastrt fast path", per_call(lambda: fast.encode(event))))
        print("%-6s decode only   %-22s %10.2f us" % (label, "fastrt fast path", per_call(lambda: fast.decode(body, "application/json"))))
    for name, marshaller in (("fast path", fast), ("reference path", slow)):
        print("decimals encode fastrt %-15s %10.2f us" % (name, per_call(lambda: marshaller.encode(DYNAMO))))
    print("decimals encode awslambdaric           %10.2f us" % per_call(lambda: reference.marshal_response(DYNAMO)))


if __name__ == "__main__":
    main()
