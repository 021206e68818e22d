"""The Python floor (issue 2): the floor plus an orjson decode and encode of every event.

This is the least a Python runtime that hands the handler a decoded event can do.
"""

import orjson

from floor import serve

if __name__ == "__main__":
    serve(lambda body: orjson.dumps(orjson.loads(body)))
