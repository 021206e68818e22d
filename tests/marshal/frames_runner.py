"""Stands in for the runtime's own frames when a test calls a handler (its frames are dropped)."""

RUNNER_PATH = __file__


def call(handler, *args):
    try:
        return handler(*args), None
    except Exception as exc:
        return None, exc


def invoke(marshaller, handler, body):
    """decode -> handler -> encode, as the loop does; returns (result, exception)."""
    try:
        return marshaller.encode(handler(marshaller.decode(body, "application/json"), None)), None
    except Exception as exc:
        return None, exc
