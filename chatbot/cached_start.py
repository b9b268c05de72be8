"""A new conversation whose first question the exact cache tier answers: saved in one statement.

Most cached answers are a person's first question (a frequent question offered on the empty
chat page, a bot's one-off ask). Saved the usual way, that is a conversation, its question
and its answer in a transaction, then the hit counted: six round trips to PostgreSQL for an
answer that took none to find, and the web process's event loop pays for each reply it
reads (bench/many_sockets.py). Here it is one statement of data-modifying CTEs, which
PostgreSQL runs as one transaction: all of it is kept, or none.

The hit count is the frequent-questions page's (chatbot.frequent): an entry whose record is
gone counts nothing, and the answer is still saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from chatbot.models import Conversation, FrequentAsker, FrequentQuestion, Message, Outcome


@dataclass(frozen=True)
class CachedStart:
    conversation: Conversation
    message: int  # the answer's message id (for feedback)


def cached_conversation_start(
    *,
    user_id: int,
    question: str,
    answer: str,
    standalone_question: str,
    sources: list[dict[str, Any]],
    timings: dict[str, float],
    entry_id: str,
    searched: list[int],
) -> CachedStart:
    """A new conversation of `user_id` titled by `question`, holding the question and its
    cached answer in that order, and the entry's hit and asker counted."""
    asked = timezone.now()
    answered = timezone.now()  # after `asked`: the answer sorts after its question
    title = question[:200]
    with connection.cursor() as cursor:
        cursor.execute(
            _STATEMENT,
            {
                "user": user_id,
                "title": title,
                "asked": asked,
                "answered": answered,
                "question": question,
                "answer": answer,
                "standalone": standalone_question,
                "sources": json.dumps(sources),
                "timings": json.dumps(timings),
                "outcome": Outcome.CACHED.value,
                "entry": entry_id,
                "searched": json.dumps(searched),
            },
        )
        conversation_id, message_id = cursor.fetchone()
    conversation = Conversation(
        pk=conversation_id, user_id=user_id, title=title, created_at=asked, updated_at=asked
    )
    return CachedStart(conversation=conversation, message=message_id)


def _statement() -> str:
    conversation = Conversation._meta.db_table
    message = Message._meta.db_table
    columns = (
        "conversation_id, role, text, standalone_question, sources, timings, cached,"
        " outcome, cache_entry, searched, question_vector, created_at"
    )
    # The answer's INSERT reads the question's row, so PostgreSQL inserts the question first
    # and the answer's id is the larger: messages sort by (created_at, id).
    return f"""
        WITH conversation AS (
            INSERT INTO {conversation} (user_id, title, created_at, updated_at)
            VALUES (%(user)s, %(title)s, %(asked)s, %(asked)s)
            RETURNING id
        ), question AS (
            INSERT INTO {message} ({columns})
            SELECT id, '{Message.Role.USER.value}', %(question)s, '', '[]'::jsonb, '{{}}'::jsonb,
                   false, '', '', '[]'::jsonb, NULL, %(asked)s
            FROM conversation
            RETURNING id
        ), answer AS (
            INSERT INTO {message} ({columns})
            SELECT conversation.id, '{Message.Role.ASSISTANT.value}', %(answer)s,
                   %(standalone)s, %(sources)s::jsonb, %(timings)s::jsonb, true, %(outcome)s,
                   %(entry)s, %(searched)s::jsonb, NULL, %(answered)s
            FROM conversation, question
            RETURNING id
        ), hit AS (
            UPDATE {FrequentQuestion._meta.db_table}
            SET hits = hits + 1, last_asked_at = %(answered)s
            WHERE entry_id = %(entry)s
            RETURNING id
        ), asker AS (
            INSERT INTO {FrequentAsker._meta.db_table} (question_id, user_id)
            SELECT id, %(user)s FROM hit
            ON CONFLICT DO NOTHING
        )
        SELECT conversation.id, answer.id FROM conversation, answer
    """


_STATEMENT = _statement()
