from __future__ import annotations

from django.conf import settings
from django.db import models
from pgvector.django import VectorField


class Conversation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"


class Outcome(models.TextChoices):
    """How an answer ended. Every answer opens with the evidence unless it abstained."""

    ANSWERED = "answered", "Evidence and the model's checked line"
    EVIDENCE_ONLY = "evidence", "Evidence alone: the model's line failed the check"
    MODEL_FAILED = "model_failed", "Evidence alone: the model failed or was unreachable"
    ABSTAINED = "abstained", "Nothing relevant found"
    CACHED = "cached", "Served from the answer cache"
    CANCELLED = "cancelled", "Stopped before it was finished: what was streamed is kept"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField()
    # For answers: the stand-alone question retrieval used, the cited sources, stage timings.
    standalone_question = models.TextField(blank=True)
    sources = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    cached = models.BooleanField(default=False)
    # For answers: how it ended (Outcome); counted by the metrics and the insight pages.
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    # The answer-cache entry this answer was served from or kept as: a 👎 retires it.
    cache_entry = models.CharField(max_length=64, blank=True)
    # For answers: the collections searched (ids) and the stand-alone question's embedding,
    # so the insight pages can count per collection and group unanswered questions.
    searched = models.JSONField(default=list, blank=True)
    question_vector = VectorField(dimensions=settings.EMBEDDING_DIMENSIONS, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class Feedback(models.Model):
    """A reader's 👍 or 👎 on one answer, with an optional comment.

    The answer's question, text, sources and timings are its message's; one rating per
    reader and answer (a second one replaces the first).
    """

    class Rating(models.TextChoices):
        UP = "up", "👍"
        DOWN = "down", "👎"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback"
    )
    rating = models.CharField(max_length=4, choices=Rating.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="one_rating_per_answer")
        ]

    def __str__(self) -> str:
        return f"{self.get_rating_display()} on message {self.message_id}"


class FrequentQuestion(models.Model):
    """One answer-cache entry as staff see it: the question, who it was for, how often it hit.

    The answer itself lives in Redis (chatbot.cache); this row outlives it only as a record.
    """

    entry_id = models.CharField(max_length=64, unique=True)
    question = models.TextField()
    normalised = models.TextField()
    # The reader scope ("collection:version,...") and the cache context it hashes into.
    scope_key = models.TextField()
    context = models.CharField(max_length=64)
    collections = models.JSONField(default=list, blank=True)
    model = models.CharField(max_length=500)
    hits = models.PositiveIntegerField(default=0)
    last_asked_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Offered on the empty chat page of readers with this scope (chatbot.frequent.suggestions).
    promoted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-hits", "-last_asked_at"]
        indexes = [models.Index(fields=["retired_at", "-hits"], name="frequent_live_by_hits")]

    def __str__(self) -> str:
        return self.question[:80]


class FrequentAsker(models.Model):
    """Who was answered with a cached entry, only to count different people: never shown."""

    question = models.ForeignKey(FrequentQuestion, on_delete=models.CASCADE, related_name="askers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "user"], name="one_asker_row_per_person")
        ]

    def __str__(self) -> str:
        return f"asker of {self.question_id}"
