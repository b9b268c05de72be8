from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from pgvector.django import HnswIndex, VectorField


class Collection(models.Model):
    """A group of documents with one audience: public, or the members of some groups."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    is_public = models.BooleanField(default=False, help_text="Every signed-in user may read it.")
    groups = models.ManyToManyField(Group, blank=True, related_name="collections")
    # Its knowledge managers: members upload, re-ingest, delete and choose readers
    # (knowledge.selectors.collections_managed_by). Groups, so the directory decides.
    manager_groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="managed_collections",
        help_text="Members of these groups manage it: upload, re-ingest, delete, set readers.",
    )
    # Moves on with every change to the collection's content; cached answers key on it.
    knowledge_version = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PARSING = "parsing", "Parsing"
    CHUNKING = "chunking", "Chunking"
    EMBEDDING = "embedding", "Embedding"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Document(models.Model):
    """A file in a collection. Its chunks always belong to its current version."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=500, blank=True)
    original_name = models.CharField(max_length=500)
    file = models.FileField(upload_to="documents/%Y/%m/", max_length=500)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ingested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["collection", "original_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "original_name"], name="one_document_per_name"
            ),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["collection", "sha256"])]

    def __str__(self) -> str:
        return self.title or self.original_name


class DocumentVersion(models.Model):
    """The record of each version a document has had (the newest is the document's own)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    file = models.FileField(upload_to="documents/%Y/%m/", max_length=500)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["document", "version"], name="one_row_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.version}"


class Chunk(models.Model):
    """A piece of a document: what retrieval finds and answers cite."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # Denormalised from the document so the permission filter needs no join.
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    heading = models.CharField(max_length=1000, blank=True, help_text='Heading path, "A > B > C".')
    page = models.PositiveIntegerField(null=True, blank=True)
    text = models.TextField()
    token_count = models.PositiveIntegerField(default=0)
    embedding = VectorField(dimensions=settings.EMBEDDING_DIMENSIONS)
    # The heading path weighs more than the body in full-text ranking.
    search_vector = models.GeneratedField(
        expression=SearchVector("heading", weight="A", config="english")
        + SearchVector("text", weight="B", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="one_chunk_per_position")
        ]
        indexes = [
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(name="chunk_search_gin", fields=["search_vector"]),
            models.Index(fields=["collection"]),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.position}"
