"""Create (or bring back) the demo world: a superuser and the orgs `edu` and `health`,
pointed at the bundled RapidPro simulator.

Development only: the passwords are public. Safe to run any number of times.
"""

import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tracpro.accounts.models import User
from tracpro.orgs.models import Membership, Org, Role

DEMO_PASSWORD = "tracpro-demo"  # noqa: S105 - documented demo credential

ORGS = {
    "edu": {
        "name": "Uganda Education Monitoring",
        "timezone": "Africa/Kampala",
        "language": "en",
        "languages": ["en", "fr", "ar", "fa"],
    },
    "health": {
        "name": "Uganda Health Monitoring",
        "timezone": "Africa/Kampala",
        "language": "en",
        "languages": ["en", "fr"],
    },
}

USERS = [
    # email, full name, org subdomain, role
    ("admin@edu.example.com", "Edu Admin", "edu", Role.ADMIN),
    ("kampala@edu.example.com", "Kampala Supervisor", "edu", Role.SUPERVISOR),
    ("admin@health.example.com", "Health Admin", "health", Role.ADMIN),
]


class Command(BaseCommand):
    help = "Create the demo superuser, orgs and users (development only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--wait-for-simulator",
            type=int,
            nargs="?",
            const=60,
            default=0,
            metavar="SECONDS",
            help="Wait up to SECONDS (default 60) for the simulator to answer.",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates accounts with a public password; DEBUG is off.")
        tokens = self.simulator_tokens(options["wait_for_simulator"])
        with transaction.atomic():
            self.seed_superuser()
            orgs = {
                subdomain: self.seed_org(subdomain, values) for subdomain, values in ORGS.items()
            }
            for email, full_name, subdomain, role in USERS:
                self.seed_member(email, full_name, orgs[subdomain], role)
            for subdomain, org in orgs.items():
                if subdomain in tokens:
                    org.api_url = settings.SIMULATOR_URL
                    org.api_token = tokens[subdomain]
                    org.save(update_fields=["api_url", "api_token"])
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))

    def simulator_tokens(self, wait: int) -> dict[str, str]:
        """The simulator's API token per org slug, or {} when it is not running."""
        url = f"{settings.SIMULATOR_URL}/sim/orgs"
        deadline = time.monotonic() + wait
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                    return {org["slug"]: org["token"] for org in json.load(response)}
            except (urllib.error.URLError, OSError):
                if time.monotonic() >= deadline:
                    self.stderr.write(f"The simulator at {url} is not answering; orgs unchanged.")
                    return {}
                time.sleep(1)

    def seed_superuser(self) -> None:
        user, _ = User.objects.get_or_create(
            email="root@example.com",
            defaults={"full_name": "Root", "is_superuser": True, "is_staff": True},
        )
        self.reset_password(user)

    def seed_org(self, subdomain: str, values: dict) -> Org:
        org, _ = Org.objects.update_or_create(
            subdomain=subdomain, defaults={**values, "is_active": True}
        )
        return org

    def seed_member(self, email: str, full_name: str, org: Org, role: str) -> Membership:
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
        self.reset_password(user)
        membership, _ = Membership.objects.update_or_create(
            user=user, org=org, defaults={"role": role}
        )
        return membership

    @staticmethod
    def reset_password(user: User) -> None:
        user.is_active = True
        user.must_change_password = False
        user.set_password(DEMO_PASSWORD)
        user.save()
