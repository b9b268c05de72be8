"""The dashboard's figures from real answers in the database, and who sees which."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chatbot.insight import answers_in_scope, columns, dashboard
from chatbot.models import Outcome
from knowledge.collections import collection_ensure
from tests.support.answers import asked, hr_knowledge_manager

pytestmark = pytest.mark.django_db


@pytest.fixture
def hr_private(db):
    return collection_ensure(slug="hr", name="HR confidential", public=False, groups=["HR"])


@pytest.fixture
def engineering(db):
    return collection_ensure(
        slug="engineering", name="Engineering", public=False, groups=["Engineering"]
    )


@pytest.fixture
def month(bob, carol, dave, hr_private, engineering):
    """Engineering: bob asks three things today (one cached, one abstained, one 👎) and one
    three days ago. HR: carol asks twice today (one 👍). dave reads nothing: one question
    that searched no collection."""
    asked(bob, "How do I deploy to staging?", searched=[engineering], first_token=400)
    asked(
        bob,
        "Where are the runbooks?",
        searched=[engineering],
        outcome=Outcome.CACHED,
        first_token=20,
    )
    asked(
        bob,
        "Who owns the billing service?",
        searched=[engineering],
        outcome=Outcome.ABSTAINED,
        first_token=300,
        rating="down",
    )
    asked(
        bob,
        "How do I rotate the database password?",
        searched=[engineering],
        days_ago=3,
        first_token=1000,
    )
    asked(
        carol,
        "When are salary bands reviewed?",
        searched=[hr_private],
        first_token=600,
        rating="up",
    )
    asked(carol, "What is the merit budget?", searched=[hr_private], first_token=800)
    asked(dave, "Is the canteen open?", searched=[], outcome=Outcome.ABSTAINED, first_token=50)


def test_the_superuser_counts_every_answer_per_day_and_per_collection(alice, month) -> None:
    figures = dashboard(user=alice)

    assert len(figures.days) == 30
    today, three_days_ago = figures.days[-1], figures.days[-4]
    assert today.label == timezone.localdate().isoformat()
    assert (today.questions, today.people, today.cached, today.abstained) == (6, 3, 1, 2)
    assert (today.up, today.down) == (1, 1)
    assert today.first_token_ms == 350  # median of 400, 20, 300, 600, 800, 50
    assert (three_days_ago.questions, three_days_ago.people) == (1, 1)
    assert sum(day.questions for day in figures.days) == 7 == figures.total.questions
    assert figures.total.cache_hit_rate == pytest.approx(1 / 7)
    assert figures.total.up_share == 0.5

    engineering, hr = figures.collections
    assert (engineering.label, engineering.questions, engineering.people) == ("Engineering", 4, 1)
    assert (engineering.cached, engineering.abstained, engineering.down) == (1, 1, 1)
    assert engineering.first_token_ms == 350  # median of 400, 20, 300, 1000
    assert (hr.label, hr.questions, hr.up, hr.down) == ("HR confidential", 2, 1, 0)


def test_hr_s_manager_sees_hr_s_figures_only(month) -> None:
    manager = hr_knowledge_manager()

    figures = dashboard(user=manager)

    assert figures.total.questions == 2 and figures.total.people == 1
    assert [row.label for row in figures.collections] == ["HR confidential"]
    assert answers_in_scope(user=manager).count() == 2


def test_an_employee_counts_nothing(bob, month) -> None:
    assert answers_in_scope(user=bob).count() == 0


def test_older_answers_than_the_period_are_left_out(alice, bob, engineering) -> None:
    asked(bob, "How do I deploy to staging?", searched=[engineering], days_ago=40)

    figures = dashboard(user=alice)

    assert figures.total.questions == 0 and figures.total.first_token_ms is None


def test_the_page_shows_counts_but_no_names_and_no_questions(client, alice, month) -> None:
    client.force_login(alice)

    page = client.get(reverse("insight")).content.decode()

    assert 'id="total-questions">7<' in page
    assert page.count('class="bar"') == 30
    for secret in ("bob", "carol", "dave", "deploy", "salary", "canteen", "merit"):
        assert secret not in page.lower(), secret


def test_only_staff_reach_the_dashboard(client, alice, bob, month) -> None:
    assert client.get(reverse("insight")).status_code == 302  # to the sign-in page
    client.force_login(bob)
    assert client.get(reverse("insight")).status_code == 403
    client.force_login(hr_knowledge_manager())
    page = client.get(reverse("insight")).content.decode()
    assert 'id="total-questions">2<' in page and "Engineering" not in page


def test_columns_scale_the_tallest_bar_to_the_chart_and_keep_empty_days() -> None:
    chart = columns(title="Questions", values=[("a", 0), ("b", 5), ("c", 10)], height=100)

    assert [bar.height for bar in chart.bars] == [0, 50, 100]
    assert [bar.y for bar in chart.bars] == [100, 50, 0]
    assert chart.maximum == 10


def test_a_day_boundary_in_the_past_month_is_a_day_of_its_own(alice, bob, engineering) -> None:
    asked(bob, "How do I deploy to staging?", searched=[engineering], days_ago=29)

    figures = dashboard(user=alice)

    assert figures.days[0].label == (timezone.localdate() - timedelta(days=29)).isoformat()
    assert figures.days[0].questions == 1


def test_the_menu_offers_insight_to_staff_and_the_audit_log_to_superusers(
    client, alice, bob, hr
) -> None:
    menus = {}
    for user in (alice, hr_knowledge_manager(), bob):
        client.force_login(user)
        menus[user.username] = client.get("/").content.decode()

    assert 'href="/insight/"' in menus["alice"] and 'href="/audit/"' in menus["alice"]
    manager = hr_knowledge_manager().username
    assert 'href="/insight/"' in menus[manager] and 'href="/audit/"' not in menus[manager]
    assert 'href="/insight/"' not in menus["bob"] and 'href="/audit/"' not in menus["bob"]
