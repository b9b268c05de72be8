"""Pages: a document's text for readers, and the Knowledge page where staff manage content.

The Knowledge page's actions are htmx requests that answer with fragments;
without htmx they redirect back to the page. Progress arrives over the
/ws/knowledge/ socket (knowledge.consumers), not from these views.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from accounts.models import User
from accounts.roles import is_staff_member
from knowledge.collections import collection_create
from knowledge.forms import CollectionForm
from knowledge.lifecycle import document_delete
from knowledge.parsers.registry import SUPPORTED_EXTENSIONS
from knowledge.selectors import (
    collection_get_for_manager,
    collections_for_manager,
    document_get_for_manager,
    document_get_for_user,
)
from knowledge.uploads import as_binary, documents_upload, human_size

View = Callable[..., HttpResponse]


class HtmxHttpRequest(HttpRequest):
    """A request to a staff view: django-htmx has run, and staff_required let only a User in."""

    htmx: HtmxDetails
    user: User


def staff_required(view: View) -> View:
    """Anonymous visitors go to the sign-in page; signed-in non-staff get 403."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_staff_member(request.user):
            raise PermissionDenied("Only staff manage knowledge.")
        return view(request, *args, **kwargs)

    return wrapper


@login_required
def document(request: HttpRequest, pk: int) -> HttpResponse:
    """A document's text, chunk by chunk, with the cited chunk highlighted."""
    doc = document_get_for_user(user=request.user, pk=pk)
    try:
        highlighted = int(request.GET.get("chunk", ""))
    except ValueError:
        highlighted = None
    return render(
        request,
        "knowledge/document.html",
        {
            "document": doc,
            "chunks": doc.chunks.only("id", "heading", "page", "text", "position"),
            "highlighted": highlighted,
        },
    )


@staff_required
@require_GET
def knowledge(request: HtmxHttpRequest) -> HttpResponse:
    """The collections the staff member may see (every one for a superuser), with documents."""
    return render(
        request,
        "knowledge/page.html",
        {
            "collections": collections_for_manager(user=request.user),
            "form": CollectionForm(user=request.user),
            "upload_limit": human_size(settings.UPLOAD_MAX_BYTES),
            "extensions": SUPPORTED_EXTENSIONS,
        },
    )


@staff_required
@require_POST
def collection_add(request: HtmxHttpRequest) -> HttpResponse:
    form = CollectionForm(request.POST, user=request.user)
    if not form.is_valid():
        # 200, not 4xx: htmx swaps only successful responses, and the errors must show.
        return render(request, "knowledge/_collection_form.html", {"form": form})
    created = collection_create(
        name=form.cleaned_data["name"],
        is_public=form.cleaned_data["is_public"],
        groups=form.cleaned_data["groups"],
    )
    if not request.htmx:
        return redirect("knowledge")
    return render(
        request,
        "knowledge/_collection_added.html",
        {
            "form": CollectionForm(user=request.user),
            "collection": collection_get_for_manager(user=request.user, pk=created.pk),
            "extensions": SUPPORTED_EXTENSIONS,
        },
    )


@staff_required
@require_POST
def documents_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Many files in one request; each is accepted or refused with its reason on its own."""
    collection = collection_get_for_manager(user=request.user, pk=pk)
    outcomes = documents_upload(
        collection=collection,
        files=[(f.name or "unnamed", as_binary(f)) for f in request.FILES.getlist("file")],
        uploaded_by=request.user,
    )
    if not request.htmx:
        return redirect("knowledge")
    return render(
        request,
        "knowledge/_documents.html",
        {"collection": collection_get_for_manager(user=request.user, pk=pk), "outcomes": outcomes},
    )


@staff_required
@require_POST
def document_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    document_delete(document=document_get_for_manager(user=request.user, pk=pk))
    if not request.htmx:
        return redirect("knowledge")
    return HttpResponse("")  # the row swaps itself out
