"""Start-up: configuration, logging, the handler import, then the loop.

The settings are read from the environment once, here, into a :class:`Config` that is passed
down; no other module reads ``os.environ`` for settings (the context takes the function's
metadata from it too). It lives in this module rather than one of its own because every
module on the cold path is work at each start.

The order follows awslambdaric's ``bootstrap.run`` (contract §1.12): logging is set up before
the handler module is imported, every init failure is logged and posted to ``/init/error``
and ends the process with exit code 1, and nothing is imported that the first event does not
need.
"""

import gc
import os
import sys

from fastrt import __version__

# AWS_EXECUTION_ENV values for which awslambdaric 4.2.2 emits raw UTF-8 (ensure_ascii=False)
# and polls /next from a thread (contract §1.5, §1.9, §1.13).
_UTF8_ENVS = frozenset(
    (
        "AWS_Lambda_python3.12",
        "AWS_Lambda_python3.13",
        "AWS_Lambda_python3.14",
        "AWS_Lambda_python3.15",
    )
)

# AWS_EXECUTION_ENV values of preview runtimes, for which the reference logs a warning at start.
_PREVIEW_ENVS = frozenset(("AWS_Lambda_python3.15",))

# Names logging accepts for a level (contract §1.5).
_LOG_LEVELS = frozenset(
    ("CRITICAL", "FATAL", "ERROR", "WARN", "WARNING", "INFO", "DEBUG", "NOTSET")
)


