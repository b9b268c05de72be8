"""The knowledge gaps: what people asked and did not find, grouped, so managers know what to
write next.

A gap question is an answer of the last INSIGHT_GAP_DAYS days, in the collections the staff
member manages (chatbot.insight.answers_in_scope), that found nothing relevant (abstained)
or that someone rated 👎. Questions are grouped greedily by the cosine of their stand-alone
questions' embeddings (Message.question_vector): each question joins the most similar group
whose first question is at least INSIGHT_GAP_SIMILARITY close, or starts a group of its own.
The threshold is measured on paraphrase pairs by bench/gap_threshold.py (docs/insight.md).

A group disappears once new documents answer it: its representative question is asked
again of today's knowledge (the collections its questions searched) through the answering
path's own retrieval, evidence and abstention rule, and a group answered from a document
ingested after its last question is hidden. Managers see counts and the questions' text,
never who asked; a group's conversations only where INSIGHT_SHOW_CONVERSATIONS allows, each
view written to the audit log.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.readers import Reader
from audit.services import Action, audit_record
from chatbot import evidence
from chatbot.answering import retrieve, should_abstain, unknown_words
from chatbot.beginning import Stopwatch
from chatbot.insight import answers_in_scope
from chatbot.models import Conversation, Feedback, Message, Outcome
from chatbot.prompts import passage_budget
from knowledge.models import Collection, Document
from knowledge.selectors import ReaderScope, collections_managed_by

EXAMPLES = 3
# Whether a group is answered now only changes with the knowledge (the scope key holds each
# collection's version): a day is only a bound on what is kept.
ANSWERED_NOW_TTL = 24 * 3600


@dataclass(frozen=True)
class GapQuestion:
    message: int
    question: str
    vector: np.ndarray
    searched: tuple[int, ...]
    conversation: int
    asked_at: datetime
    abstained: bool
    rated_down: bool


@dataclass
class Gap:
    questions: list[GapQuestion] = field(default_factory=list)
    representative: GapQuestion | None = None
    # The names of the searched collections this manager manages (set by gaps_open).
    collection_names: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def examples(self) -> list[str]:
        """Up to three different questions, the latest first (their text only)."""
        seen: dict[str, None] = {}
        for question in sorted(self.questions, key=lambda q: q.asked_at, reverse=True):
            seen.setdefault(question.question.strip(), None)
        return list(seen)[:EXAMPLES]

    @property
    def title(self) -> str:
        assert self.representative is not None
        return self.representative.question

    @property
    def last_asked(self) -> datetime:
        return max(question.asked_at for question in self.questions)

    @property
    def collection_ids(self) -> list[int]:
        return sorted({pk for question in self.questions for pk in question.searched})

    @property
    def abstained(self) -> int:
        return sum(question.abstained for question in self.questions)

    @property
    def rated_down(self) -> int:
        return sum(question.rated_down for question in self.questions)

    @property
    def conversations(self) -> list[int]:
        return sorted({question.conversation for question in self.questions})


def gap_answers(*, user: Reader, days: int | None = None) -> QuerySet[Message]:
    """The answers that found nothing or got a 👎, in the manager's collections, oldest first."""
    since = timezone.now() - timedelta(days=days or settings.INSIGHT_GAP_DAYS)
    down = Feedback.objects.filter(rating=Feedback.Rating.DOWN).values("message")
    return (
        answers_in_scope(user=user, since=since)
        .filter(question_vector__isnull=False)
        .filter(Q(outcome=Outcome.ABSTAINED) | Q(pk__in=down))
        .exclude(standalone_question="")
        .order_by("created_at", "id")
    )


