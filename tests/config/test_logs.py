"""Logs: JSON lines, and the question's id from the socket to the model backend."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings as django_settings

from config import logs
from tests.support import ws
from tests.support.corpus import HANDBOOK_VACATION, ingest_text

ROOT = django_settings.BASE_DIR


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("chatbot.answering", logging.WARNING, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


def test_a_json_record_is_one_line_with_time_level_logger_message_and_question() -> None:
    line = logs.JsonFormatter().format(
        record("model unavailable: %s", "HTTP 503", question_id="3f2a", ask_id="q1")
    )

    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "chatbot.answering"
    assert entry["message"] == "model unavailable: HTTP 503"
    assert (entry["question_id"], entry["ask_id"]) == ("3f2a", "q1")
    assert entry["time"].endswith("+00:00")


def test_a_traceback_stays_inside_its_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("answering failed")
        failed.exc_info = sys.exc_info()

    line = logs.JsonFormatter().format(failed)

    assert "\n" not in line
    entry = json.loads(line)
    assert "ValueError: boom" in entry["exception"]
    assert "question_id" not in entry  # logged outside any ask


def test_text_lines_keep_their_message_and_name_the_question() -> None:
    formatter = logs.TextFormatter()

    assert formatter.format(record("cache unavailable")) == "cache unavailable"
    assert formatter.format(record("cache unavailable", question_id="3f2a")) == (
        "cache unavailable [question 3f2a]"
    )


def test_log_format_json_makes_the_console_write_json_lines() -> None:
    """The settings wire it: a process started with LOG_FORMAT=json logs JSON on stderr."""
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('docent.check').warning('disk at %d%%', 91)"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "config.settings"}
    finished = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert finished.returncode == 0, finished.stderr
    [line] = [x for x in finished.stderr.splitlines() if "docent.check" in x]
    entry = json.loads(line)
    assert (entry["level"], entry["message"]) == ("WARNING", "disk at 91%")


def test_text_of_questions_and_documents_is_kept_out_unless_asked_for(settings) -> None:
    settings.LOG_CONTENT = False
    assert logs.content("What is the merit budget?") == "[25 characters]"

    settings.LOG_CONTENT = True
    assert logs.content("What is the merit budget?") == "What is the merit budget?"


class FailingModelServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that is down: it answers 503 and notes who asked."""

    request_ids: list[str | None] = []

    def do_POST(self) -> None:
        self.request_ids.append(self.headers.get("X-Request-ID"))
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_model(settings) -> Iterator[list[str | None]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FailingModelServer)
    FailingModelServer.request_ids = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.LLM_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings.ANSWER_CACHE_ENABLED = False
    yield FailingModelServer.request_ids
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
async def test_a_record_logged_while_answering_carries_the_question_id_the_model_was_sent(
    client, dave, handbook, failing_model, caplog
) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", HANDBOOK_VACATION)
    caplog.handler.addFilter(logs.QuestionFilter())
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(client, dave))
    await ws.receive(communicator)

    with caplog.at_level(logging.WARNING, logger="chatbot.answering"):
        _, done = await ws.ask(communicator, "How many vacation days do employees get?", id="q7")
    await communicator.disconnect()

    assert done["outcome"] == "model_failed", done
    [warning] = [r for r in caplog.records if r.name == "chatbot.answering"]
    assert warning.__dict__["ask_id"] == "q7"
    assert failing_model == [warning.__dict__["question_id"]]
    uuid.UUID(failing_model[0])  # llama-cpp-python's server refuses any other X-Request-ID
    # The question's words are nowhere in what was logged.
    assert all("vacation days do employees" not in r.getMessage() for r in caplog.records)
