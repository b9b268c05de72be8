from __future__ import annotations

from django.conf import settings
from django.db import models


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["conversation", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


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

    class Meta:
        ordering = ["-hits", "-last_asked_at"]
        indexes = [models.Index(fields=["retired_at", "-hits"], name="frequent_live_by_hits")]

    def __str__(self) -> str:
        return self.question[:80]
