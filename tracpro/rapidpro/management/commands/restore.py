"""Restore a backup made by `manage.py backup` (docs/operations.md, "Backups").

    ./manage.py restore tracpro-2026-11-30.dump              # into an empty database
    ./manage.py restore tracpro-2026-11-30.dump --replace    # over an existing one

Then the syncs refill the RapidPro mirror from the beginning: beat starts them
within minutes, or run `manage.py syncorg <org>` for each org.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from tracpro.orgs.models import Org
from tracpro.rapidpro.backups import BackupError, restore


class Command(BaseCommand):
    help = "Load a backup into the database (empty, unless --replace)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The archive to load.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Drop the tables the archive holds before loading it.",
        )

    def handle(self, *args, path: Path, replace: bool, **options) -> None:
        if not path.exists():
            raise CommandError(f"No such file: {path}")
        connection.close()  # pg_restore needs the tables free
        try:
            restore(path, replace=replace)
        except BackupError as error:
            raise CommandError(str(error)) from error
        orgs = ", ".join(Org.objects.order_by("subdomain").values_list("subdomain", flat=True))
        self.stdout.write(f"Restored {path}. Orgs: {orgs or 'none'}.")
        self.stdout.write("The syncs refill the RapidPro mirror: run `manage.py syncorg <org>`.")
