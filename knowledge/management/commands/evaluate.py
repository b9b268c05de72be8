"""Measure retrieval quality on a QA set: Docent against the plain baseline, in one run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.cli import reader_from_option
from config.management.database import database_ready
from evaluation.metrics import QASetError, qa_load, report_text
from evaluation.run import evaluation_run
from knowledge.selectors import reader_scope


class Command(BaseCommand):
    help = (
        "hit@1, hit@5 and MRR@10 at document level for a QA set (JSON lines with "
        '"question" and "expected"), as an operator or as --user would be served.'
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("qa", metavar="QA.jsonl")
        parser.add_argument("--user")
        parser.add_argument("--json", action="store_true", dest="as_json")
        parser.add_argument(
            "--baseline",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="also run the plain 1000-character-chunk cosine baseline (default: on)",
        )
        parser.add_argument("-k", type=int, default=10, help="chunk hits per question (default 10)")

    def handle(
        self,
        *args: object,
        qa: str,
        user: str | None,
        as_json: bool,
        baseline: bool,
        k: int,
        **options: object,
    ) -> None:
        if k < 1:
            raise CommandError("-k must be at least 1.")
        database_ready(notices=self.stderr)
        reader = reader_from_option(user)
        path = Path(qa)
        if not path.is_file():
            raise CommandError(f"No such QA file: {qa}")
        try:
            items = qa_load(path)
        except QASetError as exc:
            raise CommandError(str(exc)) from exc
        evaluation = evaluation_run(
            items=items,
            scope=reader_scope(reader),
            qa=qa,
            reader=user or "operator",
            k=k,
            baseline=baseline,
        )
        if as_json:
            self.stdout.write(json.dumps(evaluation.as_json()))
        else:
            self.stdout.write(report_text(evaluation))
