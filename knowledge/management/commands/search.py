"""Search the knowledge base from the command line; `-` reads one query a line from stdin."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand

from accounts.cli import reader_from_option
from config.management.database import database_ready
from knowledge.embeddings import embed_query
from knowledge.search import chunk_search
from knowledge.selectors import reader_scope


class Command(BaseCommand):
    help = "Search passages as an operator (every collection) or as --user would."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("query", help="the query, or - to read one query per line from stdin")
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument("-k", type=int, default=5)
        parser.add_argument("--user")

    def handle(
        self, *args: object, query: str, as_json: bool, k: int, user: str | None, **options: object
    ) -> None:
        database_ready(notices=self.stderr)
        reader = reader_from_option(user)
        scope = reader_scope(reader)
        queries = (line.strip() for line in sys.stdin) if query == "-" else iter([query])
        for text in queries:
            if not text:
                continue
            hits = chunk_search(scope=scope, query=text, vector=embed_query(text), k=k)
            if as_json:
                self.stdout.write(json.dumps({"query": text, "hits": [h.as_json() for h in hits]}))
                self.stdout.flush()
                continue
            self.stdout.write(f"# {text}")
            for n, hit in enumerate(hits, start=1):
                where = f" > {hit.heading}" if hit.heading else ""
                self.stdout.write(f"{n}. [{hit.score:.4f}] {hit.title}{where} ({hit.path})")
                self.stdout.write("   " + hit.text[:200].replace("\n", " "))
