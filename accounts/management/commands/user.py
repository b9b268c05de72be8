"""Create a person's account with a password that passes the password validators.

    manage.py user USERNAME [--group NAME]... [--staff] [--superuser] [--password-stdin]

The password is asked for twice (hidden), or read from the first line of
standard input with --password-stdin (for scripts). A weak one is refused with
the validators' reasons and nothing is created.
"""

from __future__ import annotations

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import user_create
from config.management.database import database_ready


class Command(BaseCommand):
    help = "Create a user (password checked by AUTH_PASSWORD_VALIDATORS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--group", action="append", default=[], help="repeatable")
        parser.add_argument("--staff", action="store_true", help="may manage documents")
        parser.add_argument("--superuser", action="store_true", help="reads every collection")
        parser.add_argument("--password-stdin", action="store_true")

    def handle(
        self,
        *args: object,
        username: str,
        group: list[str],
        staff: bool,
        superuser: bool,
        password_stdin: bool,
        **options: object,
    ) -> None:
        database_ready(notices=self.stderr)  # a bare checkout: the embedded database migrates
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        password = self._password(from_stdin=password_stdin)
        try:
            user_create(
                username=username,
                password=password,
                groups=group,
                is_staff=staff or superuser,
                is_superuser=superuser,
            )
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        self.stdout.write(f"created user {username!r}")

    def _password(self, *, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != first:
            raise CommandError("The two passwords differ.")
        return first
