"""Prints the costs behind fastrt.logs' and fastrt.context's design (not a test; no asserts).

    .venv/bin/python tests/logs/measure.py

Each figure is the best of several repeats of CPU time (process_time, so other processes
on a busy machine disturb it less), taken in fresh interpreters where start-up state
matters. Compare figures within one run.
"""

from __future__ import annotations

import os
import subprocess
import sys

_PRINT = r"""
import os, sys, time, timeit
mode = sys.argv[1]
if mode == "awslambdaric":
    from awslambdaric.bootstrap import Unbuffered
    sys.stdout = Unbuffered(sys.stdout)
elif mode == "fastrt":
    from fastrt.start import Config
    from fastrt import logs
    logs.setup(Config.from_environ(os.environ))
n = 50000
best = min(timeit.repeat('print("hello world")', number=n, repeat=7, timer=time.process_time)) / n
os.write(2, b"%.0f" % (best * 1e9))
"""

_SETUP = r"""
import os, sys, time
mode = sys.argv[1]
start = time.process_time()
if mode == "fastrt":
    from fastrt.start import Config
    from fastrt import logs
    logs.setup(Config.from_environ(os.environ))
set_up = time.process_time()
import logging
logging.getLogger()
os.write(2, b"%.2f %.2f" % ((set_up - start) * 1e3, (time.process_time() - set_up) * 1e3))
"""

_CONTEXT = r"""
import os, sys, time, timeit
os.environ.update({"AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn", "AWS_LAMBDA_LOG_STREAM_NAME": "s",
                   "AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
                   "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST"})
from fastrt.start import Config
from fastrt.context import ContextFactory
from awslambdaric import bootstrap
make = ContextFactory(Config.from_environ(os.environ)).make
create = bootstrap.create_lambda_context
cc = '{"custom": {"a": 1}, "client": {"installation_id": "x"}}'
ci = '{"cognitoIdentityId": "i", "cognitoIdentityPoolId": "p"}'
def best(stmt, n):
    return min(timeit.repeat(stmt, number=n, repeat=9, timer=time.process_time)) / n * 1e9
empty = best(lambda: None, 200000)
print("  fastrt ContextFactory.make, no headers      %6.0f ns" % (best(lambda: make("r", 1, "arn", None, None, None), 200000) - empty))
print("  awslambdaric create_lambda_context, none    %6.0f ns" % (best(lambda: create(None, None, 1, "r", "arn", None), 50000) - empty))
print("  fastrt ContextFactory.make, both headers    %6.0f ns" % (best(lambda: make("r", 1, "arn", cc, ci, None), 50000) - empty))
print("  awslambdaric create_lambda_context, both    %6.0f ns" % (best(lambda: create(cc, ci, 1, "r", "arn", None), 50000) - empty))
"""


def _child(code: str, mode: str, stdout) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    result = subprocess.run(
        [sys.executable, "-c", code, mode], env=env, stdout=stdout, stderr=subprocess.PIPE, check=True, timeout=300
    )
    return result.stderr.decode()


def main() -> None:
    print("print('hello world'), ns per call (stdout to a pipe / to /dev/null):")
    for mode in ("unwrapped", "awslambdaric", "fastrt"):
        reader = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        to_pipe = _child(_PRINT, mode, reader.stdin)
        reader.stdin.close()
        reader.wait()
        with open(os.devnull, "w") as devnull:
            to_null = _child(_PRINT, mode, devnull)
        print("  %-12s %6s / %6s" % (mode, to_pipe, to_null))
    print("fastrt.logs import + setup(), then the first `import logging`, ms (best of 7 fresh processes):")
    for mode in ("bare", "fastrt"):
        runs = [tuple(map(float, _child(_SETUP, mode, subprocess.DEVNULL).split())) for _ in range(7)]
        label = "no set-up" if mode == "bare" else "fastrt"
        print("  %-12s set-up %.2f, import logging after %.2f" % (label, min(r[0] for r in runs), min(r[1] for r in runs)))
    print("context per invocation (lambda-call overhead subtracted):")
    sys.stdout.write(_child_output(_CONTEXT))


def _child_output(code: str) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True, timeout=300).stdout.decode()


if __name__ == "__main__":
    main()
