"""Open sockets follow their credentials: re-checked on each ask, closed when they go.

A socket is authenticated once, at connect, by a session cookie or a bearer token
(accounts.websocket). Both can stop being good while the socket stays open: the
person signs out, the token is revoked, the account is deactivated or loses staff
rights. So consumers re-check before each piece of work (`signed_in_user`: one or
two indexed reads), and the changes above tell every socket of that person to check
at once (`credentials_changed`), through a channel-layer group per user.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace
from typing import Any, cast

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user
from django.http import HttpRequest

from accounts.models import User, hash_token
from accounts.services import user_for_token

log = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    """The channel-layer group every socket of one person joins."""
    return f"sockets.user.{user_id}"


@dataclass(frozen=True)
class Credentials:
    """What a socket was opened with: a bearer token or a browser session."""

    token: str | None = None
    session_key: str | None = None

    def token_hash(self) -> str | None:
        return hash_token(self.token) if self.token else None


def credentials_of(scope: dict[str, Any]) -> Credentials:
    from accounts.websocket import bearer_token

    token = bearer_token(scope)
    if token:
        return Credentials(token=token)
    session = scope.get("session")
    return Credentials(session_key=getattr(session, "session_key", None))


def signed_in_user(credentials: Credentials) -> User | None:
    """The active user these credentials still stand for, read fresh; None once they are gone.

    A session is read from the session store and checked the way Django checks a
    request's (the user exists, is active, and the password hash it was made with still
    holds), so signing out or changing the password ends it.
    """
    if credentials.token:
        return user_for_token(raw=credentials.token)
    if not credentials.session_key:
        return None
    store = import_module(settings.SESSION_ENGINE).SessionStore
    request = cast(HttpRequest, SimpleNamespace(session=store(session_key=credentials.session_key)))
    user = get_user(request)
    return user if isinstance(user, User) and user.is_active else None


def credentials_changed(*, user_id: int, session_key: str = "", token_hash: str = "") -> None:
    """Tell every open socket of this person to check its credentials again.

    `session_key` or `token_hash` name credentials that are gone for certain (the
    session being flushed by a sign-out is still readable while its signal runs).
    Best effort: a socket that misses it still re-checks at its next ask.
    """
    event = {"type": "credentials.changed", "session_key": session_key, "token_hash": token_hash}
    try:
        layer = get_channel_layer()

        async def deliver() -> None:
            await layer.group_send(user_group(user_id), event)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the usual case: a view or a command, in a thread of its own
            async_to_sync(deliver)()
        else:  # called from code running on an event loop: cannot block it
            loop.create_task(deliver())
    except Exception:  # noqa: BLE001 - a channel layer that is down must not fail a sign-out
        log.warning("could not notify the open sockets of user %s", user_id, exc_info=True)


def named_gone(credentials: Credentials, event: dict[str, Any]) -> bool:
    """True when the event names these very credentials as gone."""
    if credentials.session_key and event.get("session_key") == credentials.session_key:
        return True
    token_hash = credentials.token_hash()
    return bool(token_hash and event.get("token_hash") == token_hash)
