"""Ask a question from the command line, as an operator or exactly as a named user."""

from __future__ import annotations

import asyncio
import json

from django.core.management.base import BaseCommand

from accounts.cli import reader_from_option
from chatbot.answering import DoneEvent, TokenEvent, answer_question
from config import embedded


class Command(BaseCommand):
    help = "Answer a question from the documents (streams text, or prints JSON with --json)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("question")
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
        reader = reader_from_option(user)
        streamed, done = asyncio.run(self._run(reader, question, stream=not as_json))
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "answer": done.answer,
                        "sources": done.sources,
                        "cached": done.cached,
                        "timings": done.timings,
                        "standalone_question": done.standalone_question,
                        "searched": done.searched,
                    }
                )
            )
        else:
            # `done` carries the final answer: grounding may have replaced or extended it.
            if done.answer.startswith(streamed):
                self.stdout.write(done.answer[len(streamed) :])
            else:
                self.stdout.write(f"\n\n{done.answer}")
            for source in done.sources:
                where = f" > {source['heading']}" if source["heading"] else ""
                page = f", page {source['page']}" if source["page"] else ""
                self.stdout.write(
                    f"[{source['n']}] {source['title']}{where}{page} ({source['path']})"
                )

    async def _run(self, reader, question: str, *, stream: bool) -> tuple[str, DoneEvent]:  # type: ignore[no-untyped-def]
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
