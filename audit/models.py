from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One thing done that a company may have to account for later (audit.services).

    `actor_name` keeps the username as it was (a failed sign-in has no user, and a deleted
    user's events stay readable); `target` is a short description, never content.
    """

    class Action(models.TextChoices):
        SIGN_IN = "signin", "Signed in"
        SIGN_IN_FAILED = "signin_failed", "Failed sign-in"
        DOCUMENT_UPLOAD = "document_upload", "Document uploaded"
        DOCUMENT_DELETE = "document_delete", "Document deleted"
        COLLECTION_CREATE = "collection_create", "Collection created"
        COLLECTION_DELETE = "collection_delete", "Collection deleted"
        COLLECTION_READERS = "collection_readers", "Collection readers changed"
        GROUP_MEMBERSHIP = "group_membership", "Group membership changed"
        TOKEN_CREATE = "token_create", "API token created"
        TOKEN_REVOKE = "token_revoke", "API token revoked"
        TOKEN_USE = "token_use", "API token used (first use of the day)"
        CONVERSATION_VIEW = "conversation_view", "Conversation viewed by staff"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    target = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["action", "-created_at"], name="audit_by_action")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or '-'} {self.action}"

    @property
    def detail_text(self) -> str:
        """`detail` as people read it: "added=HR, Sales; public=False"."""
        return "; ".join(
            f"{key}={', '.join(map(str, value)) if isinstance(value, list) else value}"
            for key, value in sorted(self.detail.items())
        )
