"""Set the test provider's people and its registered client, as a directory admin would.

directory user olivia --password P --groups HR,Engineering [--inactive]
directory client docent --secret S --redirect-uri http://127.0.0.1:8123/oidc/callback/
    [--post-logout-redirect-uri http://127.0.0.1:8123/accounts/login/]
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandParser
from oauth2_provider.models import Application


class Command(BaseCommand):
    help = "Set a person (password, groups, active) or the confidential client Docent uses."

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True)
        person = kinds.add_parser("user")
        person.add_argument("username")
        person.add_argument("--password", required=True)
        person.add_argument("--groups", default="", help="comma-separated; replaces the old ones")
        person.add_argument("--inactive", action="store_true")
        client = kinds.add_parser("client")
        client.add_argument("client_id")
        client.add_argument("--secret", required=True)
        client.add_argument("--redirect-uri", required=True)
        client.add_argument("--post-logout-redirect-uri", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["kind"] == "user":
            self.person(options)
        else:
            self.client(options)

    def person(self, options: dict[str, Any]) -> None:
        user, _ = User.objects.get_or_create(username=options["username"])
        user.email = f"{user.username}@acme.example"
        user.first_name = user.username.capitalize()
        user.last_name = "Example"
        user.is_active = not options["inactive"]
        if not user.check_password(options["password"]):
            # Only on a change: a new hash would end the person's session at the provider.
            user.set_password(options["password"])
        user.save()
        names = [name.strip() for name in options["groups"].split(",") if name.strip()]
        user.groups.set([Group.objects.get_or_create(name=name)[0] for name in names])

    def client(self, options: dict[str, Any]) -> None:
        Application.objects.filter(client_id=options["client_id"]).delete()
        Application.objects.create(
            name="Docent",
            client_id=options["client_id"],
            client_secret=options["secret"],  # stored hashed by the model
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=options["redirect_uri"],
            post_logout_redirect_uris=options["post_logout_redirect_uri"],
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=False,
        )
