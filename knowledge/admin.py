from django.contrib import admin

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
        "mime",
        "version",
        "status",
        "progress",
        "error",
        "chunk_count",
        "attempts",
    )
