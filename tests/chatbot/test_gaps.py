"""The knowledge gaps from real answers: grouped by meaning, scoped to the manager, gone
once a new document answers them, and their conversations private unless allowed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from chatbot.gaps import gap_questions, gaps_group, gaps_open
from chatbot.models import Outcome
from knowledge.collections import collection_ensure
from tests.support.answers import asked, hr_knowledge_manager
from tests.support.corpus import HR_SALARY, ingest_text

pytestmark = pytest.mark.django_db

PARENTAL = [
    "How many weeks of parental leave do new parents get?",
    "How long is parental leave for new parents?",
    "parental leave weeks for a new parent",
    "How many weeks of parental leave does a new parent get?",
]
PARENTAL_LEAVE_POLICY = """# Parental leave

## New parents
New parents get 16 weeks of paid parental leave, to be taken within the first year.
"""


@pytest.fixture
def hr_private(db):
    return collection_ensure(slug="hr", name="HR confidential", public=False, groups=["HR"])


@pytest.fixture
def engineering(db):
    return collection_ensure(
        slug="engineering", name="Engineering", public=False, groups=["Engineering"]
    )


@pytest.fixture
def parental_gap(carol, hr_private):
    return [
        asked(carol, question, searched=[hr_private], outcome=Outcome.ABSTAINED)
        for question in PARENTAL
    ]


@pytest.fixture
def billing_gap(bob, engineering):
    return asked(
        bob, "Who owns the billing service?", searched=[engineering], outcome=Outcome.ABSTAINED
    )


def test_questions_asking_the_same_thing_form_one_group(alice, parental_gap, billing_gap) -> None:
    groups = gaps_group(gap_questions(user=alice))

    assert [group.count for group in groups] == [4, 1]
    parental, billing = groups
    assert parental.title in PARENTAL
    assert len(parental.examples) == 3 and set(parental.examples) <= set(PARENTAL)
    assert parental.examples[0] == PARENTAL[-1]  # the latest first
    assert billing.title == "Who owns the billing service?"


def test_a_thumbs_down_is_a_gap_and_a_good_answer_is_not(alice, bob, engineering) -> None:
    asked(bob, "How do I deploy to staging?", searched=[engineering])
    asked(bob, "Who is on call this week?", searched=[engineering], rating="down")
    asked(bob, "Where are the runbooks?", searched=[engineering], rating="up")

    [group] = gaps_group(gap_questions(user=alice))

    assert group.examples == ["Who is on call this week?"]
    assert (group.rated_down, group.abstained) == (1, 0)


def test_older_questions_than_the_period_are_left_out(alice, bob, engineering) -> None:
    asked(
        bob,
        "Who owns the billing service?",
        searched=[engineering],
        outcome=Outcome.ABSTAINED,
        days_ago=91,
    )

    assert gap_questions(user=alice) == []


# Committed: retrieval may read from another thread's connection (chatbot.db.in_pool).
@pytest.mark.django_db(transaction=True)
def test_hr_s_manager_sees_hr_s_gaps_only(alice, parental_gap, billing_gap) -> None:
    manager = hr_knowledge_manager()

    [group] = gaps_open(user=manager)

    assert group.count == 4 and group.collection_names == ["HR confidential"]
    assert len(gaps_open(user=alice)) == 2


# Committed: retrieval may read from another thread's connection (chatbot.db.in_pool).
@pytest.mark.django_db(transaction=True)
def test_a_gap_goes_once_a_new_document_answers_it(hr_private, parental_gap) -> None:
    manager = hr_knowledge_manager()
    assert [gap.count for gap in gaps_open(user=manager)] == [4]

    ingest_text(hr_private, "salary.md", HR_SALARY)  # new, but answers something else
    assert [gap.count for gap in gaps_open(user=manager)] == [4]

    ingest_text(hr_private, "parental-leave.md", PARENTAL_LEAVE_POLICY)
    assert gaps_open(user=manager) == []


# Committed: retrieval may read from another thread's connection (chatbot.db.in_pool).
@pytest.mark.django_db(transaction=True)
def test_a_thumbs_down_stays_until_a_newer_document_answers_it(carol, hr_private) -> None:
    ingest_text(hr_private, "parental-leave.md", PARENTAL_LEAVE_POLICY)
    asked(carol, PARENTAL[0], searched=[hr_private], rating="down")  # answered, but badly

    [group] = gaps_open(user=hr_knowledge_manager())

    assert group.rated_down == 1


def test_the_page_lists_the_groups_without_who_asked(client, alice, parental_gap, billing_gap):
    client.force_login(alice)

    page = client.get(reverse("knowledge_gaps")).content.decode()

    assert 'id="gap-1"' in page and 'id="gap-2"' in page and 'id="gap-3"' not in page
    assert "Who owns the billing service?" in page
    assert page.count('class="bar"') == 2
    assert "carol" not in page and "bob" not in page
    assert "/insight/gaps/conversations/" not in page  # private by default


def test_conversations_stay_private_unless_the_setting_allows(client, parental_gap) -> None:
    client.force_login(hr_knowledge_manager())
    conversation = parental_gap[0].conversation_id

    response = client.get(reverse("gap_conversation", args=[conversation]))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="conversation_view").exists()


def test_with_the_setting_a_manager_reads_a_gap_s_conversation_and_it_is_logged(
    client, settings, parental_gap, billing_gap, bob
) -> None:
    settings.INSIGHT_SHOW_CONVERSATIONS = True
    manager = hr_knowledge_manager()
    client.force_login(manager)
    conversation = parental_gap[0].conversation_id

    page = client.get(reverse("knowledge_gaps")).content.decode()
    assert reverse("gap_conversation", args=[conversation]) in page
    response = client.get(reverse("gap_conversation", args=[conversation]))

    assert response.status_code == 200 and PARENTAL[0] in response.content.decode()
    [viewed] = AuditEvent.objects.filter(action="conversation_view")
    assert viewed.actor == manager and viewed.detail["owner"] == "carol"
    assert viewed.target == f"conversation {conversation}"
    # Engineering's gap is not hers to read; an employee reads no one's.
    other = billing_gap.conversation_id
    assert client.get(reverse("gap_conversation", args=[other])).status_code == 404
    client.force_login(bob)
    assert client.get(reverse("gap_conversation", args=[other])).status_code == 403
    assert client.get(reverse("knowledge_gaps")).status_code == 403
