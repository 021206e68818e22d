"""``fastrt emulate | invoke | bench``: run and debug a Lambda function locally.

    fastrt emulate [--port 9000] [--handler app.handler] [--task-root DIR] [-- COMMAND...]
    fastrt invoke HANDLER [--event FILE|-] [--task-root DIR] [-- COMMAND...]
    fastrt bench [ARGS...]

COMMAND is the runtime to start (default: this Python running ``-m fastrt``). ``emulate`` serves
the Lambda Runtime API to it and AWS RIE's invoke endpoint to you::

    curl -d '{"k":1}' http://127.0.0.1:9000/2015-03-31/functions/function/invocations

Never imported by the runtime.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ[name])
    except (KeyError, ValueError):
        return default


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default


def _split_command(argv: list) -> tuple:
    """(our arguments, the runtime COMMAND after ``--`` or None)."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :] or None
    return argv, None


def _function_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task-root", default=".", help="the function's code directory (default: .)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=_env_float("AWS_LAMBDA_FUNCTION_TIMEOUT", 300.0),
        help="seconds before an invoke is killed (default: $AWS_LAMBDA_FUNCTION_TIMEOUT or 300)",
    )
    parser.add_argument(
        "--memory",
        type=int,
        default=_env_int("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 128),
        help="AWS_LAMBDA_FUNCTION_MEMORY_SIZE given to the function (default 128)",
    )
    parser.add_argument(
        "--function-name",
        default=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function"),
        help="AWS_LAMBDA_FUNCTION_NAME (default: function)",
    )
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))


def _build(args, command: list | None, handler: str, log, child_stdout):
    from fastrt.emulator import Emulator, Supervisor

    emulator = Emulator(
        function_name=args.function_name,
        timeout=args.timeout,
        memory_mb=args.memory,
        region=args.region,
        host="127.0.0.1",
        port=getattr(args, "runtime_api_port", 0),
        record_requests=False,  # a long-running server must not grow
    ).start()
    command = command or [sys.executable, "-m", "fastrt"]
    supervisor = Supervisor(emulator, command, handler, args.task_root, log=log, stdout=child_stdout)
    return emulator, supervisor


def emulate(argv: list) -> int:
    ours, command = _split_command(argv)
    parser = argparse.ArgumentParser(
        prog="fastrt emulate",
        description="Serve a function locally: the Lambda Runtime API to its runtime, "
        "RIE's invoke endpoint to you.",
        epilog="Everything after -- is the runtime command (default: %s -m fastrt)." % sys.executable,
    )
    parser.add_argument("--port", type=int, default=9000, help="invoke endpoint port (default 9000)")
    parser.add_argument("--host", default="127.0.0.1", help="invoke endpoint address (default 127.0.0.1)")
    parser.add_argument("--runtime-api-port", type=int, default=0, help="Runtime API port (default: any free)")
    parser.add_argument("--handler", default=os.environ.get("_HANDLER", "app.handler"), help="_HANDLER (default app.handler)")
    _function_options(parser)
    args = parser.parse_args(ours)

    emulator, supervisor = _build(args, command, args.handler, sys.stdout, None)
    host, port = emulator.serve_invoke(supervisor, host=args.host, port=args.port)
    sys.stderr.write(
        "fastrt emulate: invoke endpoint http://%s:%d/2015-03-31/functions/function/invocations, "
        "Runtime API %s, runtime: %s\n" % (host, port, emulator.runtime_api, " ".join(supervisor.command))
    )
    sys.stderr.flush()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(3600):
            pass
    finally:
        supervisor.close()
        emulator.stop()
    return 0


def invoke(argv: list) -> int:
    ours, command = _split_command(argv)
    parser = argparse.ArgumentParser(
        prog="fastrt invoke",
        description="Invoke HANDLER once and print what it returned (exit 1 on a function error).",
    )
    parser.add_argument("handler", help="module.function, as _HANDLER")
    parser.add_argument("--event", default=None, help="file with the event, or - for stdin (default: {})")
    _function_options(parser)
    args = parser.parse_args(ours)

    if args.event is None:
        event = b"{}"
    elif args.event == "-":
        event = sys.stdin.buffer.read()
    else:
        with open(args.event, "rb") as handle:
            event = handle.read()

    # stdout carries only the result: the runtime's output and the log lines go to stderr
    emulator, supervisor = _build(args, command, args.handler, sys.stderr, sys.stderr.fileno())
    try:
        from fastrt.emulator.records import Invocation

        inv = Invocation(_uuid(), event)
        aloop = emulator.async_loop()
        answer = asyncio.run_coroutine_threadsafe(supervisor.invoke(inv), aloop).result()
    finally:
        supervisor.close()
        emulator.stop()
    sys.stdout.buffer.write(answer.body)
    if answer.body and not answer.body.endswith(b"\n"):
        sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()
    failed = answer.status != 200 or any(name == "X-Amz-Function-Error" for name, _ in answer.headers)
    return 1 if failed else 0


def bench(argv: list) -> int:
    import importlib.util
    import runpy

    if importlib.util.find_spec("bench") is None:
        sys.stderr.write("fastrt bench: the bench package is not importable; run from a checkout of fastrt\n")
        return 2
    sys.argv = ["python -m bench"] + argv
    try:
        runpy.run_module("bench", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


COMMANDS = {"emulate": emulate, "invoke": invoke, "bench": bench}


def main(argv: list | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        sys.stderr.write(__doc__.split("\n\nNever")[0].strip() + "\n")
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
