"""Fuzzing the sans-IO parser and the header-to-context code (complements tests/runtime/test_protocol.py,
which fuzzes parse_head and ChunkedDecoder with unstructured bytes).

Property everywhere: the only exception that leaves the runtime's own parsing is
:class:`ProtocolError` (and, for the context headers, the same errors the reference raises);
nothing is read past a declared length; every value handed on has the type the loop expects.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from fastrt import protocol
from fastrt.protocol import ChunkedDecoder, ProtocolError, parse_head

from fuzzing import HEADER_VALUES, chunked_body, framed_answers, fuzz_settings, heads

ULONG_MAX = 2**64 - 1

@fuzz_settings(250)
@given(heads())
def test_near_valid_heads_parse_or_raise_protocol_error(raw):
    try:
        head = parse_head(raw)
    except ProtocolError:
        return
    assert 100 <= head.status <= 999
    for name, value in head.headers.items():
        assert name == name.strip().lower() and value == value.strip()
    cl = head.headers.get("content-length")
    if head.chunked:
        assert head.headers["transfer-encoding"].lower() == "chunked"
    elif cl is not None:
        assert head.content_length == int(cl)  # exactly the declared length, never more
    else:
        assert head.content_length in (0, -1)
    try:
        inv = protocol.invocation_from(head, b"body")
    except ProtocolError:
        assert not head.headers.get("lambda-runtime-aws-request-id")
        return
    assert isinstance(inv.request_id, str) and inv.request_id
    assert isinstance(inv.deadline_ms, int) and 0 <= inv.deadline_ms <= ULONG_MAX
    assert isinstance(inv.function_arn, str)
    for value in (inv.trace_id, inv.client_context, inv.cognito_identity, inv.tenant_id, inv.invocation_id):
        assert value is None or (isinstance(value, str) and value)
    assert inv.body == b"body"


@pytest.mark.parametrize(
    "raw,expected",
    [
        (b"9" * 5000, ULONG_MAX),  # used to raise ValueError (int's 4300-digit limit)
        (b"18446744073709551616", ULONG_MAX),  # strtoul saturates
        (b"0" * 40 + b"42", 42),  # leading zeros are not magnitude
        (b"1542409706888.5", 1542409706888),
    ],
)
def test_extreme_deadlines_saturate_like_strtoul(raw, expected):
    head = parse_head(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r\r\nLambda-Runtime-Deadline-Ms: " + raw)
    assert protocol.invocation_from(head, b"").deadline_ms == expected


@fuzz_settings(150)
@given(st.binary(max_size=500), st.binary(max_size=50), st.integers(min_value=1, max_value=64), st.data())
def test_chunked_decoder_stops_exactly_at_the_end_of_the_body(body, tail, step, data):
    encoded = data.draw(chunked_body(body))
    raw = encoded + tail
    decoder = ChunkedDecoder()
    left = b""
    pos = 0
    while pos < len(raw) and not decoder.done:
        left = decoder.feed(raw[pos : pos + step])
        pos += step
    assert decoder.done and decoder.body() == body
    # What follows the message is handed back untouched, however the bytes were split.
    assert left + raw[pos:] == tail


@fuzz_settings(150)
@given(framed_answers(), st.binary(max_size=40))
def test_well_framed_answers_split_anywhere_yield_the_exact_body(framed, tail):
    # The transport's framing rules, replayed on bytes: find the head, honour its length.
    raw, body = framed
    raw += tail
    while True:
        end = raw.find(b"\r\n\r\n")
        head = parse_head(raw[:end])
        raw = raw[end + 4 :]
        if head.status >= 200:
            break
    if head.chunked:
        decoder = ChunkedDecoder()
        rest = decoder.feed(raw)
        assert decoder.done and decoder.body() == body and rest == tail
    else:
        assert raw[: head.content_length] == body and raw[head.content_length :] == tail


# --- header-to-context ---------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
CONTEXT_KEYS = st.sampled_from(
    ["custom", "env", "client", "w3c", "installation_id", "app_title", "cognitoIdentityId", "cognitoIdentityPoolId",
     "traceparent", "tracestate", "baggage"]
)
SHAPED_JSON = st.recursive(
    JSON_VALUES, lambda inner: st.dictionaries(CONTEXT_KEYS, inner, max_size=5), max_leaves=15
)
HEADER_TEXT = st.one_of(
    SHAPED_JSON.map(json.dumps),
    JSON_VALUES.map(json.dumps),
    HEADER_VALUES.map(lambda b: b.decode("latin-1")),
    st.sampled_from(["{", "[" * 100000, "NaN", '{"client": 5}', '{"w3c": []}', '"\\ud800"']),
)


def _reference_outcome(client_context, cognito_identity):
    """What awslambdaric does with the same header values: ``("ok", None)`` or the error type."""
    from awslambdaric.bootstrap import create_lambda_context

    try:
        create_lambda_context(client_context, cognito_identity, 1000, "r", "arn", None)
    except Exception as exc:  # noqa: BLE001 — the type is what we compare
        return type(exc).__name__
    return "ok"


@fuzz_settings(150)
@given(st.one_of(st.none(), HEADER_TEXT), st.one_of(st.none(), HEADER_TEXT))
def test_context_headers_fail_only_like_the_reference(client_context, cognito_identity):
    from fastrt import errors
    from fastrt.start import Config
    from fastrt.context import ContextFactory

    factory = ContextFactory(Config.from_environ({}))
    try:
        context = factory.make("r", 1000, "arn", client_context or None, cognito_identity or None, None)
    except errors.FaultError as exc:
        outcome = "FaultException"
        assert exc.error_type == "Runtime.LambdaContextUnmarshalError"
    except AttributeError:
        outcome = "AttributeError"  # non-object JSON: the reference's `.get` fails the same way
    else:
        outcome = "ok"
        assert context.aws_request_id == "r" and context.identity is not None
        assert isinstance(context.w3c(), dict)
    assert outcome == _reference_outcome(client_context or None, cognito_identity or None)
