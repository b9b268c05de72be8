"""An employee signs in, asks, watches the answer stream, and opens the cited passage."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.corpus import HANDBOOK_VACATION, ingest_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


@pytest.fixture
def vacation_policy(handbook):
    # Before the browser starts: Playwright's sync API runs an event loop in this thread.
    return ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)


def test_an_employee_gets_a_streamed_answer_with_a_source_that_opens_highlighted(
    vacation_policy, live_url, page, dave
):
    sign_in(page, live_url, "dave", "pw-dave")
    expect(page.locator("#send")).to_be_enabled(timeout=30_000)

    page.fill("#question", "How many vacation days do full-time employees get?")
    page.keyboard.press("Enter")

    answer = page.locator(".msg.assistant").last
    expect(answer.locator(".sources a")).to_have_text("Vacation and leave", timeout=180_000)
    expect(answer.locator(".text")).to_contain_text("28")
    expect(page).to_have_url(re.compile(r"/c/\d+/$"))

    answer.locator(".sources a").click()
    expect(page.locator(".chunk.highlighted")).to_contain_text("28 vacation days")


def test_signing_in_with_a_wrong_password_shows_an_error(live_url, page, dave):
    sign_in(page, live_url, "dave", "wrong")
    expect(page.locator(".error")).to_contain_text("didn't match")
