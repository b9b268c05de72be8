"""API tokens for bots and scripts: create one (printed once), list them, revoke one.

manage.py token USERNAME [--name NAME] [--days N]   create; prints the token once
manage.py token --list [USERNAME]                   name, prefix, last use, expiry
manage.py token --revoke NAME_OR_PREFIX [USERNAME]  delete it: it opens nothing from now on
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import ApiToken, User
from accounts.services import TokenAmbiguous, token_create, token_revoke
from config.management.database import database_ready


def _when(moment: object) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


class Command(BaseCommand):
    help = "Create an API token for a bot or script (printed once), list tokens, or revoke one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?")
        parser.add_argument("--name", default="cli")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="expire after this many days (0: never; default TOKEN_LIFETIME_DAYS)",
        )
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--list", action="store_true", help="list tokens")
        action.add_argument("--revoke", metavar="NAME_OR_PREFIX", help="delete a token")

    def handle(
        self,
        *args: object,
        username: str | None,
        name: str,
        days: int | None,
        list: bool,
        revoke: str | None,
        **options: object,
    ) -> None:
        database_ready(notices=self.stderr)  # a bare checkout: the embedded database migrates
        if list:
            self._list(username)
        elif revoke:
            self._revoke(revoke, username)
        else:
            self._create(username, name, days)

    def _create(self, username: str | None, name: str, days: int | None) -> None:
        if not username:
            raise CommandError("Name the user the token acts for: token USERNAME [--name NAME].")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        self.stdout.write(token_create(user=user, name=name, days=days))

    def _list(self, username: str | None) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "created_at")
        if username:
            tokens = tokens.filter(user__username=username)
        for token in tokens:
            self.stdout.write(
                f"{token.user.username}\t{token.name}\t{token.prefix}\t"
                f"last used {_when(token.last_used_at)}\texpires {_when(token.expires_at)}"
            )

    def _revoke(self, name_or_prefix: str, username: str | None) -> None:
        try:
            revoked = token_revoke(name_or_prefix=name_or_prefix, username=username)
        except TokenAmbiguous as exc:
            raise CommandError(str(exc)) from None
        if not revoked:
            raise CommandError(f"No token named {name_or_prefix!r} or with that prefix.")
        for token in revoked:
            self.stdout.write(
                f"revoked {token.user.username}'s token {token.name} ({token.prefix})"
            )
