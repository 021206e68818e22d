"""A function written against fastrt's public API, type-checked with ``mypy --strict`` by
test_public_types.py: each ``assert_type`` fails the check if a signature loses its type."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, assert_type

import fastrt
from fastrt import aio
from fastrt.context import LambdaContext
from fastrt.stream import HttpResponse


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, object]:
    assert_type(context.get_remaining_time_in_millis(), int)
    assert_type(context.w3c(), dict[str, str])
    context.log("seen")
    return {"remaining": context.get_remaining_time_in_millis()}


@fastrt.streaming
def chunks(event: dict[str, Any], context: LambdaContext) -> Iterator[bytes]:
    yield b"chunk"


@fastrt.streaming(content_type="text/plain")
def page(event: dict[str, Any], context: LambdaContext) -> HttpResponse:
    return HttpResponse(b"body", status_code=200, headers={"x-a": "b"}, cookies=["c=d"])


@fastrt.on_shutdown
def close_pools() -> None:
    pass


async def open_pool() -> list[int]:
    return [1]


# Decorated functions keep their own types: --strict reports an untyped decorator otherwise.
stream_handlers: list[Callable[[dict[str, Any], LambdaContext], object]] = [chunks, page]
assert_type(aio.run(open_pool()), list[int])
assert_type(close_pools, "Callable[[], None]")
assert_type(fastrt.COMPILED, bool)


def main() -> None:
    fastrt.serve(handler)
