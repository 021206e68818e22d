"""Helpers shared by the marshal/errors tests (a unique module name: every test dir has a conftest)."""

from __future__ import annotations

import math
import os

from fastrt.errors import FaultError

UTF8_ENV = "AWS_Lambda_python3.12"


def reference_marshaller(ensure_ascii: bool):
    """awslambdaric's LambdaMarshaller; its encoder reads AWS_EXECUTION_ENV when built."""
    from awslambdaric.lambda_runtime_marshaller import LambdaMarshaller

    saved = os.environ.get("AWS_EXECUTION_ENV")
    os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.11" if ensure_ascii else UTF8_ENV
    try:
        return LambdaMarshaller()
    finally:
        if saved is None:
            del os.environ["AWS_EXECUTION_ENV"]
        else:
            os.environ["AWS_EXECUTION_ENV"] = saved


def outcome(call, *args):
    """('ok', value) or ('error', errorType, message) for the reference and for fastrt alike."""
    try:
        return ("ok", call(*args))
    except FaultError as exc:
        return ("error", exc.error_type, exc.message)
    except Exception as exc:
        from awslambdaric.lambda_runtime_exception import FaultException

        if isinstance(exc, FaultException):
            return ("error", exc.exception_type, exc.msg)
        raise


def canonical(value):
    """A comparable form of a decoded value: NaN equal to NaN, -0.0 apart from 0.0, types kept."""
    if isinstance(value, float):
        if math.isnan(value):
            return ("nan",)
        return ("float", value, math.copysign(1.0, value))
    if isinstance(value, dict):
        return ("dict", sorted((k, canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", [canonical(v) for v in value])
    return (type(value).__name__, value)


def parse_exact(body):
    """Parse JSON text keeping numbers exact (Decimal for every non-integer), NaN allowed."""
    import simplejson

    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return simplejson.loads(body, use_decimal=True, allow_nan=True)


def exact_canonical(value):
    """Like :func:`canonical` for :func:`parse_exact` output: a number's exact text decides."""
    import decimal

    if isinstance(value, decimal.Decimal):
        return ("dec", str(value))
    if isinstance(value, float):
        return canonical(value)
    if isinstance(value, dict):
        return ("dict", sorted((k, exact_canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", [exact_canonical(v) for v in value])
    return (type(value).__name__, value)
