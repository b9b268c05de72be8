"""Who reads: a signed-in user, or the operator at the server's console.

Every permission decision takes a reader. The operator (management commands run on
the server, benches) reads every collection; it is a value of its own, created only
here and passed on purpose by entry points that run on the server. A web request
carries a `User` (or Django's anonymous user) and can never become the operator;
`None` is not a reader at all, so a missing user fails loudly instead of seeing
everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeAlias, Union

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User


class Operator:
    """The operator at the console: reads every collection, owns no conversations."""

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR: Final = Operator()

Reader: TypeAlias = Union["User", "AnonymousUser", Operator]
