"""`{% if user|is_knowledge_manager %}`: templates ask the same question as views
(knowledge.selectors.is_knowledge_manager)."""

from __future__ import annotations

from typing import Any

from django import template

from knowledge.selectors import is_knowledge_manager as _is_knowledge_manager

register = template.Library()


@register.filter
def is_knowledge_manager(user: Any) -> bool:
    return _is_knowledge_manager(user)
