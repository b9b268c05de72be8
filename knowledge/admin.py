"""Admin: every change goes through the services, and staff see only what they may read.

Documents arrive through the Knowledge page, the REST API or `manage.py ingest`
(knowledge.uploads), never through an admin form. Here a document can only move to
another collection (`document_move`: its chunks move with it and cached answers on
both sides retire) or leave (`document_delete`: its files go and cached answers
retire). A collection's knowledge version is never typed in, and a collection leaves
through `collection_delete`, which deletes its documents the same way. Who reads a
collection (its groups, public or not) is part of every cache key (the reader's
scope, chatbot.answer_cache.keys), so changing it here needs no retirement.

Only superusers see these models here, whatever admin permissions a staff member was
given: knowledge managers work on the Knowledge page, which shows them the collections
they manage (knowledge.selectors.collections_managed_by). A collection's manager groups
are set here, or when a superuser creates it on the Knowledge page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from knowledge.lifecycle import collection_delete, document_delete, document_move
from knowledge.models import Collection, Document
from knowledge.selectors import is_superuser


class SuperuserOnly:
    """Knowledge models in the admin: superusers only, whatever permissions others hold."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_superuser(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_superuser(request.user)


@admin.register(Collection)
class CollectionAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("name", "slug", "is_public", "knowledge_version")
    filter_horizontal = ("groups", "manager_groups")
    prepopulated_fields = {"slug": ("name",)}
    # Cached answers key on it: typed back to an old value, retired answers would return.
    readonly_fields = ("knowledge_version",)

    def delete_model(self, request: HttpRequest, obj: Collection) -> None:
        collection_delete(collection=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Collection]) -> None:
        for collection in queryset:
            collection_delete(collection=collection)


class DocumentMoveForm(forms.ModelForm):
    """The one thing an admin changes about a document: its collection."""

    class Meta:
        model = Document
        fields = ("collection",)

    def clean_collection(self) -> Collection:
        collection: Collection = self.cleaned_data["collection"]
        # The name is read-only here, so Django does not check the constraint on its own.
        taken = (
            Document.objects.filter(
                collection=collection, original_name=self.instance.original_name
            )
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if taken:
            raise forms.ValidationError(
                f"{collection} already has a document named {self.instance.original_name}."
            )
        return collection


@admin.register(Document)
class DocumentAdmin(SuperuserOnly, admin.ModelAdmin):
    form = DocumentMoveForm
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
    fields = (
        "collection",
        "original_name",
        "title",
        "file",
        "uploaded_by",
        "sha256",
        "size",
        "version",
        "status",
        "progress",
        "error",
        "chunk_count",
        "attempts",
    )
    readonly_fields = fields[1:]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Document, form: Any, change: bool) -> None:
        document_move(document=obj, collection=form.cleaned_data["collection"])

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        document_delete(document=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            document_delete(document=document)
