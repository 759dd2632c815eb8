"""Back up what TracPro owns (docs/operations.md, "Backups").

    ./manage.py backup /var/backups/tracpro/tracpro-$(date +%F).dump

The archive is pg_dump's custom format; `manage.py restore` loads it.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracpro.rapidpro.backups import BackupError, backup


class Command(BaseCommand):
    help = "Write a backup of users, memberships, org settings and choices (not the mirror)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The archive to write.")

    def handle(self, *args, path: Path, **options) -> None:
        try:
            backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Backed up to {path} ({path.stat().st_size:,} bytes).")
