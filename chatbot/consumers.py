"""The chat websocket: protocol in, answering.answer_question, protocol out."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from typing import Any

import redis
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from pydantic import BaseModel, ValidationError

from accounts import sockets
from accounts.models import User
from chatbot import limits, protocol
from chatbot.answering import DoneEvent, StartedEvent, answer_question
from chatbot.beginning import Begun, question_begin
from chatbot.db import in_pool
from chatbot.feedback import feedback_record
from chatbot.llm import ModelUnavailable
from chatbot.model_part import QueuedEvent
from config import logs, metrics
from knowledge.markup import markdown_html

log = logging.getLogger(__name__)

# Tokens are forwarded in small batches: one socket frame per token costs as much as the model.
FLUSH_SECONDS = 0.05

# Close codes in the 4000 range mirror HTTP statuses (docs/protocol.md).
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY = 4429
# The channel layer (Redis) went away: "service restart", a client should connect again.
CLOSE_RESTART = 1012


class ChatConsumer(AsyncWebsocketConsumer):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Redis restarting breaks the channel layer this socket listens on: close it as a
        service restart (the browser and the reference client connect again) instead of
        failing as an error; an answer already running goes on and is saved."""
        try:
            await super().__call__(scope, receive, send)
        except redis.ConnectionError:
            log.warning("channel layer unreachable; closing the socket for a reconnect")
            await send({"type": "websocket.close", "code": CLOSE_RESTART})

    async def dispatch(self, message: dict) -> None:
        """Channels' own dispatch, without the hop it makes before every message to close
        old database connections in its one shared sync thread (`aclose_old_connections`).

        This consumer never touches the database from that thread: its reads and writes run
        in pool threads through chatbot.db.in_pool, which checks its own thread's connection
        before each call, and the auth middleware's database_sync_to_async does the same. The
        hop cost every ask and every event a round trip through one thread for all sockets.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.running: dict[str, asyncio.Task] = {}
        self.counted = False
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHORIZED, "unauthorized", UNAUTHORIZED)
            return
        self.credentials = sockets.credentials_of(self.scope)
        refusal = await asyncio.to_thread(
            limits.socket_open, user_id=self.user.pk, socket_id=self.channel_name
        )
        if refusal is not None:
            await self._refuse(CLOSE_TOO_MANY, refusal.code, refusal.message)
            return
        self.counted = True
        self.renewing = asyncio.create_task(self._stay_counted())
        metrics.socket_opened()
        await self.channel_layer.group_add(sockets.user_group(self.user.pk), self.channel_name)
        await self._send(protocol.Hello(user=self.user.get_username()))

    async def disconnect(self, code: int) -> None:
        # A running answer is not cancelled: it finishes and is saved, so a reader who
        # reloads the page mid-answer finds it there (the in-flight limit still counts it).
        if getattr(self, "counted", False):
            self.renewing.cancel()
            metrics.socket_closed()
            await self.channel_layer.group_discard(
                sockets.user_group(self.user.pk), self.channel_name
            )
            await asyncio.to_thread(
                limits.socket_close, user_id=self.user.pk, socket_id=self.channel_name
            )

    async def _stay_counted(self) -> None:
        """Renew this socket's place among its person's open sockets while it stays open, so
        that sockets of a web process that died stop counting soon (chatbot.limits)."""
        while True:
            await asyncio.sleep(limits.SOCKET_RENEW_SECONDS)
            await asyncio.to_thread(
                limits.socket_renew, user_id=self.user.pk, socket_id=self.channel_name
            )

    async def credentials_changed(self, event: dict) -> None:
        """Someone signed out, revoked a token or changed an account: is this socket still good?"""
        if sockets.named_gone(self.credentials, event) or not await self._still_signed_in():
            await self._signed_out()

    async def _still_signed_in(self) -> bool:
        """Re-read who this socket speaks for; False once its session or token is gone."""
        user = await in_pool(sockets.signed_in_user)(self.credentials)
        if user is None or user.pk != self.user.pk:
            return False
        self.user = user  # fresh: groups, staff rights and activity as they are now
        return True

    async def _signed_out(self) -> None:
        for task in self.running.values():
            task.cancel()
        await self._refuse(CLOSE_UNAUTHORIZED, "unauthorized", SIGNED_OUT)

    async def _refuse(self, close_code: int, code: protocol.ErrorCode, message: str) -> None:
        await self._send(protocol.Error(id=None, code=code, message=message))
        await self.close(code=close_code)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._send(
                protocol.Error(id=None, code="bad_request", message="Send JSON text frames.")
            )
            return
        if len(text_data) > protocol.MAX_FRAME_CHARS:
            await self._send(
                protocol.Error(
                    id=None,
                    code="bad_request",
                    message=f"Message too long: at most {protocol.MAX_FRAME_CHARS} characters.",
                )
            )
            return
        try:
            message = protocol.client_message.validate_python(json.loads(text_data))
        # json.JSONDecodeError and ValidationError are ValueErrors; nesting thousands deep,
        # still under the frame limit, makes json.loads raise RecursionError.
        except (ValueError, RecursionError) as exc:
            await self._send(
                protocol.Error(id=_id_of(text_data), code="bad_request", message=_short(exc))
            )
            return
        if isinstance(message, protocol.Ping):
            await self._send(protocol.Pong(id=message.id))
            return
        if isinstance(message, protocol.Feedback):
            await self._feedback(message)
            return
        if isinstance(message, protocol.Cancel):
            task = self.running.get(message.id)
            if task is None:
                # Said, not ignored: a bot that cancels a finished or mistyped id learns why
                # no `cancelled` will come.
                await self._send(
                    protocol.Error(
                        id=message.id,
                        code="bad_request",
                        message=f"Nothing to cancel: no answer with id {message.id!r} is running.",
                    )
                )
                return
            task.cancel()
            return
        if self.running:
            await self._send(
                protocol.Error(
                    id=message.id,
                    code="busy",
                    message="One question at a time: wait for the answer or cancel it.",
                )
            )
            return
        try:
            user, admitted, begun = await in_pool(ask_begin)(
                credentials=self.credentials, user_id=self.user.pk, ask=message
            )
        except (OperationalError, InterfaceError):
            await self._send(protocol.Error(id=message.id, code="unavailable", message=DB_DOWN))
            return
        except PermissionDenied as exc:  # someone else's conversation
            await self._send(protocol.Error(id=message.id, code="bad_request", message=str(exc)))
            return
        if user is None:
            await self._signed_out()
            return
        self.user = user  # fresh: groups, staff rights and activity as they are now
        if isinstance(admitted, limits.Refusal):
            await self._send(
                protocol.Error(id=message.id, code=admitted.code, message=admitted.message)
            )
            return
        assert begun is not None  # admitted: begun as well
        self.running[message.id] = asyncio.create_task(self._answer(message, admitted, begun))

    async def _feedback(self, message: protocol.Feedback) -> None:
        if not await self._still_signed_in():
            await self._signed_out()
            return
        try:
            await in_pool(feedback_record)(
                user=self.user,
                message_id=message.message,
                rating=message.rating,
                comment=message.comment,
            )
        except PermissionDenied as exc:
            await self._send(protocol.Error(id=None, code="bad_request", message=str(exc)))
            return
        await self._send(protocol.FeedbackSaved(message=message.message))

    async def _answer(
        self, ask: protocol.Ask, ticket: limits.AskTicket | None, begun: Begun
    ) -> None:
        """Forward the answer's events as protocol messages; `ticket`: the in-flight place
        to give back at the end (None: given back already, with the answer saved)."""
        logs.question_begin(ask.id)  # this task's records and model requests carry it
        buffer: list[str] = []
        last_flush = 0.0  # the first words go out at once

        async def flush() -> None:
            nonlocal last_flush
            if buffer:
                await self._send(protocol.Token(id=ask.id, text="".join(buffer)))
                buffer.clear()
                last_flush = time.monotonic()

        try:
            # Closed at once when cancelled, so the answer keeps what was streamed.
            async with contextlib.aclosing(
                answer_question(user=self.user, question=ask.text, begun=begun)
            ) as events:
                async for event in events:
                    # Whatever comes next, the text before it goes first: a client reads
                    # the messages in the order the answer made them.
                    if isinstance(event, QueuedEvent):
                        await flush()
                        await self._send(protocol.Queued(id=ask.id, position=event.position))
                        continue
                    if isinstance(event, StartedEvent):
                        await flush()
                        await self._send(
                            protocol.Started(id=ask.id, conversation=event.conversation)
                        )
                        continue
                    if isinstance(event, DoneEvent):
                        metrics.answer_observed(event)
                        await flush()
                        await self._send(
                            protocol.Done(
                                id=ask.id,
                                answer=event.answer,
                                sources=event.sources,
                                cached=event.cached,
                                timings=event.timings,
                                conversation=event.conversation,
                                standalone_question=event.standalone_question,
                                searched=event.searched,
                                html=answer_html(event.answer),
                                outcome=event.outcome,
                                message=event.message,
                                usage=event.usage,
                            )
                        )
                        continue
                    buffer.append(event.text)
                    if time.monotonic() - last_flush >= FLUSH_SECONDS:
                        await flush()
        except asyncio.CancelledError:
            metrics.question_cancelled()
            await self._send(
                protocol.Error(id=ask.id, code="cancelled", message="The answer was cancelled.")
            )
        except PermissionDenied as exc:
            await self._send(protocol.Error(id=ask.id, code="bad_request", message=str(exc)))
        except (OperationalError, InterfaceError):
            # The database is down or restarting: nothing was half-written (each save is
            # one transaction), and the next question reconnects by itself.
            log.warning("database unavailable while answering", exc_info=True)
            metrics.question_failed()
            await self._send(
                protocol.Error(
                    id=ask.id,
                    code="unavailable",
                    message=DB_DOWN,
                )
            )
        except ModelUnavailable as exc:
            log.warning("model unavailable: %s", exc)
            metrics.question_failed()
            await self._send(
                protocol.Error(
                    id=ask.id,
                    code="model_unavailable",
                    message="The language model is not available right now; try again shortly.",
                )
            )
        except Exception:
            log.exception("answering failed")
            metrics.question_failed()
            await self._send(
                protocol.Error(
                    id=ask.id,
                    code="internal",
                    message="Something went wrong while answering; it was logged.",
                )
            )
        finally:
            self.running.pop(ask.id, None)
            if ticket is not None:
                await asyncio.to_thread(ticket.release)

    async def _send(self, message: BaseModel) -> None:
        try:
            await self.send(text_data=message.model_dump_json())
        except Exception:  # noqa: BLE001 - the client went away mid-answer
            log.debug("could not send to a closed socket")


UNAUTHORIZED = "Sign in or send a valid API token."
DB_DOWN = "Docent cannot reach its database right now; try again in a moment."
SIGNED_OUT = "Your session or token is no longer valid: sign in again."


def ask_begin(
    *, credentials: sockets.Credentials, user_id: int, ask: protocol.Ask
) -> tuple[User | None, limits.AskTicket | limits.Refusal | None, Begun | None]:
    """Before each ask, in one pool thread: who the socket's credentials stand for now
    (None, and nothing more, once they are gone or stand for someone else), the person's
    limits' admission, and once admitted, the question's first step (chatbot.beginning:
    kept in its conversation, scoped, looked up in the cache, and when the exact tier
    answers, saved with its answer). An ask answered in this step gives its in-flight
    place back here too, and the ticket returned is None.

    One thread hop for every cached question, where it took four: a cached answer's cost
    is mostly its hops."""
    fresh = sockets.signed_in_user(credentials)
    if fresh is None or fresh.pk != user_id:
        return None, None, None
    admitted = limits.ask_admit(user_id=fresh.pk)
    if isinstance(admitted, limits.Refusal):
        return fresh, admitted, None
    try:
        begun = question_begin(
            user=fresh,
            question=ask.text,
            conversation_id=ask.conversation,
            save=True,
            fresh=ask.fresh,
        )
    except BaseException:
        admitted.release()  # never answered: it holds no place among the person's asks
        raise
    if begun.answered:
        admitted.release()
        return fresh, None, begun
    return fresh, admitted, begun


@functools.lru_cache(maxsize=256)
def answer_html(answer: str) -> str:
    """The answer as HTML. A cached answer goes out the same to everyone who asks it, so
    it is rendered once rather than on every ask (markdown_html depends on the text only)."""
    return markdown_html(answer)


def _id_of(text: str) -> str | None:
    try:
        value = json.loads(text).get("id")
    except (ValueError, AttributeError, RecursionError):
        return None
    return value if isinstance(value, str) and len(value) <= 64 else None


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        return f"Invalid message: {where}: {first['msg']}"
    return "Invalid message: not JSON."
