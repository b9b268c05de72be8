"""Ask a question from the command line, as an operator or exactly as a named user.

`ask -` reads one question a line from stdin and answers them one after the
other in one process and one event loop, so the embedding model, the reranker
and the model worker's connection are set up once, not once per question.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys

from django.core.management.base import BaseCommand, CommandParser

from accounts.cli import reader_from_option
from accounts.readers import Reader
from chatbot.answering import DoneEvent, TokenEvent, answer_question
from config import embedded
from config.logs import content
from config.management.database import database_ready

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Answer a question from the documents (streams text, or prints JSON with --json); "
        "QUESTION of - reads one question a line from stdin."
    )
    # Tests hand in their own stdin through call_command(..., stdin=...).
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("question", help="the question, or - to read one question a line from stdin")
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument(
            "--user",
            help="answer as this user would be served (default: operator, every collection)",
        )

    def handle(
        self, *args: object, question: str, as_json: bool, user: str | None, **options: object
    ) -> None:
        # The answer cache lives in Redis; the model worker is started and waited for here,
        # once, because the LLM client only reads where it is.
        embedded.ensure_services(redis=True, llm=True)
        database_ready(notices=self.stderr)  # a bare checkout: the embedded database migrates
        reader = reader_from_option(user)
        if question == "-":
            stdin = options.get("stdin") or sys.stdin
            assert isinstance(stdin, io.TextIOBase), stdin
            failed = asyncio.run(self._batch(reader, stdin, as_json=as_json))
            if failed:
                # Every line was still answered or reported; the status tells scripts some failed.
                raise SystemExit(1)
            return
        streamed, done = asyncio.run(self._run(reader, question, stream=not as_json))
        if as_json:
            self.stdout.write(json.dumps(_done_json(done)))
        else:
            self._print_text(streamed, done)

    async def _batch(self, reader: Reader, stdin: io.TextIOBase, *, as_json: bool) -> int:
        """Answer each non-empty line of `stdin` in order; return how many failed."""
        failed = 0
        while True:
            # Off the event loop: a script may feed lines slowly, and answering has tasks of its own.
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                return failed
            question = line.strip()
            if not question:
                continue
            if not as_json:
                self.stdout.write(f"# {question}")
            try:
                streamed, done = await self._run(reader, question, stream=not as_json)
            except Exception as exc:  # noqa: BLE001 - one bad question must not lose the rest
                log.exception("answering a question failed: %s", content(question))
                failed += 1
                message = f"{type(exc).__name__}: {exc}"
                if as_json:
                    self.stdout.write(json.dumps({"question": question, "error": message}))
                else:
                    self.stderr.write(f"failed: {message}")
            else:
                if as_json:
                    self.stdout.write(json.dumps({"question": question, **_done_json(done)}))
                else:
                    self._print_text(streamed, done)
                    self.stdout.write("")
            # One line per question as soon as it is answered, for whoever reads the pipe.
            self.stdout.flush()

    def _print_text(self, streamed: str, done: DoneEvent) -> None:
        # `done.answer` is exactly the streamed text; print it if nothing was streamed.
        if not streamed:
            self.stdout.write(done.answer)
        self.stdout.write("")
        for source in done.sources:
            where = f" > {source.heading}" if source.heading else ""
            page = f", page {source.page}" if source.page else ""
            self.stdout.write(f"[{source.n}] {source.title}{where}{page} ({source.path})")

    async def _run(
        self, reader: Reader, question: str, *, stream: bool
    ) -> tuple[str, DoneEvent]:
        done, streamed = None, ""
        async for event in answer_question(user=reader, question=question, save=False):
            if isinstance(event, TokenEvent) and stream:
                streamed += event.text
                self.stdout.write(event.text, ending="")
                self.stdout.flush()
            elif isinstance(event, DoneEvent):
                done = event
        assert done is not None
        return streamed, done


def _done_json(done: DoneEvent) -> dict[str, object]:
    return {
        "answer": done.answer,
        "sources": [source.model_dump() for source in done.sources],
        "cached": done.cached,
        "timings": done.timings,
        "standalone_question": done.standalone_question,
        "searched": done.searched,
    }
