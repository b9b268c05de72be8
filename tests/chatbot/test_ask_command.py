"""`manage.py ask`: one question, or `-` for one question a line from stdin, one JSON line each.

Real parts throughout: documents ingested by the ingest command, the embedded
PostgreSQL, the embedding model and the bundled model worker.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from chatbot.answering import DoneEvent, TokenEvent
from chatbot.management.commands import ask as ask_command
from knowledge.models import Collection

pytestmark = pytest.mark.django_db(transaction=True)  # answering reads from other threads

VACATION = """# Vacation and leave

## Employees
Full-time employees get 28 vacation days per year. Up to 5 unused days carry over to March.
"""

SALARY = """# Salary bands 2026

## Merit budget
The 2026 merit budget is 3.7 percent of payroll. Managers receive their allocation in March.
"""

VACATION_Q = "How many vacation days do full-time employees get?"
MERIT_Q = "What is the 2026 merit budget?"
ANSWER_KEYS = {"answer", "sources", "cached", "timings", "standalone_question", "searched"}


@pytest.fixture
def documents(tmp_path: Path, handbook: Collection, hr: Collection) -> None:
    (tmp_path / "handbook").mkdir()
    (tmp_path / "hr").mkdir()
    (tmp_path / "handbook" / "vacation.md").write_text(VACATION)
    (tmp_path / "hr" / "salary.md").write_text(SALARY)
    for slug in ("handbook", "hr"):
        call_command("ingest", str(tmp_path / slug), "--collection", slug, "--sync",
                     stdout=io.StringIO())


def ask(*args: str, stdin: str | None = None) -> tuple[int, str]:
    """Run the command; return (exit status, what it printed)."""
    out = io.StringIO()
    code = 0
    extra = {"stdin": io.StringIO(stdin)} if stdin is not None else {}
    try:
        call_command("ask", *args, stdout=out, **extra)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue()


def test_each_line_of_stdin_gets_one_json_line_in_order_and_blank_lines_are_skipped(
    documents: None,
) -> None:
    code, out = ask("-", "--json", stdin=f"{VACATION_Q}\n\n   \n{MERIT_Q}\n")

    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["question"] for row in rows] == [VACATION_Q, MERIT_Q]
    assert all(set(row) == {"question"} | ANSWER_KEYS for row in rows)
    vacation, merit = rows
    assert "28" in vacation["answer"]
    assert vacation["sources"][0]["path"] == "vacation.md"  # the evidence; a close runner-up may follow
    assert "3.7" in merit["answer"]
    assert merit["sources"][0]["path"] == "salary.md"
    # Without --user the operator reads every collection.
    assert set(merit["searched"]) == {"Employee handbook", "HR confidential"}


def test_with_user_every_question_is_served_as_that_user_would_be(
    documents: None, dave: User
) -> None:
    code, out = ask("-", "--json", "--user", "dave", stdin=f"{MERIT_Q}\n{VACATION_Q}\n")

    assert code == 0
    merit, vacation = (json.loads(line) for line in out.splitlines())
    assert merit["searched"] == vacation["searched"] == ["Employee handbook"]
    assert "3.7" not in merit["answer"]
    assert "salary.md" not in [s["path"] for s in merit["sources"]]
    assert "28" in vacation["answer"]


def test_the_single_question_form_prints_one_json_object_without_the_question(
    documents: None,
) -> None:
    code, out = ask(VACATION_Q, "--json")

    assert code == 0
    [line] = out.splitlines()
    row = json.loads(line)
    assert set(row) == ANSWER_KEYS
    assert "28" in row["answer"]


def test_an_unknown_user_is_refused_before_any_question_is_read(db: None) -> None:
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        ask("-", "--json", "--user", "nobody", stdin=f"{VACATION_Q}\n")


def test_a_question_that_fails_is_reported_on_its_own_line_and_the_rest_are_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A unit test of the batch loop: answering itself is faked, so one question can fail for sure.
    async def answer_question(
        *, user: User | None, question: str, conversation_id: int | None = None, save: bool = True
    ) -> AsyncIterator[TokenEvent | DoneEvent]:
        if question == "boom":
            raise RuntimeError("the model fell over")
        yield TokenEvent(f"About {question}.")
        yield DoneEvent(answer=f"About {question}.", sources=[], cached=False, timings={},
                        conversation=None, standalone_question=question)

    monkeypatch.setattr(ask_command, "answer_question", answer_question)

    code, out = ask("-", "--json", stdin="first\nboom\nlast\n")

    assert code == 1
    first, failed, last = (json.loads(line) for line in out.splitlines())
    assert failed == {"question": "boom", "error": "RuntimeError: the model fell over"}
    assert (first["question"], first["answer"]) == ("first", "About first.")
    assert (last["question"], last["answer"]) == ("last", "About last.")
