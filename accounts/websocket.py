"""Websocket authentication: browser session or bot bearer token, and the Origin check.

A request that carries `Authorization: Bearer ...` is authenticated by that
token alone (its cookies are ignored), so it may omit Origin: a token is not
ambient, so there is no cross-site hijacking to defend against. Every other
socket is a browser's: its Origin must be in WEBSOCKET_ALLOWED_ORIGINS (scheme, host
and port; config.origins) and it is
authenticated by its session cookie.
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser

from accounts.services import user_for_token
from config.origins import websocket_origin_validator


def bearer_token(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return ""
    return None


class TokenAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw = bearer_token(scope)
        user = await database_sync_to_async(user_for_token)(raw=raw) if raw else None
        scope = {**scope, "user": user or AnonymousUser()}
        return await self.inner(scope, receive, send)


def websocket_auth_stack(inner: Any) -> Any:
    by_token = TokenAuthMiddleware(inner)
    by_session = websocket_origin_validator(AuthMiddlewareStack(inner))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if bearer_token(scope) is not None:
            return await by_token(scope, receive, send)
        return await by_session(scope, receive, send)

    return app
