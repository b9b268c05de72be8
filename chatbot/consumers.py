"""The chat websocket: protocol in, answering.answer_question, protocol out."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import PermissionDenied
from pydantic import BaseModel, ValidationError

from chatbot import protocol
from chatbot.answering import DoneEvent, answer_question
from chatbot.llm import ModelUnavailable
from knowledge.markup import markdown_html

log = logging.getLogger(__name__)

# Tokens are forwarded in small batches: one socket frame per token costs as much as the model.
FLUSH_SECONDS = 0.05


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.running: dict[str, asyncio.Task] = {}
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            await self._send(
                protocol.Error(
                    id=None, code="unauthorized", message="Sign in or send a valid API token."
                )
            )
            await self.close(code=4401)
            return
        await self._send(protocol.Hello(user=self.user.get_username()))

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "running", {}).values():
            task.cancel()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self._send(
                protocol.Error(id=None, code="bad_request", message="Send JSON text frames.")
            )
            return
        try:
            message = protocol.client_message.validate_python(json.loads(text_data))
        except ValueError as exc:  # json.JSONDecodeError and ValidationError are both ValueErrors
            await self._send(
                protocol.Error(id=_id_of(text_data), code="bad_request", message=_short(exc))
            )
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
        self.running[message.id] = asyncio.create_task(self._answer(message))

    async def _answer(self, ask: protocol.Ask) -> None:
        buffer: list[str] = []
        last_flush = time.monotonic()
        try:
            async for event in answer_question(
                user=self.user, question=ask.text, conversation_id=ask.conversation
            ):
                if isinstance(event, DoneEvent):
                    if buffer:
                        await self._send(protocol.Token(id=ask.id, text="".join(buffer)))
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
                            html=markdown_html(event.answer),
                        )
                    )
                    continue
                buffer.append(event.text)
                if time.monotonic() - last_flush >= FLUSH_SECONDS:
                    await self._send(protocol.Token(id=ask.id, text="".join(buffer)))
                    buffer.clear()
                    last_flush = time.monotonic()
        except asyncio.CancelledError:
            await self._send(
                protocol.Error(id=ask.id, code="cancelled", message="The answer was cancelled.")
            )
        except PermissionDenied as exc:
            await self._send(protocol.Error(id=ask.id, code="bad_request", message=str(exc)))
        except ModelUnavailable as exc:
            log.warning("model unavailable: %s", exc)
            await self._send(
                protocol.Error(
                    id=ask.id,
                    code="model_unavailable",
                    message="The language model is not available right now; try again shortly.",
                )
            )
        except Exception:
            log.exception("answering failed")
            await self._send(
                protocol.Error(
                    id=ask.id,
                    code="internal",
                    message="Something went wrong while answering; it was logged.",
                )
            )
        finally:
            self.running.pop(ask.id, None)

    async def _send(self, message: BaseModel) -> None:
        try:
            await self.send(text_data=message.model_dump_json())
        except Exception:  # noqa: BLE001 - the client went away mid-answer
            log.debug("could not send to a closed socket")


def _id_of(text: str) -> str | None:
    try:
        value = json.loads(text).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and len(value) <= 64 else None


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        return f"Invalid message: {where}: {first['msg']}"
    return "Invalid message: not JSON."
