"""fastrt.context against awslambdaric 4.2.2's lambda_context, built from the same inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from awslambdaric import bootstrap as ref_bootstrap
from awslambdaric import lambda_context as ref
from awslambdaric.lambda_runtime_exception import FaultException

from fastrt import context as ctx
from fastrt import errors
from fastrt.start import Config

METADATA = {
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/26/[$LATEST]abc",
    "AWS_LAMBDA_FUNCTION_NAME": "fn",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
}
ARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"

CLIENT_CONTEXTS = {
    "absent": None,
    "empty-string": "",
    "full": json.dumps(
        {
            "client": {
                "installation_id": "i-1",
                "app_title": "t",
                "app_version_name": "1.0",
                "app_version_code": "10",
                "app_package_name": "p",
                "unknown": "dropped",
            },
            "custom": {"k": "v"},
            "env": {"platform": "Android"},
        }
    ),
    "no-client": json.dumps({"custom": {"a": [1, 2]}}),
    "camel-case-keys-ignored": json.dumps({"Custom": {"a": 1}, "installationId": "x"}),
    "w3c": json.dumps(
        {
            "custom": {},
            "w3c": {"traceparent": "00-abc-def-01", "tracestate": "k=v", "baggage": 7, "other": "x"},
        }
    ),
    "w3c-not-a-dict": json.dumps({"w3c": ["traceparent"]}),
    "json-null": "null",
}
COGNITO = {
    "absent": None,
    "empty-string": "",
    "full": json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1", "extra": 1}),
    "partial": json.dumps({"cognitoIdentityId": "id-2"}),
    "json-null": "null",
}


@pytest.fixture
def metadata_env(monkeypatch):
    for name, value in METADATA.items():
        monkeypatch.setenv(name, value)
    return Config.from_environ(os.environ)


def describe(context) -> dict:
    """Everything observable about a context, objects replaced by their repr."""
    state = {key: (value if isinstance(value, (str, int, dict, type(None))) else repr(value)) for key, value in vars(context).items()}
    state["attribute order"] = list(vars(context))
    state["repr"] = repr(context)
    state["w3c()"] = context.w3c()
    state["type"] = type(context).__name__
    client_context = context.client_context
    if client_context is not None:
        state["client_context.custom"] = client_context.custom
        state["client_context.env"] = client_context.env
        client = client_context.client
        state["client"] = None if client is None else {name: getattr(client, name) for name in client.__slots__}
    identity = context.identity
    state["identity"] = (type(identity).__name__, identity.cognito_identity_id, identity.cognito_identity_pool_id)
    return state


@pytest.mark.parametrize("cognito", list(COGNITO))
@pytest.mark.parametrize("client_context", list(CLIENT_CONTEXTS))
def test_factory_matches_reference(metadata_env, client_context: str, cognito: str) -> None:
    headers = (CLIENT_CONTEXTS[client_context], COGNITO[cognito])
    expected = ref_bootstrap.create_lambda_context(*headers, 1_800_000_000_000, "req-1", ARN, "tenant-1")
    made = ctx.ContextFactory(metadata_env).make("req-1", 1_800_000_000_000, ARN, *headers, "tenant-1")
    assert describe(made) == describe(expected)


@pytest.mark.parametrize("client_context", list(CLIENT_CONTEXTS))
def test_constructor_matches_reference(metadata_env, client_context: str) -> None:
    def parsed():
        text = CLIENT_CONTEXTS[client_context]
        return json.loads(text) if text else None

    cognito = {"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"}
    expected = ref.LambdaContext("req-2", parsed(), dict(cognito), 5, ARN, None)
    ours = ctx.LambdaContext("req-2", parsed(), dict(cognito), 5, ARN, None)
    assert describe(ours) == describe(expected)
    # Positional minimum, as the reference allows.
    assert describe(ctx.LambdaContext("r", None, None, 5)) == describe(ref.LambdaContext("r", None, None, 5))


def test_constructor_strips_w3c_from_the_callers_dict_like_the_reference() -> None:
    ours, theirs = ({"w3c": {"traceparent": "t"}, "custom": None} for _ in range(2))
    ctx.LambdaContext("r", ours, None, 0)
    ref.LambdaContext("r", theirs, None, 0)
    assert ours == theirs == {"custom": None}


def test_without_environment_metadata_is_none(monkeypatch) -> None:
    for name in METADATA:
        monkeypatch.delenv(name, raising=False)
    made = ctx.ContextFactory(Config.from_environ(os.environ)).make("r", 0, ARN, None, None, None)
    assert describe(made) == describe(ref.LambdaContext("r", None, None, 0, ARN))


def test_memory_limit_is_a_string(metadata_env) -> None:
    made = ctx.ContextFactory(metadata_env).make("r", 0, ARN, None, None, None)
    assert made.memory_limit_in_mb == "128"


@pytest.mark.parametrize(
    "client_context,cognito",
    [
        ("{not json", None),
        (None, "{not json"),
        ("{not json", "[also bad"),  # the client context is parsed first
        ("[1, 2", None),
        (None, '{"a": 1}}'),
        ("\u00e9", None),
    ],
)
def test_bad_header_json_is_a_context_unmarshal_fault(metadata_env, client_context, cognito) -> None:
    with pytest.raises(FaultException) as expected:
        ref_bootstrap.create_lambda_context(client_context, cognito, 0, "r", ARN, None)
    with pytest.raises(errors.FaultError) as raised:
        ctx.ContextFactory(metadata_env).make("r", 0, ARN, client_context, cognito, None)
    assert raised.value.error_type == expected.value.exception_type == errors.LAMBDA_CONTEXT_UNMARSHAL_ERROR
    assert raised.value.message == expected.value.msg
    assert raised.value.stack is None


@pytest.mark.parametrize(
    "client_context,cognito",
    [("[1]", None), ("7", None), ('{"client": "not a dict"}', None), (None, '"a string"'), (None, "[]")],
)
def test_non_object_header_json_fails_like_the_reference(metadata_env, client_context, cognito) -> None:
    with pytest.raises(Exception) as expected:
        ref_bootstrap.create_lambda_context(client_context, cognito, 0, "r", ARN, None)
    with pytest.raises(Exception) as raised:
        ctx.ContextFactory(metadata_env).make("r", 0, ARN, client_context, cognito, None)
    assert (type(raised.value), str(raised.value)) == (type(expected.value), str(expected.value))


def test_each_invocation_gets_its_own_identity_and_w3c(metadata_env) -> None:
    factory = ctx.ContextFactory(metadata_env)
    first = factory.make("r1", 0, ARN, None, None, None)
    first.identity.cognito_identity_id = "leaked?"
    first._w3c_fields["traceparent"] = "leaked?"
    first.w3c()["tracestate"] = "leaked?"
    second = factory.make("r2", 0, ARN, None, None, None)
    assert second.identity.cognito_identity_id is None
    assert second.w3c() == {}
    assert second.identity is not first.identity


def test_w3c_returns_a_copy(metadata_env) -> None:
    made = ctx.ContextFactory(metadata_env).make("r", 0, ARN, CLIENT_CONTEXTS["w3c"], None, None)
    made.w3c()["traceparent"] = "changed"
    assert made.w3c() == {"traceparent": "00-abc-def-01", "tracestate": "k=v"}


@pytest.mark.parametrize("deadline_offset_ms", [-5000, -1, 0, 1, 1234, 900_000])
def test_remaining_time_matches_reference(monkeypatch, metadata_env, deadline_offset_ms: int) -> None:
    now = 1_764_000_000.1239
    monkeypatch.setattr(time, "time", lambda: now)
    deadline = int(now * 1000) + deadline_offset_ms
    ours = ctx.ContextFactory(metadata_env).make("r", deadline, ARN, None, None, None)
    theirs = ref.LambdaContext("r", None, None, deadline, ARN)
    assert ours.get_remaining_time_in_millis() == theirs.get_remaining_time_in_millis() == max(0, deadline_offset_ms)


def test_metadata_is_read_once_at_factory_creation(monkeypatch, metadata_env) -> None:
    factory = ctx.ContextFactory(metadata_env)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "renamed")
    assert factory.make("r", 0, ARN, None, None, None).function_name == "fn"
    # Direct construction still follows the environment, as the reference does.
    assert ctx.LambdaContext("r", None, None, 0).function_name == "renamed"


def test_helper_classes_match_reference() -> None:
    for name in ("CognitoIdentity", "Client", "ClientContext"):
        ours, theirs = getattr(ctx, name), getattr(ref, name)
        assert ours.__slots__ == theirs.__slots__
        data = {field: "v-%s" % field for field in theirs.__slots__}
        assert repr(ctx.make_obj_from_dict(ours, data)) == repr(ref.make_obj_from_dict(theirs, data))
    assert ctx.make_obj_from_dict(ctx.Client, None) is None
    assert ctx.W3C_ALLOWED_FIELDS == ref.W3C_ALLOWED_FIELDS


def test_context_module_imports_nothing_heavy() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import fastrt.context"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in result.stderr.decode().splitlines() if "|" in line}
    assert "fastrt.context" in imported
    for heavy in ("json", "logging", "fastrt.errors", "re"):
        assert heavy not in imported
