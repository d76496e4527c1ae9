"""manage.py api_token USERNAME [--rotate]: print the user's API token (created if missing).

Tools send it as ``Authorization: Token <key>``. Tokens are also managed in the
admin (Auth Token → Tokens); --rotate replaces a leaked one.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print USERNAME's API token for BI tools and scripts (created if missing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Replace the existing token with a new one.")

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        username = str(options["username"])
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"no user {username!r} (create one with: manage.py createsuperuser)")
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive; a token would not authenticate")
        if options["rotate"]:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
