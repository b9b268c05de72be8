"""Pages: a document's text for readers, and the Knowledge page where knowledge managers
manage the collections they are given (knowledge.selectors.collections_managed_by) and
superusers every one. Only superusers create and delete collections.

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
from knowledge.collections import (
    collection_create,
    collection_readers_set,
    collection_rename,
    group_ensure,
)
from knowledge.forms import CollectionForm, ReadersForm, RenameForm
from knowledge.lifecycle import collection_delete, document_delete, documents_reindex
from knowledge.parsers.registry import SUPPORTED_EXTENSIONS
from knowledge.selectors import (
    collection_get_for_manager,
    collections_for_manager,
    document_get_for_manager,
    document_get_for_user,
    is_knowledge_manager,
    is_superuser,
)
from knowledge.uploads import as_binary, documents_upload, human_size

View = Callable[..., HttpResponse]


class HtmxHttpRequest(HttpRequest):
    """A request to a staff view: django-htmx has run, and manager_required let only a User in."""

    htmx: HtmxDetails
    user: User


def manager_required(view: View) -> View:
    """Anonymous visitors go to the sign-in page; people who manage nothing get 403."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_knowledge_manager(request.user):
            raise PermissionDenied("Only knowledge managers manage knowledge.")
        return view(request, *args, **kwargs)

    return wrapper


def superuser_required(view: View) -> View:
    """Creating and deleting collections: superusers only."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_superuser(request.user):
            raise PermissionDenied("Only administrators create and delete collections.")
        return view(request, *args, **kwargs)

    return wrapper


def _manager_context(user: User) -> dict[str, Any]:
    """What every collection card needs: the groups this person may give as readers, and
    whether they may make collections public and delete them (superusers only)."""
    superuser = is_superuser(user)
    return {
        "superuser": superuser,
        "choosable_groups": list(ReadersForm(user=user).fields["groups"].queryset),  # type: ignore[attr-defined]
        "extensions": SUPPORTED_EXTENSIONS,
    }


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


@manager_required
@require_GET
def knowledge(request: HtmxHttpRequest) -> HttpResponse:
    """The collections the user manages (every one for a superuser), with documents."""
    return render(
        request,
        "knowledge/page.html",
        {
            "collections": collections_for_manager(user=request.user),
            "form": CollectionForm(user=request.user) if is_superuser(request.user) else None,
            "upload_limit": human_size(settings.UPLOAD_MAX_BYTES),
            **_manager_context(request.user),
        },
    )


@superuser_required
@require_POST
def collection_add(request: HtmxHttpRequest) -> HttpResponse:
    form = CollectionForm(request.POST, user=request.user)
    if not form.is_valid():
        # 200, not 4xx: htmx swaps only successful responses, and the errors must show.
        return render(request, "knowledge/_collection_form.html", {"form": form})
    groups = list(form.cleaned_data["groups"])
    if form.cleaned_data["new_group"]:
        groups.append(group_ensure(form.cleaned_data["new_group"]))
    created = collection_create(
        name=form.cleaned_data["name"],
        is_public=form.cleaned_data["is_public"],
        groups=groups,
        manager_groups=form.cleaned_data["manager_groups"],
    )
    if not request.htmx:
        return redirect("knowledge")
    return render(
        request,
        "knowledge/_collection_added.html",
        {
            "form": CollectionForm(user=request.user),
            "collection": collection_get_for_manager(user=request.user, pk=created.pk),
            **_manager_context(request.user),
        },
    )


def _collection_card(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The collection's card as it is now: what the page's per-collection forms answer."""
    return render(
        request,
        "knowledge/_collection.html",
        {
            "collection": collection_get_for_manager(user=request.user, pk=pk),
            **_manager_context(request.user),
        },
    )


@manager_required
@require_POST
def collection_readers(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Who reads a collection the user manages; a manager chooses among their own groups."""
    collection = collection_get_for_manager(user=request.user, pk=pk)
    form = ReadersForm(request.POST, user=request.user, collection=collection)
    if form.is_valid():
        collection_readers_set(
            collection=collection,
            is_public=form.cleaned_data["is_public"],
            groups=form.cleaned_data["groups"],
            keep=form.kept(),
        )
    if not request.htmx:
        return redirect("knowledge")
    return _collection_card(request, pk)


@manager_required
@require_POST
def collection_rename_view(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    collection = collection_get_for_manager(user=request.user, pk=pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        collection_rename(collection=collection, name=form.cleaned_data["name"])
    if not request.htmx:
        return redirect("knowledge")
    return _collection_card(request, pk)


@manager_required
@require_POST
def collection_reingest(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Every document of the collection parsed again from its stored file (after a parser or
    model change); the old chunks answer until the new ones land."""
    collection = collection_get_for_manager(user=request.user, pk=pk)
    documents_reindex(collection_slug=collection.slug)
    if not request.htmx:
        return redirect("knowledge")
    return _collection_card(request, pk)


@superuser_required
@require_POST
def collection_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The collection, its documents, their files and chunks, and the answers cached on them."""
    collection_delete(collection=collection_get_for_manager(user=request.user, pk=pk))
    if not request.htmx:
        return redirect("knowledge")
    return HttpResponse("")  # the card swaps itself out


@manager_required
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


@manager_required
@require_POST
def document_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    document_delete(document=document_get_for_manager(user=request.user, pk=pk))
    if not request.htmx:
        return redirect("knowledge")
    return HttpResponse("")  # the row swaps itself out
