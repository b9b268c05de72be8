"""What a reader does around an answer, in the real browser: rate, copy, regenerate, manage
conversations, come back after a reload, and all of it at phone width with the keyboard."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from chatbot.models import Conversation, Feedback, Message
from config import model_workers
from tests.e2e.test_chat_page import sign_in
from tests.support.corpus import HANDBOOK_VACATION, ingest_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

QUESTION = "How many vacation days do full-time employees get?"


@pytest.fixture
def vacation_policy(handbook):
    return ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)


def ask(page, text: str) -> None:
    expect(page.locator("#send")).to_be_enabled(timeout=30_000)
    page.fill("#question", text)
    page.keyboard.press("Enter")
    expect(page.locator(".msg.assistant").last.locator(".actions")).to_be_visible(timeout=180_000)


def test_a_reader_rates_an_answer_down_with_a_comment_and_copies_it(
    vacation_policy, live_url, page, dave
):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, live_url, "dave", "pw-dave")
    # Always there: answers are generated and should be checked against their sources.
    expect(page.locator("#notice")).to_contain_text("check them against the quoted sources")
    ask(page, QUESTION)
    answer = page.locator(".msg.assistant").last

    answer.get_by_role("button", name="Copy answer").click()
    expect(page.locator("#status")).to_have_text("Answer copied.")
    assert "28" in page.evaluate("navigator.clipboard.readText()")

    answer.get_by_role("button", name="Not helpful").click()
    answer.get_by_label("What was wrong? (optional)").fill("It should mention part-time staff.")
    answer.get_by_role("button", name="Send feedback").click()
    expect(answer.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "true"
    )

    rated = Feedback.objects.get()
    assert (rated.rating, rated.comment) == ("down", "It should mention part-time staff.")
    asked = rated.message.conversation.messages.filter(role=Message.Role.USER).get()
    assert (rated.message.conversation.user, asked.text) == (dave, QUESTION)
    # Still pressed after a reload: the page shows the reader's own rating.
    page.reload()
    expect(
        page.locator(".msg.assistant").last.get_by_role("button", name="Not helpful")
    ).to_have_attribute("aria-pressed", "true")


def test_conversations_appear_live_and_can_be_renamed_searched_and_deleted(
    vacation_policy, live_url, page, dave
):
    sign_in(page, live_url, "dave", "pw-dave")
    ask(page, QUESTION)
    sidebar = page.locator("#conversation-list")
    # In the sidebar at once, dated, without navigating.
    item = sidebar.locator(".conversation").first
    expect(item.locator("a")).to_have_text(QUESTION[:47] + "…", timeout=10_000)
    expect(item.locator("time")).to_have_text(re.compile(r"\d{1,2} \w{3}, \d\d:\d\d"))

    item.locator("summary").click()
    item.get_by_role("textbox", name="Rename").fill("Vacation days")
    item.get_by_role("button", name="Save").click()
    expect(sidebar.locator(".conversation a").first).to_have_text("Vacation days")
    assert Conversation.objects.get().title == "Vacation days"

    page.get_by_label("Search conversations").fill("payroll")
    expect(sidebar).to_contain_text("No conversation matches")
    page.get_by_label("Search conversations").fill("vacation")
    expect(sidebar.locator(".conversation a")).to_have_text(["Vacation days"])

    page.once("dialog", lambda dialog: dialog.accept())
    sidebar.locator(".conversation summary").first.click()
    sidebar.get_by_role("button", name="Delete").click()
    # It was the conversation on screen: a new one opens, and nothing of it is left.
    expect(page).to_have_url(f"{live_url}/")
    assert not Conversation.objects.exists() and not Message.objects.exists()


@contextmanager
def model_frozen() -> Iterator[None]:
    """The suite's model worker stops answering (SIGSTOP) until the block ends: an answer
    is held in flight after its evidence, however fast the model is."""
    worker = model_workers._llm_info()
    assert worker is not None, "the suite's model worker is not running"
    pid = worker["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_a_question_in_flight_survives_a_reload(vacation_policy, live_url, page, dave):
    sign_in(page, live_url, "dave", "pw-dave")
    expect(page.locator("#send")).to_be_enabled(timeout=30_000)
    with model_frozen():
        page.fill("#question", QUESTION)
        page.keyboard.press("Enter")
        # The address names the conversation as soon as the question is saved.
        expect(page).to_have_url(re.compile(r"/c/\d+/$"), timeout=60_000)
        expect(page.locator(".msg.assistant").last.locator(".text")).to_contain_text(
            "28", timeout=120_000
        )
        page.reload()
        expect(page.locator(".msg.user").first).to_have_text(QUESTION)
        expect(page.locator("#pending")).to_contain_text("Still being answered")
    # The model goes on; the answer the reloaded page was waiting for takes the placeholder's place.
    answer = page.locator(".msg.assistant").first
    expect(answer.locator(".sources a")).to_have_text("Vacation and leave", timeout=180_000)
    expect(answer.locator(".text")).to_contain_text("28")
    expect(page.locator("#pending")).to_have_count(0)


def test_at_phone_width_the_sidebar_is_a_drawer_and_the_question_box_keeps_its_room(
    vacation_policy, live_url, page, dave
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_url, "dave", "pw-dave")
    expect(page.locator("#send")).to_be_enabled(timeout=30_000)

    assert page.locator("#question").bounding_box()["width"] > 250
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.locator("#conversations")).to_be_hidden()
    sign_out = page.get_by_role("button", name=re.compile("Sign out"))
    box = sign_out.bounding_box()
    assert box["x"] + box["width"] <= 390

    # The keyboard alone: open the drawer, reach the list, close it with Escape.
    page.get_by_role("button", name="Conversations").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#conversations")).to_be_visible()
    expect(page.get_by_role("link", name="New conversation")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#conversations")).to_be_hidden()
    expect(page.get_by_role("button", name="Conversations")).to_be_focused()

    ask(page, QUESTION)
    expect(page.locator(".msg.assistant").last.locator(".text")).to_contain_text("28")


def test_the_counter_shows_near_the_limit(live_url, page, dave):
    sign_in(page, live_url, "dave", "pw-dave")
    page.fill("#question", "x" * 1500)
    expect(page.locator("#counter")).to_have_text("")
    page.fill("#question", "x" * 1950)
    expect(page.locator("#counter")).to_have_text("1,950 / 2,000 characters")
