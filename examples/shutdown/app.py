"""Graceful shutdown: hooks that run when Lambda stops the execution environment.

Registering the first hook also registers a no-op internal extension, without which
Lambda would not send SIGTERM. Hooks have about 500 ms.
"""

import fastrt

CONNECTIONS = {"open": True}


@fastrt.on_shutdown
def close_connections():
    CONNECTIONS["open"] = False
    print("shutdown: connections closed", flush=True)


def handler(event, context):
    return {"open": CONNECTIONS["open"]}
