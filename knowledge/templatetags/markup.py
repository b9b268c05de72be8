"""`{{ text|markdown }}`: Markdown from a document or the model, as sanitised HTML."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from knowledge.markup import markdown_html

register = template.Library()


@register.filter(name="markdown")
def markdown(text: str | None) -> SafeString:
    # Safe to mark: markdown_html escapes raw HTML and sanitises its own output (nh3).
    return mark_safe(markdown_html(str(text or "")))