def gap_questions(*, user: Reader, days: int | None = None) -> list[GapQuestion]:
    answers = gap_answers(user=user, days=days)
    rated_down = set(
        Feedback.objects.filter(
            rating=Feedback.Rating.DOWN, message__in=answers.values("pk")
        ).values_list("message", flat=True)
    )
    return [
        GapQuestion(
            message=answer.pk,
            question=answer.standalone_question,
            vector=_unit(np.asarray(answer.question_vector, dtype=np.float32)),
            searched=tuple(int(pk) for pk in answer.searched),
            conversation=answer.conversation_id,
            asked_at=answer.created_at,
            abstained=answer.outcome == Outcome.ABSTAINED,
            rated_down=answer.pk in rated_down,
        )
        for answer in answers.only(
            "pk",
            "standalone_question",
            "question_vector",
            "searched",
            "conversation_id",
            "created_at",
            "outcome",
        )
    ]


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def gaps_group(questions: list[GapQuestion], *, threshold: float | None = None) -> list[Gap]:
    """Greedy grouping: each question joins the closest group whose first question is at
    least `threshold` similar (cosine), else starts one. Largest groups first.

    A group's representative is the question closest to the group's mean: the one asked
    again to see whether the gap is filled.
    """
    threshold = settings.INSIGHT_GAP_SIMILARITY if threshold is None else threshold
    groups: list[Gap] = []
    leaders: list[np.ndarray] = []
    for question in questions:
        if leaders:
            similarities = np.stack(leaders) @ question.vector
            best = int(np.argmax(similarities))
            if similarities[best] >= threshold:
                groups[best].questions.append(question)
                continue
        groups.append(Gap(questions=[question]))
        leaders.append(question.vector)
    for group in groups:
        centre = _unit(np.mean([q.vector for q in group.questions], axis=0))
        group.representative = max(group.questions, key=lambda q: float(q.vector @ centre))
    return sorted(groups, key=lambda g: (-g.count, -g.last_asked.timestamp()))


def gap_answered_now(gap: Gap) -> bool:
    """True when the group's representative would now be answered, from a document ingested
    after the group's last question, by the collections its questions searched.

    The same retrieval, evidence and abstention rule as an answer (chatbot.answering); the
    "ingested after" clause keeps a 👎 group (answered, but badly) until something new
    comes in that answers it.
    """
    representative = gap.representative
    assert representative is not None
    versions = tuple(
        sorted(
            Collection.objects.filter(pk__in=gap.collection_ids).values_list(
                "pk", "knowledge_version"
            )
        )
    )
    if not versions:
        return False
    scope = ReaderScope(collection_ids=tuple(pk for pk, _ in versions), versions=versions)
    key = (
        "docent:gaps:answered:"
        + hashlib.sha256(
            f"{representative.message}|{representative.question}|{scope.key}|"
            f"{gap.last_asked.isoformat()}".encode()
        ).hexdigest()
    )
    known = cache.get(key)
    if known is None:
        known = _answered_by_new_document(representative, scope=scope, after=gap.last_asked)
        cache.set(key, known, ANSWERED_NOW_TTL)
    return bool(known)


def _answered_by_new_document(
    question: GapQuestion, *, scope: ReaderScope, after: datetime
) -> bool:
    text, vector = question.question, question.vector
    hits = async_to_sync(retrieve)(
        scope=scope,
        question=text,
        vector=vector,
        budget=passage_budget(question=text),
        watch=Stopwatch(),
    )
    ranked = evidence.ranked(question=text, hits=hits, question_vector=vector)
    shown = evidence.excerpts(ranked_spans=ranked, hits=hits)
    chosen = shown[0] if shown else None
    if should_abstain(hits, chosen, unknown=unknown_words(scope=scope, question=text)):
        return False
    documents = {hits[excerpt.passage - 1].document for excerpt in shown}
    return Document.objects.filter(pk__in=documents, ingested_at__gt=after).exists()


def gaps_open(*, user: Reader, limit: int | None = None) -> list[Gap]:
    """The largest groups still open (not answered by new documents), at most `limit`."""
    limit = limit or settings.INSIGHT_GAP_GROUPS
    names = dict(collections_managed_by(user).values_list("pk", "name"))
    open_gaps: list[Gap] = []
    for gap in gaps_group(gap_questions(user=user)):
        if len(open_gaps) >= limit:
            break
        if not gap_answered_now(gap):
            gap.collection_names = sorted(names[pk] for pk in gap.collection_ids if pk in names)
            open_gaps.append(gap)
    return open_gaps


def gap_conversation_get(*, user: Reader, pk: int) -> Conversation:
    """A conversation holding a gap question of the manager's collections, for them to read,
    recorded in the audit log. 404 unless INSIGHT_SHOW_CONVERSATIONS is on and it is one."""
    if not settings.INSIGHT_SHOW_CONVERSATIONS:
        raise Http404("Conversations are private here (INSIGHT_SHOW_CONVERSATIONS).")
    if not gap_answers(user=user).filter(conversation_id=pk).exists():
        raise Http404("No such conversation among the knowledge gaps.")
    conversation = Conversation.objects.select_related("user").get(pk=pk)
    audit_record(
        actor=user if isinstance(user, User) else None,
        action=Action.CONVERSATION_VIEW,
        target=f"conversation {conversation.pk}",
        detail={"owner": conversation.user.get_username(), "via": "knowledge gaps"},
    )
    return conversation


def conversation_messages(conversation: Conversation) -> list[Message]:
    return list(conversation.messages.order_by("created_at", "id"))
