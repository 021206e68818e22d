"""Configuration read once from the environment into one small object.

Everything the runtime needs to know about its surroundings is decided here, at start-up,
and passed down; no other module reads ``os.environ`` for settings (the context reads the
function metadata once through this object too).
"""

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
        "function_name",
        "function_version",
        "memory_size",
        "log_group_name",
        "log_stream_name",
        "max_concurrency",
        "lmi_socket_path",
        "snap_start",
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
            function_name=get("AWS_LAMBDA_FUNCTION_NAME"),
            function_version=get("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_size=get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
            log_group_name=get("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream_name=get("AWS_LAMBDA_LOG_STREAM_NAME"),
            max_concurrency=int(concurrency) if concurrency and concurrency.isdigit() else None,
            lmi_socket_path=get("_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET"),
            snap_start=get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start",
        )
