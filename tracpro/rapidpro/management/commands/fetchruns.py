"""Fetch again the runs of an org's polls modified in the last minutes, hours or days.

    ./manage.py fetchruns 1 --minutes=45
    ./manage.py fetchruns 2 --hours=6
    ./manage.py fetchruns 3 --days=2

The scheduled sync already backfills a newly selected poll from its first run;
this is for ops who need a window fetched again now (e.g. after a RapidPro outage).
It can download a great many runs: use it with care.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tracpro.orgs.models import Org, SyncKind, SyncState
from tracpro.rapidpro import client as rapidpro_client
from tracpro.rapidpro.management.progress import ProgressBar
from tracpro.rapidpro.paging import Fetcher, SyncError
from tracpro.rapidpro.syncers.base import Counts, SyncContext
from tracpro.rapidpro.syncers.runs import RunsSyncer


class Command(BaseCommand):
    help = "Fetch all runs of an org's polls modified in the last N minutes, hours or days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org_id", type=int, help="The database id of the organization.")
        parser.add_argument("--minutes", type=int, default=0)
        parser.add_argument("--hours", type=int, default=0)
        parser.add_argument("--days", type=int, default=0)

    def handle(self, *args, org_id: int, minutes: int, hours: int, days: int, **options) -> None:
        org = Org.objects.filter(pk=org_id).first()
        if org is None:
            raise CommandError(f"No organization has the id {org_id}.")
        window = timedelta(minutes=minutes, hours=hours, days=days)
        if window <= timedelta(0):
            raise CommandError("Say how far back to fetch: --minutes N, --hours N or --days N.")
        since = timezone.now() - window
        self.stdout.write(
            f"Fetching runs of {org.name} modified since {since:%Y-%m-%d %H:%M %Z}..."
        )

        bar = ProgressBar(self.stdout)
        fetcher = Fetcher()
        context = SyncContext(
            org, SyncState(org=org, kind=SyncKind.RUNS), rapidpro_client.get_client(org), fetcher
        )
        context.on_progress = bar.update
        context.on_retry = lambda notice: bar.note(
            f"{notice.error}; retrying in {notice.wait:.0f}s"
        )
        fetcher.on_retry = context.notice_retry
        syncer = RunsSyncer(context)
        if not syncer.polls:
            raise CommandError(f"{org.name} has no selected polls.")
        try:
            per_poll = syncer.fetch_window(since)
        except SyncError as error:
            bar.finish()
            raise CommandError(str(error)) from error
        bar.finish()
        self.report(per_poll, fetcher)

    def report(self, per_poll: list[tuple[str, Counts]], fetcher: Fetcher) -> None:
        total = Counts()
        width = max(len(name) for name, _ in per_poll)
        self.stdout.write(
            f"{'Poll':<{width}}  {'created':>8} {'updated':>8} {'unchanged':>9} {'failed':>7}"
        )
        for name, counts in per_poll:
            total.add(counts)
            self.stdout.write(self.row(name, counts, width))
        self.stdout.write(self.row("Total", total, width))
        self.stdout.write(
            self.style.SUCCESS(
                f"{fetcher.requests} requests to RapidPro ({fetcher.retries} retried)."
            )
        )

    @staticmethod
    def row(name: str, counts: Counts, width: int) -> str:
        return (
            f"{name:<{width}}  {counts.created:>8,} {counts.updated:>8,} "
            f"{counts.skipped:>9,} {counts.failed:>7,}"
        )
