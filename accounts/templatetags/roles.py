"""`{% if user|is_staff_member %}`: templates ask the same question as views (accounts.roles)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts.roles import is_staff_member as _is_staff_member

register = template.Library()


@register.filter
def is_staff_member(user: Any) -> bool:
    return _is_staff_member(user)
