"""Answers and documents render Markdown in a real browser, and nothing hostile in them runs.

Each hostile string tries to set `window.pwned` or open a dialog; the page
must show it as text and build no element from it.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Dialog, Page, expect

from accounts.models import User
from chatbot.models import Conversation, Message
from knowledge.models import Collection, Document
from tests.e2e.test_chat_page import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOSTILE = (
    '<img src=x onerror="window.pwned=1;alert(1)"> '
    "<script>window.pwned=2;alert(2)</script> "
    "[open the form](javascript:window.pwned=3;alert(3))"
)

ANSWER = f"""> Interns earn **2 paid vacation days** per full month of internship.

- Days are earned *monthly*
- Unused days are paid out at the end

Check your balance with `hr balance`. {HOSTILE}
"""

PARKING = f"""Visitor parking

Visitors park in **bay 7** next to the loading dock {HOSTILE} and sign in at reception.
"""


def watch_for_execution(page: Page) -> list[str]:
    """Dialogs that opened; the test fails if any did."""
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return dialogs


def assert_nothing_ran(page: Page, dialogs: list[str]) -> None:
    assert page.evaluate("() => window.pwned") is None
    assert dialogs == []
    # The sanitiser's own part, apart from the page's Content-Security-Policy.
    assert page.locator("main img, main script, main [onerror], main [onclick]").count() == 0
    assert page.locator('main a[href^="javascript"]').count() == 0


@pytest.fixture
def intern_conversation(dave: User) -> Conversation:
    # Before the browser starts: Playwright's sync API runs an event loop in this thread.
    conversation = Conversation.objects.create(user=dave, title="Interns")
    Message.objects.create(conversation=conversation, role=Message.Role.USER, text=f"Interns? {HOSTILE}")
    Message.objects.create(conversation=conversation, role=Message.Role.ASSISTANT, text=ANSWER)
    return conversation


@pytest.fixture
def parking(handbook: Collection, tmp_path: Path) -> Document:
    (tmp_path / "parking.txt").write_text(PARKING)
    call_command("ingest", str(tmp_path / "parking.txt"), "--collection", "handbook", "--sync",
                 stdout=io.StringIO())
    return Document.objects.get(original_name="parking.txt")


def test_a_reloaded_answer_shows_a_list_bold_and_code_and_its_hostile_text_stays_text(
    intern_conversation: Conversation, live_url: str, page: Page, dave: User
) -> None:
    dialogs = watch_for_execution(page)
    sign_in(page, live_url, "dave", "pw-dave")
    page.goto(f"{live_url}/c/{intern_conversation.pk}/")

    answer = page.locator(".msg.assistant .text")
    expect(answer.locator("blockquote strong")).to_have_text("2 paid vacation days")
    expect(answer.locator("ul > li")).to_have_text(["Days are earned monthly", "Unused days are paid out at the end"])
    expect(answer.locator("li em")).to_have_text("monthly")
    expect(answer.locator("code")).to_have_text("hr balance")
    expect(answer).to_contain_text('<img src=x onerror="window.pwned=1;alert(1)">')
    expect(answer).to_contain_text("<script>window.pwned=2;alert(2)</script>")
    # The question is shown as typed: as text, not markup.
    expect(page.locator(".msg.user .text")).to_contain_text("<script>window.pwned=2")
    answer.get_by_text("[open the form](javascript:").click()
    assert_nothing_ran(page, dialogs)


def test_a_streamed_answer_becomes_rendered_markup_at_done_and_a_hostile_document_runs_nothing(
    parking: Document, live_url: str, page: Page, dave: User
) -> None:
    dialogs = watch_for_execution(page)
    sign_in(page, live_url, "dave", "pw-dave")
    expect(page.locator("#send")).to_be_enabled(timeout=30_000)

    page.fill("#question", "Where do visitors park?")
    page.keyboard.press("Enter")

    answer = page.locator(".msg.assistant").last
    expect(answer.locator(".sources a")).to_have_count(1, timeout=180_000)  # `done` arrived
    expect(answer.locator(".text strong").first).to_have_text("bay 7")
    expect(answer.locator(".text")).to_contain_text('<img src=x onerror="window.pwned=1;alert(1)">')
    assert_nothing_ran(page, dialogs)

    answer.locator(".sources a").click()
    expect(page).to_have_url(re.compile(rf"/documents/{parking.pk}/"))
    passage = page.locator(".chunk.highlighted .md")
    expect(passage.locator("strong")).to_have_text("bay 7")
    expect(passage).to_contain_text("<script>window.pwned=2;alert(2)</script>")
    assert_nothing_ran(page, dialogs)
