"""REST for scripts: upload documents, read their status, delete them. Bearer tokens only.

    POST   /api/documents/       multipart: file (repeatable), collection (slug)   its managers
    GET    /api/documents/<id>/  the document's ingest status               readers, managers
    DELETE /api/documents/<id>/                                                    its managers

Cookies are never consulted, so there is no CSRF to defend against: a request
is authenticated by its `Authorization: Bearer <token>` header alone
(accounts.services.user_for_token). Errors are JSON: {"error": "..."}.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import User
from accounts.services import user_for_token
from knowledge.lifecycle import document_delete
from knowledge.models import Document
from knowledge.selectors import (
    collection_get_for_manager_by_slug,
    document_get_for_manager,
    document_get_status_for_user,
    is_knowledge_manager,
)
from knowledge.uploads import as_binary, documents_upload

ApiView = Callable[..., HttpResponse]


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="docent"'
    return response


def _bearer_user(request: HttpRequest) -> User | None:
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return user_for_token(raw=raw.strip())


def token_required(view: ApiView) -> ApiView:
    """Authenticate by bearer token, then map access errors to JSON 403/404."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = _bearer_user(request)
        if user is None:
            return _error(401, "Send a valid API token: Authorization: Bearer <token>.")
        try:
            return view(request, user, *args, **kwargs)
        except PermissionDenied as exc:
            return _error(403, str(exc) or "Not allowed.")
        except Http404:
            return _error(404, "No such document.")

    return wrapper


def _status(document: Document) -> dict[str, object]:
    return {
        "document": document.pk,
        "collection": document.collection.slug,
        "name": document.original_name,
        "title": document.title,
        "version": document.version,
        "status": document.status,
        "progress": document.progress,
        "chunks": document.chunk_count,
        "error": document.error,
    }


@token_required
@require_http_methods(["POST"])
def documents(request: HttpRequest, user: User) -> HttpResponse:
    """201 when any file was queued, 200 when all were already there, 400 when none could be."""
    if not is_knowledge_manager(user):
        raise PermissionDenied("Only knowledge managers upload documents.")
    # Only into a collection the user manages: nothing is added to another group's.
    collection = collection_get_for_manager_by_slug(
        user=user, slug=request.POST.get("collection", "")
    )
    if collection is None:
        return _error(400, "Name an existing collection by its slug: collection=<slug>.")
    files = request.FILES.getlist("file")
    if not files:
        return _error(400, "Attach one or more files as file=@path.")
    outcomes = documents_upload(
        collection=collection,
        files=[(f.name or "unnamed", as_binary(f)) for f in files],
        uploaded_by=user,
    )
    statuses = {o.status for o in outcomes}
    code = 201 if "queued" in statuses else 200 if "duplicate" in statuses else 400
    return JsonResponse({"documents": [o.as_dict() for o in outcomes]}, status=code)


@token_required
@require_http_methods(["GET", "DELETE"])
def document(request: HttpRequest, user: User, pk: int) -> HttpResponse:
    if request.method == "DELETE":
        document_delete(document=document_get_for_manager(user=user, pk=pk))
        return HttpResponse(status=204)
    return JsonResponse(_status(document_get_status_for_user(user=user, pk=pk)))
