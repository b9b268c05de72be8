"""A staff member looks at the insight pages in the real browser: the chart of questions
over time is drawn (one bar a day, as tall as its count), and the gaps page lists a group."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatbot.models import Outcome
from tests.e2e.test_chat_page import sign_in
from tests.support.answers import asked

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def questions(bob, engineering):
    # Before the browser starts: Playwright's sync API runs an event loop in this thread.
    asked(bob, "How do I deploy to staging?", searched=[engineering])
    asked(bob, "Who owns the billing service?", searched=[engineering], outcome=Outcome.ABSTAINED)
    asked(bob, "Which team owns billing?", searched=[engineering], outcome=Outcome.ABSTAINED)
    asked(bob, "Where are the runbooks?", searched=[engineering], days_ago=2)


def test_the_dashboard_draws_a_bar_a_day_and_the_gaps_page_lists_a_group(
    questions, alice, live_url, page
):
    sign_in(page, live_url, "alice", "pw-alice")
    page.get_by_role("link", name="Insight").click()

    chart = page.locator("#questions-chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("rect.bar")).to_have_count(30)
    expect(chart.locator("title").first).to_contain_text("Questions per day")
    today, two_days_ago = chart.locator("rect.bar").nth(29), chart.locator("rect.bar").nth(27)
    assert today.get_attribute("data-value") == "3"
    assert two_days_ago.get_attribute("data-value") == "1"
    # Drawn to scale: today's bar is three times as tall as the one two days ago.
    today_box, earlier_box = today.bounding_box(), two_days_ago.bounding_box()
    assert today_box and earlier_box
    assert today_box["height"] == pytest.approx(3 * earlier_box["height"], rel=0.05)
    expect(page.locator("#per-day tbody tr")).to_have_count(30)
    expect(page.locator("#per-collection")).to_contain_text("Engineering")

    page.get_by_role("link", name="Knowledge gaps").click()
    gap = page.locator("#gap-1")
    expect(gap).to_contain_text("2 questions")
    expect(gap.locator("ul.examples li")).to_have_count(2)
    expect(page.locator("#gaps-chart rect.bar")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("bob")
