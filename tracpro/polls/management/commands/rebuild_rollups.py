"""Recompute the chart rollups from the raw responses and answers.

    ./manage.py rebuild_rollups            # every org
    ./manage.py rebuild_rollups edu        # one org, by subdomain or id

The sync keeps the rollups current as it writes; rebuilding is for repairs (e.g.
after editing raw rows by hand) and gives exactly what the sync maintains.
"""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from tracpro.orgs.models import Org
from tracpro.polls import rollups


class Command(BaseCommand):
    help = "Recompute the chart rollups of one org (id or subdomain) or of every org."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org", nargs="?", help="The org's database id or subdomain.")

    def handle(self, *args, org: str | None, **options) -> None:
        orgs = Org.objects.order_by("pk")
        if org is not None:
            lookup = Q(subdomain=org) | Q(pk=int(org)) if org.isdigit() else Q(subdomain=org)
            orgs = orgs.filter(lookup)
            if not orgs.exists():
                raise CommandError(f"No organization has the id or subdomain {org!r}.")
        for each in orgs:
            started = time.monotonic()
            rollups.rebuild(each)
            seconds = time.monotonic() - started
            self.stdout.write(f"{each.subdomain}: rollups rebuilt in {seconds:.1f}s")
