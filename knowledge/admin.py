"""Admin: collections, and documents read-only except for deletion.

Documents arrive through the Knowledge page, the REST API or `manage.py ingest`
(knowledge.uploads), never through an admin form, and leave through
`document_delete`, which also removes their files and retires cached answers.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from knowledge.lifecycle import document_delete
from knowledge.models import Collection, Document


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_public", "knowledge_version")
    filter_horizontal = ("groups",)
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = (
        "original_name",
        "title",
        "collection",
        "version",
        "status",
        "chunk_count",
        "updated_at",
    )
    list_filter = ("status", "collection")
    readonly_fields = (
        "sha256",
        "size",
        "version",
        "status",
        "progress",
        "error",
        "chunk_count",
        "attempts",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        document_delete(document=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            document_delete(document=document)
