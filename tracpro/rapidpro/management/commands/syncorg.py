"""Run an org's RapidPro syncs now, in the foreground.

    ./manage.py syncorg edu                      # every kind, in dependency order
    ./manage.py syncorg 3 --kind runs --kind inbox
    ./manage.py syncorg edu --json               # one JSON object, for scripts

Each kind runs exactly as a worker would run it (the same lock and SyncState, so
the status page shows it), but without a time budget. The exit status is 1 if any
kind failed.
"""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from tracpro.orgs.models import Org, SyncState
from tracpro.orgs.tasks import ORG_TASKS, run_org_task
from tracpro.rapidpro.management.progress import ProgressBar
from tracpro.rapidpro.summary import mirror_totals
from tracpro.rapidpro.syncers import ORDER, run_sync

COUNT_COLUMNS = ("created", "updated", "skipped", "failed", "requests")


class Command(BaseCommand):
    help = "Run an org's RapidPro syncs now and print what each one did."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("org", help="The org's database id or subdomain.")
        parser.add_argument(
            "--kind", action="append", choices=ORDER, help="Only this kind (repeatable)."
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print one JSON object."
        )

    def handle(self, *args, org: str, kind: list[str] | None, as_json: bool, **options) -> None:
        found = find_org(org)
        kinds = [k for k in ORDER if not kind or k in kind]
        bar = None if as_json else ProgressBar(self.stdout)
        results = {}
        for name in kinds:
            results[name] = self.run_kind(found, name, bar)
        report = {"org": found.subdomain, "kinds": results, "totals": mirror_totals(found)}
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self.print_table(report)
        failed = [name for name, result in results.items() if result["status"] != "succeeded"]
        if failed:
            raise CommandError(f"Not synced: {', '.join(failed)}.")

    def run_kind(self, org: Org, kind: str, bar: ProgressBar | None) -> dict:
        def body(org: Org, state: SyncState) -> dict:
            progress = bar.update if bar else None
            return run_sync(org, kind, state, on_progress=progress).as_dict()

        status = run_org_task(ORG_TASKS[kind].spec, org.pk, body=body)
        if bar:
            bar.finish()
        state = SyncState.objects.filter(org=org, kind=kind).first()
        counts = state.counts if state else {}
        result = {"status": status, **{c: counts.get(c, 0) for c in COUNT_COLUMNS}}
        if status == "locked":
            result["error"] = "A worker is running this sync now; try again when it is done."
        elif state and state.last_error and status != "succeeded":
            result["error"] = state.last_error
        return result

    def print_table(self, report: dict) -> None:
        self.stdout.write(
            f"{'kind':<12}{'status':<11}" + "".join(f"{c:>10}" for c in COUNT_COLUMNS)
        )
        for kind, result in report["kinds"].items():
            style = self.style.SUCCESS if result["status"] == "succeeded" else self.style.ERROR
            line = f"{kind:<12}{result['status']:<11}" + "".join(
                f"{result[c]:>10,}" for c in COUNT_COLUMNS
            )
            self.stdout.write(style(line))
            if "error" in result:
                self.stdout.write(self.style.ERROR(f"  {result['error']}"))
        self.stdout.write("")
        self.stdout.write(f"{report['org']} now holds:")
        for name, value in report["totals"].items():
            self.stdout.write(f"  {name.replace('_', ' '):<18}{value:>12,}")


def find_org(value: str) -> Org:
    lookup = Q(subdomain=value) | Q(pk=int(value)) if value.isdigit() else Q(subdomain=value)
    org = Org.objects.filter(lookup).first()
    if org is None:
        raise CommandError(f"No organization has the id or subdomain {value!r}.")
    return org
