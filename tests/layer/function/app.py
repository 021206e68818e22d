"""The sample function the layer tests deploy: it reports what it sees of the runtime."""

import os
import sys


def handler(event, context):
    import fastrt
    import orjson

    return {
        "echo": event,
        "request_id": context.aws_request_id,
        "pid": os.getpid(),
        "compiled": fastrt.COMPILED,
        "fastrt_file": fastrt.__file__,
        "core_files": [sys.modules["fastrt.%s" % name].__file__ for name in fastrt.COMPILED_MODULES],
        "orjson_file": orjson.__file__,
        "sys_path": sys.path,
        "executable": sys.executable,
        "environ": {
            name: os.environ.get(name)
            for name in ("AWS_EXECUTION_ENV", "PYTHONPATH", "FASTRT_LAYER_ROOT", "LD_LIBRARY_PATH")
        },
    }
