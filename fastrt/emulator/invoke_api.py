"""The invoke side, compatible with AWS's Runtime Interface Emulator (RIE).

``POST /2015-03-31/functions/{name}/invocations`` with the event as body; RIE's headers
``X-Amz-Client-Context`` (base64), ``X-Amzn-Trace-Id``, ``X-Amz-Tenant-Id``,
``X-Amz-Cognito-Identity`` (JSON) and ``X-Amzn-RequestId`` are honoured (RIE
``internal/lambda/rie/handlers.go``). A function error is HTTP 200 with the error JSON and
``X-Amz-Function-Error: Unhandled`` (as Lambda's Invoke API); an init error is 502 with the
runtime's init-error body, like RIE.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import NamedTuple

from fastrt.emulator import platform
from fastrt.emulator.http11 import HttpError, Request, RequestParser, render_answer
from fastrt.emulator.records import Invocation, Result

INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"
FUNCTION_ERROR = ("X-Amz-Function-Error", "Unhandled")


class InvokeAnswer(NamedTuple):
    status: int
    headers: list  # [(name, value)]
    body: bytes


class BadInvoke(Exception):
    """The invoke request itself is unusable (RIE answers 500 without a body)."""


def invocation_from_request(req: Request, request_id_factory) -> Invocation:
    """Build the queued event from an invoke request, the way RIE maps its headers."""
    headers = req.header_dict()
    request_id = headers.get("x-amzn-requestid") or request_id_factory()
    inv = Invocation(request_id, req.body)
    try:
        raw_context = base64.b64decode(headers.get("x-amz-client-context", ""), validate=True)
    except (binascii.Error, ValueError):
        raise BadInvoke("X-Amz-Client-Context is not base64") from None
    inv.client_context = raw_context.decode("utf-8", "replace") or None
    inv.trace_id = headers.get("x-amzn-trace-id") or None
    inv.tenant_id = headers.get("x-amz-tenant-id") or None
    cognito = headers.get("x-amz-cognito-identity")
    if cognito:
        try:
            parsed = json.loads(cognito)
        except ValueError:
            raise BadInvoke("X-Amz-Cognito-Identity is not JSON") from None
        identity_id = parsed.get("cognitoIdentityId", "") if isinstance(parsed, dict) else ""
        pool_id = parsed.get("cognitoIdentityPoolId", "") if isinstance(parsed, dict) else ""
        if identity_id or pool_id:
            inv.cognito_identity = json.dumps(
                {"cognitoIdentityId": identity_id, "cognitoIdentityPoolId": pool_id}, separators=(",", ":")
            )
    return inv


def answer_for_result(result: Result) -> InvokeAnswer:
    """What the invoker sees for the runtime post that settled the invocation."""
    if result.status == 413:
        return InvokeAnswer(200, [("Content-Type", "application/json"), FUNCTION_ERROR], platform.TOO_LARGE_FUNCTION_ERROR)
    content_type = result.content_type or "application/json"
    if content_type == "application/unknown":
        content_type = "application/octet-stream"  # observed RIE behaviour for bytes results
    if result.kind == "error":
        return InvokeAnswer(200, [("Content-Type", content_type), FUNCTION_ERROR], result.body)
    error_body = result.trailers.get("lambda-runtime-function-error-body")
    if result.error_type is not None:
        # a streamed response that failed midway: the error from the trailers wins
        body = result.body
        if error_body:
            try:
                body = base64.b64decode(error_body)
            except (binascii.Error, ValueError):
                pass
        return InvokeAnswer(200, [("Content-Type", "application/json"), FUNCTION_ERROR], body)
    return InvokeAnswer(200, [("Content-Type", content_type)], result.body)


def settle_future(inv: Invocation) -> asyncio.Future:
    """A future of the running asyncio loop, resolved (from the Runtime API thread) with the
    post that settles ``inv``."""
    loop = asyncio.get_running_loop()
    settled = loop.create_future()

    def resolve(result) -> None:
        if not settled.done():
            settled.set_result(result)

    inv.on_settle = lambda _inv, result: loop.call_soon_threadsafe(resolve, result)
    return settled


class DirectInvoker:
    """Invokes by queueing on the Runtime API; no process management (that is the supervisor's)."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator

    async def invoke(self, inv: Invocation) -> InvokeAnswer:
        settled = settle_future(inv)
        self.emulator.submit(inv)
        try:
            result = await asyncio.wait_for(settled, self.emulator.timeout)
        except asyncio.TimeoutError:
            self.emulator.abandon(inv)
            return InvokeAnswer(200, [("Content-Type", "text/plain"), FUNCTION_ERROR], platform.timeout_body(self.emulator.timeout))
        return answer_for_result(result)


class InvokeConnection(asyncio.Protocol):
    """One client connection on the invoke endpoint; requests are served one after the other."""

    def __init__(self, invoker, new_request_id) -> None:
        self.invoker = invoker
        self.new_request_id = new_request_id
        self.parser = RequestParser()
        self.transport = None
        self.pending: list = []
        self.serving = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            requests = self.parser.feed(data)
        except HttpError as error:
            self.transport.write(render_answer(error.status, [], str(error).encode(), close=True))
            self.transport.close()
            return
        if self.parser.partial is not None and self.parser.expect_continue:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.parser.expect_continue = False
        self.pending.extend(requests)
        if not self.serving and self.pending:
            self.serving = True
            asyncio.ensure_future(self._serve())

    async def _serve(self) -> None:
        try:
            while self.pending:
                req = self.pending.pop(0)
                answer = await self._answer(req)
                if self.transport.is_closing():
                    return
                close = (req.header("connection") or "").lower() == "close"
                self.transport.write(render_answer(answer.status, answer.headers, answer.body, close=close))
                if close:
                    self.transport.close()
                    return
        finally:
            self.serving = False

    async def _answer(self, req: Request) -> InvokeAnswer:
        path = req.path.split("?", 1)[0]
        if not (path.startswith(INVOKE_PREFIX) and path.endswith(INVOKE_SUFFIX)):
            return InvokeAnswer(404, [("Content-Type", "text/plain; charset=utf-8")], b"404 page not found\n")
        if req.method != "POST":
            return InvokeAnswer(405, [], b"")
        try:
            inv = invocation_from_request(req, self.new_request_id)
        except BadInvoke:
            return InvokeAnswer(500, [], b"")
        return await self.invoker.invoke(inv)
