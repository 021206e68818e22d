"""``async def`` handlers end to end: one event loop for the life of the process."""

from __future__ import annotations

import json
import os

import pytest
from feature_harness import EXAMPLES, invoke

APP = """
    import asyncio

    STATE = {"loop": None, "calls": 0, "queue": None}

    async def handler(event, context):
        loop = asyncio.get_running_loop()
        if STATE["loop"] is None:
            STATE["loop"] = loop
            STATE["queue"] = asyncio.Queue()  # bound to this loop: reused below
        STATE["calls"] += 1
        await STATE["queue"].put(STATE["calls"])
        got = await STATE["queue"].get()
        await asyncio.sleep(0.001)
        return {"same_loop": loop is STATE["loop"], "calls": got, "request": context.aws_request_id,
                "loop_type": type(loop).__module__}

    async def fails(event, context):
        await asyncio.sleep(0)
        raise RuntimeError("async failure")

    class Service:
        async def __call__(self, event, context):
            return "callable object"

    service = Service()
"""


def test_async_handler_keeps_one_loop_between_invocations(function, emulator):
    function({"app.py": APP})
    first = json.loads(invoke(emulator, {}).body)
    second = json.loads(invoke(emulator, {}).body)
    assert first["same_loop"] and second["same_loop"]
    assert (first["calls"], second["calls"]) == (1, 2)
    assert second["request"] != first["request"]


def test_async_handler_exception_is_reported_with_its_type(function, emulator):
    function({"app.py": APP}, handler="app.fails")
    error = json.loads(invoke(emulator, {}).body)
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "async failure"
    assert any("raise RuntimeError" in frame for frame in error["stackTrace"])


def test_async_callable_object(function, emulator):
    function({"app.py": APP}, handler="app.service")
    assert json.loads(invoke(emulator, {}).body) == "callable object"


def test_uvloop_is_used_when_installed(function, emulator):
    pytest.importorskip("uvloop")  # in requirements-dev.txt
    function({"app.py": APP})
    assert json.loads(invoke(emulator, {}).body)["loop_type"].startswith("uvloop")


def test_asyncio_loop_is_used_without_uvloop(function, emulator):
    # The task root comes first on sys.path: this uvloop shadows any installed one.
    function({"app.py": APP, "uvloop.py": "raise ImportError('no uvloop here')\n"})
    first = json.loads(invoke(emulator, {}).body)
    second = json.loads(invoke(emulator, {}).body)
    assert first["loop_type"] == "asyncio.unix_events"
    assert (first["same_loop"], second["same_loop"], second["calls"]) == (True, True, 2)


def test_example_init_time_state_lives_on_the_handlers_loop(function, emulator):
    with open(os.path.join(EXAMPLES, "async_handler", "app.py")) as f:
        function({"app.py": f.read()})
    assert json.loads(invoke(emulator, {}).body) == {"calls": 1, "same_loop": True}
    assert json.loads(invoke(emulator, {}).body) == {"calls": 2, "same_loop": True}
