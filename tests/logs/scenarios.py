"""What a handler does with its output; each function runs under both runtimes (driver.py).

Every scenario imports ``logging`` itself, after the runtime's set-up, as handler code does.
"""

from __future__ import annotations

import os
import sys


class Opaque:
    """Not JSON-serialisable; its str() is stable, unlike the default repr."""

    def __str__(self) -> str:
        return "<opaque thing>"


def streams(runtime) -> None:
    print("plain print", 42)
    sys.stdout.write("no newline;")
    # Nothing may sit in a buffer: raw fd writes must land after what was written before.
    os.write(1, b"[fd1]\n")
    sys.stdout.writelines(["a\n", "b\n"])
    print("to stderr", file=sys.stderr)
    sys.stderr.write("partial err;")
    os.write(2, b"[fd2]\n")
    print("unicode: h\u00e9llo \u2603 \U0001f600")


def levels(runtime) -> None:
    import logging

    logger = logging.getLogger("app")
    runtime.set_request(None, None)
    logging.warning("outside any invocation")
    runtime.set_request("req-1", None)
    logger.debug("debug %s", "x")
    logger.info("info")
    logger.warning("warn")
    logger.error("error")
    logger.critical("critical")
    logging.log(5, "level five")
    logging.log(25, "level twenty-five")
    logging.log(55, "level fifty-five")
    logging.log(1, "level one")
    runtime.set_request("req-2", "tenant-7")
    logger.warning("with tenant")
    logging.getLogger().error("root error")


def messages(runtime) -> None:
    import logging

    logger = logging.getLogger("msg")
    runtime.set_request("req-3", None)
    logger.warning({"event": "dict message", "n": 1, "nested": {"ok": True}})
    logger.warning({"event": "dict with args %s"}, "x")
    logger.warning("mapping arg %(a)s", {"a": "b"})
    logger.warning(["a", "list"])
    logger.warning(12345)
    logger.warning("unicode h\u00e9llo \u2603 \U0001f600 \"quoted\" \\ tab\t")
    logger.warning("extra fields", extra={"custom_key": "v", "num": 3, "none": None, "obj": Opaque()})
    logger.warning("extra that shadows", extra={"requestId": "mine", "location": "here"})
    logger.warning("multi\nline\r\nmessage")


def exceptions(runtime) -> None:
    import logging

    runtime.set_request("req-4", "tenant-4")
    try:
        raise ValueError("bad value \u00e9")
    except ValueError:
        logging.exception("caught")
        logging.getLogger("exc").error("with exc_info", exc_info=True, extra={"k": 1})
        logging.getLogger("exc").warning("warning with exc_info", exc_info=True)


def nested_exception(runtime) -> None:
    import logging

    runtime.set_request("req-5", None)
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError:
        logging.exception("chained")


def error_records(runtime) -> None:
    stack = [
        '  File "/var/task/app.py", line 10, in handler\n    return compute(event)\n',
        '  File "/var/task/app.py", line 4, in compute\n    raise ValueError("x")\n',
    ]
    runtime.log_error("ValueError", "x", stack, "req-6")
    runtime.log_error("ValueError", "", stack, "req-6")
    runtime.log_error("", "only a message", [], "req-6")
    runtime.log_error("", "", [], "req-6")
    runtime.log_error("Runtime.ImportModuleError", "Unable to import module 'app': No module", [], None)
    runtime.log_error("Weird", "h\u00e9llo \u2603 \U0001f600 \"q\" \\ \u2028", ["", "  \tmixed indent\n", "x\r\ny"], "req-7")


def init_warning(runtime) -> None:
    runtime.set_request(None, None)
    runtime.log_init_warning()


def context_log(runtime) -> None:
    runtime.set_request("req-8", None)
    context = runtime.context("req-8")
    context.log("context line\n")
    context.log({"a": 1})
    context.log(" no newline")
    print()


def basic_config_at_import(runtime) -> None:
    """A handler module that configures logging itself at import time."""
    import logging

    logging.basicConfig(level=logging.DEBUG, format="%(message)s")
    runtime.set_request("req-9", None)
    logging.info("info after basicConfig")
    logging.warning("warning after basicConfig")


def handler_replaced(runtime) -> None:
    """A handler module that drops the runtime's root handler and installs its own."""
    import logging

    root = logging.getLogger()
    root.handlers.clear()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("custom %(levelname)s %(message)s"))
    root.addHandler(handler)
    runtime.set_request("req-10", None)
    logging.warning("through the user's handler")
    runtime.context("req-10").log("context log without the runtime handler\n")


def second_handler_sees_request_id(runtime) -> None:
    """The runtime's filter stamps records before the handlers added after it format them."""
    import logging

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("second %(aws_request_id)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    runtime.set_request("req-11", None)
    logging.getLogger("x").log(25, "custom level")


def asyncio_task(runtime) -> None:
    import asyncio
    import logging

    async def work() -> None:
        logging.warning("inside a task")

    runtime.set_request("req-12", None)
    asyncio.run(work())
