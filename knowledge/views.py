from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from knowledge.selectors import document_get_for_user


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
