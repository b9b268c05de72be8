"""A failing model server's reply never reaches the logs or the reader: it echoes the prompt.

The server here is a real HTTP server on a loopback port that answers every
request with an error whose body repeats what it was sent, as llama.cpp's does
for a prompt over its context.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from chatbot.llm import ModelUnavailable, stream_chat

CONFIDENTIAL = "salary band of the CFO is 412,000"


class EchoingError(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        sent = self.rfile.read(int(self.headers["Content-Length"])).decode()
        body = json.dumps({"error": {"message": f"context overflow in prompt: {sent}"}}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def failing_server(settings) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingError)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LLM_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield
    server.shutdown()
    server.server_close()


async def test_a_model_servers_error_body_is_not_in_the_error(failing_server) -> None:
    with pytest.raises(ModelUnavailable) as failed:
        async for _ in stream_chat([{"role": "user", "content": CONFIDENTIAL}]):
            pass

    message = str(failed.value)
    assert "400" in message  # still says what happened
    assert "salary" not in message and "prompt" not in message
