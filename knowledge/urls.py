from __future__ import annotations

from django.urls import path

from knowledge import api, views

urlpatterns = [
    path("documents/<int:pk>/", views.document, name="document"),
    path("knowledge/", views.knowledge, name="knowledge"),
    path("knowledge/collections/", views.collection_add, name="knowledge_collection_add"),
    path(
        "knowledge/collections/<int:pk>/documents/",
        views.documents_add,
        name="knowledge_documents_add",
    ),
    path(
        "knowledge/collections/<int:pk>/readers/",
        views.collection_readers,
        name="knowledge_collection_readers",
    ),
    path(
        "knowledge/collections/<int:pk>/rename/",
        views.collection_rename_view,
        name="knowledge_collection_rename",
    ),
    path(
        "knowledge/collections/<int:pk>/reingest/",
        views.collection_reingest,
        name="knowledge_collection_reingest",
    ),
    path(
        "knowledge/collections/<int:pk>/delete/",
        views.collection_remove,
        name="knowledge_collection_delete",
    ),
    path(
        "knowledge/documents/<int:pk>/delete/",
        views.document_remove,
        name="knowledge_document_delete",
    ),
    path("api/documents/", api.documents, name="api_documents"),
    path("api/documents/<int:pk>/", api.document, name="api_document"),
]