class Config:
    """Runtime settings; build with :meth:`from_environ`, never mutated afterwards."""

    __slots__ = (
        "runtime_api",
        "handler",
        "task_root",
        "execution_env",
        "ensure_ascii",
        "json_extended",
        "log_format",
        "log_level",
        "log_level_given",
        "telemetry_fd",
        "transport",
        "pipelining",
        "function_name",
        "function_version",
        "memory_size",
        "log_group_name",
        "log_stream_name",
        "max_concurrency",
        "lmi_socket_path",
        "snap_start",
        "preview_warning",
        "region",
    )

    def __init__(self, **fields: object) -> None:
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    @classmethod
    def from_environ(cls, environ, handler: str | None = None) -> "Config":
        """Read the settings from ``environ`` (a mapping); ``handler`` overrides ``_HANDLER``."""
        get = environ.get
        execution_env = get("AWS_EXECUTION_ENV")
        raw_level = get("AWS_LAMBDA_LOG_LEVEL") or ""
        # As the reference: only an exact "TRACE" maps to DEBUG (before upper-casing).
        level = ("DEBUG" if raw_level == "TRACE" else raw_level).upper()
        fd = get("_LAMBDA_TELEMETRY_LOG_FD")
        concurrency = get("AWS_LAMBDA_MAX_CONCURRENCY")
        return cls(
            runtime_api=get("AWS_LAMBDA_RUNTIME_API") or "127.0.0.1:9001",
            handler=handler if handler else get("_HANDLER"),
            task_root=get("LAMBDA_TASK_ROOT") or "",
            execution_env=execution_env,
            ensure_ascii=execution_env not in _UTF8_ENVS,
            json_extended=(get("FASTRT_JSON") or "").lower() == "extended",
            log_format="json" if (get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON" else "text",
            log_level=level if level in _LOG_LEVELS else None,
            # Any non-empty value, valid or not, gives text records level-tagged frames.
            log_level_given=bool(level),
            telemetry_fd=int(fd) if fd and fd.isdigit() else None,
            transport=(get("FASTRT_TRANSPORT") or "socket").lower(),
            pipelining=not switched_off(get("FASTRT_PIPELINING")),
            function_name=get("AWS_LAMBDA_FUNCTION_NAME"),
            function_version=get("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_size=get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            log_group_name=get("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream_name=get("AWS_LAMBDA_LOG_STREAM_NAME"),
            max_concurrency=_worker_count(concurrency),
            lmi_socket_path=get("_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET"),
            snap_start=get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start",
            preview_warning=execution_env in _PREVIEW_ENVS and not get("LAMBDA_DISABLE_PREVIEW_WARN"),
            region=get("AWS_REGION") or "",
        )


def switched_off(value: str | None) -> bool:
    """Whether a FASTRT_* switch that is on by default was turned off: 0/false/no/off, any case."""
    return value is not None and value.lower() in ("0", "false", "no", "off")


def _worker_count(value: str | None) -> int | None:
    """AWS_LAMBDA_MAX_CONCURRENCY read with ``int()``, as the reference reads it (surrounding
    spaces allowed); a value that names no worker at all means one runtime process."""
    try:
        count = int(value) if value else 0
    except ValueError:
        return None
    return count if count > 0 else None


USER_AGENT = "aws-lambda-python/%d.%d.%d-fastrt-%s" % (
    sys.version_info[0],
    sys.version_info[1],
    sys.version_info[2],
    __version__,
)


def make_transport(config: Config):
    """The raw-socket transport, or urllib3's when FASTRT_TRANSPORT=urllib3."""
    if config.transport == "urllib3":
        from fastrt.transport_urllib3 import Urllib3Transport

        return Urllib3Transport(config.runtime_api, USER_AGENT)
    if config.transport != "socket":
        raise SystemExit("fastrt: FASTRT_TRANSPORT must be 'socket' or 'urllib3', not %r" % config.transport)
    from fastrt.transport import SocketTransport

    return SocketTransport(config.runtime_api, USER_AGENT)


def main(argv: list) -> None:
    """The command line of ``python -m fastrt [HANDLER]`` and of the layer's launcher."""
    args = argv[1:]
    if args and args[0] in ("--version", "-V"):
        print(describe())
        return
    if args and args[0] in ("--help", "-h"):
        print(
            "usage: python -m fastrt [HANDLER]\n\n"
            "Serve HANDLER (module.function; default: $_HANDLER) on the Lambda Runtime API\n"
            "at $AWS_LAMBDA_RUNTIME_API. --version shows the version, core and transport."
        )
        return
    if args and args[0].startswith("-"):
        sys.stderr.write("usage: python -m fastrt [HANDLER]\n")
        sys.exit(2)
    # Arguments after the handler are ignored, as by `python -m awslambdaric`.
    run(handler_name=args[0] if args else None)


def launch_layer(launcher: str, argv: list) -> None:
    """``main`` for the layer's ``fastrt-launch.py`` (``launcher``), which put the layer's python
    dir at ``sys.path[0]`` to import fastrt."""
    layer_root = os.path.dirname(os.path.abspath(launcher))
    # Only fastrt itself was found there (its submodules come from the package's own __path__);
    # like the managed runtime's script folder, it is no place for the user's code (§1.1).
    del sys.path[0]
    if layer_root != "/opt":
        # Unpacked elsewhere (tests, local runs): where fastrt finds the layer directories of §1.1.
        os.environ["FASTRT_LAYER_ROOT"] = layer_root
    if os.environ.get("PYTHONPATH"):
        # With PYTHONPATH set the managed runtime keeps /opt/python off sys.path (§1.1); fastrt's own
        # dependencies (orjson, urllib3) must still import, so the layer goes last, shadowing nothing.
        sys.path.append(os.path.join(layer_root, "python"))
    main(argv)


def run(handler_name: str | None = None, handler=None, environ=None) -> None:
    """Run a runtime process to the end: ``handler_name`` is imported, ``handler`` used as is."""
    if environ is None:
        environ = os.environ
    _pause_collector()
    _import_startup_modules()
    config = Config.from_environ(environ, handler_name)
    from fastrt import logs

    logs.setup(config)
    if config.max_concurrency and handler is None:
        # Lambda Managed Instances: N worker processes, each a full runtime of its own.
        from fastrt.workers import run_workers

        _resume_collector()
        run_workers(config, environ)
        return
    serve(config, environ, make_transport(config), handler)


def serve(config: Config, environ, transport, handler=None) -> None:
    """Import the handler (unless given), report an init failure, then loop forever.

    Shared by the single process and each Managed Instances worker (with its own transport).
    """
    from fastrt import handler as handlers
    from fastrt import loop

    _resume_collector(freeze=handler is None)
    if config.preview_warning:
        from fastrt import logs

        logs.log_preview_warning(config.region)
    if handler is None:
        task_root = config.task_root or handlers.working_directory()
        handlers.prepare_sys_path(environ, task_root)
        try:
            handler = handlers.load(config.handler, task_root)
        except Exception as exc:
            loop.report_init_error(config, transport, exc)
            sys.exit(1)
    handler = handlers.adapt(handler)
    if config.snap_start:
        from fastrt.snapstart import restore

        restore(config, transport)
    loop.Runtime(config, transport, handler).serve_forever()


# fastrt's modules on the way to the first response, each after the ones it imports: every
# `import` among them then finds its module loaded already.
STARTUP_MODULES = ("logs", "handler", "protocol", "transport", "context", "marshal", "loop")


def _import_startup_modules() -> None:
    """Import :data:`STARTUP_MODULES` from their files, as ``import`` would, minus the search.

    ``import`` first looks a module up, through ``sys.meta_path``'s finders and the package
    directory's listing, under a lock of its own: about half a millisecond of every cold start
    for these seven (README, *Cold start*). fastrt knows its files: each is the one the search
    would pick (the extension module ahead of the ``.py``; the ``.py`` under FASTRT_PURE),
    loaded by importlib's own loader through importlib's recipe for importing a file directly,
    so ``__spec__``, ``__file__`` and ``__cached__`` are the ones ``import`` gives. A module
    already imported, or without a file here, is left to ``import``.
    """
    import _frozen_importlib as bootstrap
    import _frozen_importlib_external as external

    import fastrt

    if len(fastrt.__path__) != 1:
        return
    directory = fastrt.__path__[0]
    try:
        present = set(os.listdir(directory))
    except OSError:
        return
    modules = sys.modules
    for name in STARTUP_MODULES:
        fullname = "fastrt." + name
        if fullname in modules:
            continue
        suffixes = external.SOURCE_SUFFIXES
        if name in fastrt.COMPILED_MODULES and not fastrt._PURE:
            suffixes = external.EXTENSION_SUFFIXES + suffixes
        for suffix in suffixes:
            if name + suffix in present:
                break
        else:
            continue
        path = os.path.join(directory, name + suffix)
        if suffix in external.SOURCE_SUFFIXES:
            loader = external.SourceFileLoader(fullname, path)
        else:
            loader = external.ExtensionFileLoader(fullname, path)
        spec = external.spec_from_file_location(fullname, path, loader=loader)
        module = bootstrap.module_from_spec(spec)
        modules[fullname] = module
        try:
            loader.exec_module(module)
        except BaseException:
            del modules[fullname]
            raise
        setattr(fastrt, name, module)


# Whether run() paused the garbage collector for fastrt's own start-up.
_collector_paused = False


def _pause_collector() -> None:
    # fastrt's start-up allocates only what lives as long as the process (modules, classes,
    # functions): collections then free nothing and cost ~3% of the cold start. The collector
    # runs again before the handler's module is imported.
    global _collector_paused
    if gc.isenabled():
        gc.disable()
        _collector_paused = True


def _resume_collector(freeze: bool = False) -> None:
    global _collector_paused
    if _collector_paused:
        if freeze:
            # Only the interpreter's and fastrt's start-up exist yet, all of it as long-lived
            # as the process: frozen, no later collection walks it, and the allocations counted
            # while paused do not set one off at once. (Not when embedded: the caller's objects
            # could hold garbage that freezing would keep forever.)
            gc.freeze()
        gc.enable()
        _collector_paused = False


def describe() -> str:
    """What ``python -m fastrt --version`` prints."""
    import fastrt

    config = Config.from_environ(os.environ)
    core = "compiled (Cython)" if fastrt.COMPILED else "pure Python"
    return "fastrt %s, %s core, %s transport, CPython %d.%d.%d" % (
        __version__,
        core,
        config.transport,
        sys.version_info[0],
        sys.version_info[1],
        sys.version_info[2],
    )
