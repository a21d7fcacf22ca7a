"""Strawberry's ASGI view, with our context and contract-shaped errors for bad HTTP bodies."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import replace
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types.unset import UNSET, UnsetType

from app.core import answers
from app.core.errors import ErrorCode, Unauthenticated
from app.core.request_id import current_client_address, current_request_id
from app.observability import metrics
from app.observability.operations import record_reused
from app.schema.context import Context
from app.settings import get_settings
from app.web.answer_cache import (
    AnswerCache,
    is_anonymous_post,
    read_body,
    replay,
    request_key,
)
from app.web.client_files import page_response
from app.web.payload_cache import PayloadCache


class LegacyGraphQLWSHandler(BaseGraphQLWSHandler[Context, None]):
    """Legacy graphql-ws, with the connection_init deadline graphql-transport-ws already has."""

    async def handle(self) -> None:
        deadline = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            deadline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deadline

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        metrics.subscription_started()
        try:
            await super().handle_async_results(operation_id, query, operation_name, variables)
        finally:
            metrics.subscription_ended()

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(get_settings().ws_connection_init_timeout_seconds)
        if not self.connection_acknowledged:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, closing a refused token with 4403 and the reason, not "Forbidden".

    A client must tell "refresh your token" from "rejected" without a second round trip.
    """

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload", {})
        if isinstance(payload, dict) and not self.connection_init_received:
            try:
                _ = replace(self.context, connection_params=payload).actor
            except Unauthenticated as exc:
                self.connection_init_received = True
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                await self.websocket.close(code=4403, reason=exc.message[:120])
                return
        await super().handle_connection_init(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Counted while it runs: on this protocol nearly always a subscription."""
        metrics.subscription_started()
        try:
            await super().run_operation(operation)
        finally:
            metrics.subscription_ended()


class BookingGraphQL(GraphQL[Context, None]):
    graphql_ws_handler_class = LegacyGraphQLWSHandler
    graphql_transport_ws_handler_class = TransportWSHandler
    payload_cache = PayloadCache()

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the locally built page (web/graphiql.html), not Strawberry's CDN one:
        it must load on networks that cannot reach a public CDN."""
        return page_response("graphiql.html")

    def encode_json(self, data: object) -> str:
        return self.payload_cache.encode(data)

    answer_cache = AnswerCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if not is_anonymous_post(scope):
            await (await self._respond(scope, receive))(scope, receive, send)
            return
        started = time.perf_counter()
        body = await read_body(receive)
        key = request_key(scope, body)
        kept = self.answer_cache.get(key) or await self.answer_cache.wait_for_running(key)
        if kept is not None:
            response: Response = Response(kept.body, media_type=kept.media_type)
            await response(scope, receive, send)
            assert kept.answer.operation is not None
            record_reused(kept.answer.operation, time.perf_counter() - started)
            return
        answer = self.answer_cache.begin()
        token = answers.begin(answer) if answer is not None else None
        finish = self.answer_cache.lead(key) if answer is not None else None
        try:
            response = await self._respond(scope, replay(body, receive))
            if answer is not None:
                self.answer_cache.keep(key, answer, response)
        finally:
            if token is not None:
                answers.end(token)
            if finish is not None:
                finish()
        await response(scope, receive, send)

    async def _respond(self, scope: Scope, receive: Receive) -> Response:
        try:
            return await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            # A malformed body still gets a GraphQL-shaped error a client can read.
            return JSONResponse(
                {
                    "errors": [
                        {
                            "message": exc.reason,
                            "extensions": {"code": ErrorCode.BAD_USER_INPUT.value},
                        }
                    ]
                },
                status_code=exc.status_code,
            )

    def decode_json(self, data: str | bytes) -> object:
        """Any body that is not a JSON object or batch is a 400, never an unhandled 500.

        Strawberry only catches JSONDecodeError and then calls `.get` on whatever decoded, so
        invalid UTF-8, nesting deep enough to recurse, or a bare string/number would crash.
        """
        try:
            decoded = json.loads(data)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return decoded

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        client = request.client.host if request.client else "unknown"
        current_client_address.set(client)
        return Context(
            headers_authorization=request.headers.get("authorization"),
            request_id=current_request_id.get(),
            client_key=client,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A token in connection_init must be good; without one, only public streams work."""
        try:
            _ = context.actor
        except Unauthenticated as exc:
            raise ConnectionRejectionError(
                {"message": exc.message, "extensions": {"code": exc.code.value}}
            ) from exc
        return UNSET
