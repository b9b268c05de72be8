"""Where a question goes: a new conversation or the reader's own, kept before it is answered."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from chatbot.conversations import (
    answer_save,
    conversations_for_user,
    question_start,
)
from chatbot.models import Message, Outcome

pytestmark = pytest.mark.django_db


def test_a_question_in_a_new_conversation_is_kept_with_no_turns_before_it(dave) -> None:
    conversation, history = question_start(
        user=dave, conversation_id=None, question="How many vacation days?"
    )
    assert history == []
    assert conversation.title == "How many vacation days?"
    assert list(conversation.messages.values_list("role", "text")) == [
        (Message.Role.USER, "How many vacation days?")
    ]
    assert conversations_for_user(user=dave)[0] == conversation


def test_a_question_in_an_earlier_conversation_gets_its_turns_and_moves_it_up(dave) -> None:
    first, _ = question_start(user=dave, conversation_id=None, question="How many vacation days?")
    answer_save(
        conversation=first,
        answer="28 days [1].",
        standalone_question="How many vacation days?",
        sources=[],
        timings={},
        outcome=Outcome.ANSWERED,
    )
    later, _ = question_start(user=dave, conversation_id=None, question="Where is the office?")
    assert conversations_for_user(user=dave)[0] == later

    again, history = question_start(
        user=dave, conversation_id=first.pk, question="And for interns?"
    )
    assert again == first
    assert history == [
        (Message.Role.USER, "How many vacation days?"),
        (Message.Role.ASSISTANT, "28 days [1]."),
    ]
    assert conversations_for_user(user=dave)[0] == first


def test_a_cached_answer_is_kept_after_its_question(dave) -> None:
    conversation, _ = question_start(
        user=dave, conversation_id=None, question="How many vacation days?"
    )
    reply = answer_save(
        conversation=conversation,
        answer="28 days [1].",
        standalone_question="How many vacation days?",
        sources=[{"n": 1}],
        timings={"total": 3.0},
        outcome=Outcome.CACHED,
        cached=True,
        cache_entry="entry",
    )
    reply.refresh_from_db()
    assert (reply.cached, reply.cache_entry, reply.sources) == (True, "entry", [{"n": 1}])
    assert list(conversation.messages.values_list("role", flat=True)) == [
        Message.Role.USER,
        Message.Role.ASSISTANT,
    ]
    assert conversations_for_user(user=dave)[0] == conversation


def test_nobody_asks_in_someone_elses_conversation(dave, bob) -> None:
    theirs, _ = question_start(user=bob, conversation_id=None, question="What is my salary band?")
    with pytest.raises(PermissionDenied):
        question_start(user=dave, conversation_id=theirs.pk, question="What did bob ask?")
    assert theirs.messages.count() == 1
