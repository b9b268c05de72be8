"""The reference bot client: a terminal chat over the websocket protocol (docs/bots.md).

    python -m chatbot.client --url ws://127.0.0.1:8000/ws/chat/ --token dct_...

Type a question and watch the answer stream; its sources follow. Then `/up` or
`/down [comment]` rates the last answer, `/new` starts a new conversation, `/quit`
(or end of input) leaves. A dropped connection is opened again with growing pauses;
a question that was streaming when it dropped is reported, not silently re-asked
(the server kept it, and its answer, in the conversation).

It speaks only what chatbot/protocol.py defines, so it doubles as the example a Slack
or Teams bridge starts from: one socket per bot, one `conversation` id per thread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from chatbot.protocol import PROTOCOL_VERSION

Write = Callable[[str], None]


class ProtocolError(Exception):
    """The server said something this client does not understand, or refused it."""


class ChatClient:
    """One bot's socket: ask, stream, rate; reconnects when the connection drops."""

    def __init__(self, url: str, token: str, *, write: Write, retries: int = 6) -> None:
        self.url = url
        self.token = token
        self.write = write
        self.retries = retries
        self.conversation: int | None = None
        self.last_answer: int | None = None
        self.socket: ClientConnection | None = None

    async def open(self) -> None:
        delay = 0.5
        for attempt in range(self.retries + 1):
            try:
                self.socket = await connect(
                    self.url, additional_headers={"Authorization": f"Bearer {self.token}"}
                )
                hello = await self._receive()
                if hello.get("type") == "error":
                    raise ProtocolError(f"{hello['code']}: {hello['message']}")
                if hello.get("protocol") != PROTOCOL_VERSION:
                    self.write(f"[server speaks protocol {hello.get('protocol')!r}]\n")
                return
            except (OSError, websockets.ConnectionClosed) as exc:
                if attempt == self.retries:
                    raise ProtocolError(f"cannot reach {self.url}: {exc}") from exc
                self.write(f"[connection failed; trying again in {delay:.1f} s]\n")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()

    async def _receive(self) -> dict[str, Any]:
        assert self.socket is not None
        return json.loads(await self.socket.recv())

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.socket is not None
        await self.socket.send(json.dumps(message))

    async def ask(self, text: str) -> dict[str, Any] | None:
        """Stream one answer to `write`; the `done` message, or None when it failed."""
        ask_id = uuid.uuid4().hex[:12]
        ask = {"type": "ask", "id": ask_id, "text": text, "conversation": self.conversation}
        try:
            await self._send(ask)
        except websockets.ConnectionClosed:  # closed while idle (a server restart): open again
            await self.open()
            await self._send(ask)
        try:
            while True:
                message = await self._receive()
                if message.get("id") not in (ask_id, None):
                    continue
                kind = message["type"]
                if kind == "started":
                    self.conversation = message["conversation"]
                elif kind == "token":
                    self.write(message["text"])
                elif kind == "done":
                    self._finish(message)
                    return message
                elif kind == "error":
                    self.write(f"\n[{message['code']}] {message['message']}\n")
                    return None
        except websockets.ConnectionClosed:
            self.write("\n[connection lost while answering; reconnecting. Ask again if needed.]\n")
            await self.open()
            return None

    def _finish(self, done: dict[str, Any]) -> None:
        self.conversation = done.get("conversation") or self.conversation
        self.last_answer = done.get("message")
        self.write("\n")
        for source in done["sources"]:
            heading = f" › {source['heading']}" if source["heading"] else ""
            self.write(f"  [{source['n']}] {source['title']}{heading}  {source['url']}\n")
        if done.get("cached"):
            self.write("  (from the answer cache)\n")

    async def rate(self, rating: str, comment: str = "") -> bool:
        if self.last_answer is None:
            self.write("[nothing to rate yet]\n")
            return False
        feedback = {"type": "feedback", "message": self.last_answer, "rating": rating}
        if comment:
            feedback["comment"] = comment
        await self._send(feedback)
        while True:
            message = await self._receive()
            if message["type"] == "feedback_saved":
                self.write("[thanks: feedback saved]\n")
                return True
            if message["type"] == "error":
                self.write(f"[{message['code']}] {message['message']}\n")
                return False


async def _lines(stream: Any) -> AsyncIterator[str]:
    """Lines read in a thread: waiting for the person typing must not stall the socket
    (its keep-alive pings are answered on this event loop)."""
    while raw := await asyncio.to_thread(stream.readline):
        yield raw


async def run(client: ChatClient, stream: Any, *, prompt: Write | None = None) -> None:
    """The terminal loop over the lines of `stream` (stdin, or any file-like object)."""
    await client.open()
    try:
        async for raw in _lines(stream):
            line = raw.strip()
            if not line:
                continue
            command, _, rest = line.partition(" ")
            if command == "/quit":
                break
            if command == "/new":
                client.conversation = None
                client.write("[new conversation]\n")
            elif command in ("/up", "/down"):
                await client.rate(command[1:], rest.strip())
            else:
                await client.ask(line)
            if prompt:
                prompt("> ")
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.client", description=__doc__)
    parser.add_argument("--url", default="ws://127.0.0.1:8000/ws/chat/")
    parser.add_argument(
        "--token", default=os.environ.get("DOCENT_TOKEN", ""), help="or set DOCENT_TOKEN"
    )
    args = parser.parse_args(argv)
    if not args.token:
        parser.error(
            "a token is needed: --token or DOCENT_TOKEN (create one on the API tokens page)"
        )

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    interactive = sys.stdin.isatty()
    if interactive:
        write("Ask a question (/up, /down [comment], /new, /quit).\n> ")
    client = ChatClient(args.url, args.token, write=write)
    try:
        asyncio.run(run(client, sys.stdin, prompt=write if interactive else None))
    except ProtocolError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
