"""An ``async def`` handler: one event loop for the life of the process.

State created on that loop (here a counter guarded by an asyncio.Lock, in real code an
aiohttp session or an async database pool) survives from one invocation to the next.
``fastrt.aio.run`` runs init-time coroutines on the same loop.
"""

import asyncio

import fastrt.aio


async def _connect():
    await asyncio.sleep(0)
    return {"lock": asyncio.Lock(), "calls": 0, "loop": id(asyncio.get_running_loop())}


STATE = fastrt.aio.run(_connect())  # at init, on the loop the handler will run on


async def handler(event, context):
    async with STATE["lock"]:
        STATE["calls"] += 1
        await asyncio.sleep(0)
    return {"calls": STATE["calls"], "same_loop": id(asyncio.get_running_loop()) == STATE["loop"]}
