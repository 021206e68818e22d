"""The ``context`` object handed to handlers, with awslambdaric 4.2.2's public surface (§1.10).

``LambdaContext`` and its three helper classes have the reference's attributes, types,
methods and ``repr`` strings, and ``LambdaContext(...)`` takes the reference's arguments.
The runtime loop does not call that constructor: it uses :class:`ContextFactory`, which
reads the function's metadata once from the :class:`~fastrt.start.Config` instead of five
``os.environ`` look-ups per invocation, and fills a new instance directly.
"""

import os
import time

from fastrt import logs

# The W3C trace-context fields ``LambdaContext.w3c()`` may return; other keys are ignored,
# as are allow-listed values that are not strings.
W3C_ALLOWED_FIELDS = ("traceparent", "tracestate", "baggage")

_new = object.__new__


class LambdaContext(object):
    """What a handler receives as ``context``; one per invocation."""

    def __init__(
        self,
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn=None,
        tenant_id=None,
    ):
        # Direct construction behaves like the reference: metadata read from the
        # environment now, header values already parsed into dicts (or None).
        environ = os.environ
        self.aws_request_id = invoke_id
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        _fill_from_headers(self, client_context, cognito_identity)
        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self) -> "int":
        remaining = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def w3c(self) -> "dict[str, str]":
        """The W3C trace-context fields sent in the client context (a new dict each call)."""
        return dict(self._w3c_fields)

    def log(self, msg: "object") -> "None":
        """Write ``str(msg)`` as is (no newline) where the runtime's log records go."""
        logs.context_log(str(msg))

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}"
            "])"
        )


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}"
            "])"
        )


class Client(object):
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"installation_id={self.installation_id},"
            f"app_title={self.app_title},"
            f"app_version_name={self.app_version_name},"
            f"app_version_code={self.app_version_code},"
            f"app_package_name={self.app_package_name}"
            "])"
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"custom={self.custom},"
            f"env={self.env},"
            f"client={self.client}"
            "])"
        )


def make_obj_from_dict(_class, _dict, fields=None):
    """An instance of ``_class`` whose slots are read from ``_dict`` (None stays None)."""
    if _dict is None:
        return None
    obj = _class()
    set_obj_from_dict(obj, _dict, fields)
    return obj


def set_obj_from_dict(obj, _dict, fields=None):
    """Set each slot (or each of ``fields``) of ``obj`` to ``_dict.get(name)``."""
    for field in obj.__class__.__slots__ if fields is None else fields:
        setattr(obj, field, _dict.get(field, None))


class ContextFactory:
    """Builds each invocation's :class:`LambdaContext` from the Runtime API's header values.

    The function's name, version, memory size and log group/stream are taken from
    ``config`` once; the reference reads them from ``os.environ`` on every invocation, which
    only matters to a handler that rewrites those variables at run time.
    """

    __slots__ = (
        "log_group_name",
        "log_stream_name",
        "function_name",
        "memory_limit_in_mb",
        "function_version",
    )

    def __init__(self, config) -> None:
        self.log_group_name = config.log_group_name
        self.log_stream_name = config.log_stream_name
        self.function_name = config.function_name
        self.memory_limit_in_mb = config.memory_size
        self.function_version = config.function_version

    def make(
        self,
        request_id: str,
        deadline_ms: int,
        function_arn: str,
        client_context: str | None,
        cognito_identity: str | None,
        tenant_id: str | None,
    ) -> LambdaContext:
        """The context for one invocation; bad header JSON raises ``FaultError``.

        Same result as the reference's ``LambdaContext(...)`` on the parsed headers, built
        without calling ``__init__``: the attributes land in the same instance ``__dict__``.
        """
        context = _new(LambdaContext)
        context.aws_request_id = request_id
        context.log_group_name = self.log_group_name
        context.log_stream_name = self.log_stream_name
        context.function_name = self.function_name
        context.memory_limit_in_mb = self.memory_limit_in_mb
        context.function_version = self.function_version
        context.invoked_function_arn = function_arn
        context.tenant_id = tenant_id
        if client_context or cognito_identity:
            # Rare: only mobile-SDK and Cognito-authenticated invocations carry these.
            # The client context is parsed first, so its error wins, as in the reference.
            _fill_from_headers(
                context,
                _parse_header(client_context, "Client Context") if client_context else None,
                _parse_header(cognito_identity, "Cognito Identity") if cognito_identity else None,
            )
        else:
            context._w3c_fields = {}
            context.client_context = None
            # A fresh object each time: a handler may write to it, the next one must not see it.
            identity = _new(CognitoIdentity)
            identity.cognito_identity_id = None
            identity.cognito_identity_pool_id = None
            context.identity = identity
        context._epoch_deadline_time_in_ms = deadline_ms
        return context


def _fill_from_headers(context: LambdaContext, client_context, cognito_identity) -> None:
    """Set ``_w3c_fields``, ``client_context`` and ``identity`` from the parsed header values.

    Non-dict JSON values fail with the reference's ``AttributeError`` (``.get`` on them).
    """
    context._w3c_fields = _pop_w3c_fields(client_context)
    client = make_obj_from_dict(ClientContext, client_context)
    if client is not None:
        client.client = make_obj_from_dict(Client, client.client)
    context.client_context = client
    identity = _new(CognitoIdentity)
    if cognito_identity is None:
        identity.cognito_identity_id = None
        identity.cognito_identity_pool_id = None
    else:
        identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
        identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
    context.identity = identity


def _pop_w3c_fields(client_context) -> dict:
    """Remove ``w3c`` from the parsed client context; return its allow-listed string fields."""
    if not isinstance(client_context, dict) or "w3c" not in client_context:
        return {}
    w3c = client_context.pop("w3c")
    if not isinstance(w3c, dict):
        return {}
    fields = {}
    for name in W3C_ALLOWED_FIELDS:
        value = w3c.get(name)
        if isinstance(value, str):
            fields[name] = value
    return fields


def _parse_header(value: str, name: str):
    """Decode one JSON header the way the reference does (stdlib ``json.loads``)."""
    import json  # only for the rare invocations that carry these headers

    try:
        return json.loads(value)
    except Exception as exc:
        from fastrt import errors

        raise errors.context_unmarshal(name, exc) from None
