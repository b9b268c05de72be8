"""Admin: conversations, read-only, for superusers only.

A conversation holds what its owner may read (quoted passages of their collections), so
no other staff member sees it, and nobody edits it here: handed to another user, it would
show them passages of collections they may not read. Deleting one is allowed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from chatbot.models import Conversation, Message


def _superuser(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("role", "text", "cached", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "updated_at")
    readonly_fields = ("title", "user", "created_at", "updated_at")
    inlines = [MessageInline]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _superuser(request)
