"""Create (or bring back) the demo world: a superuser and the orgs `edu` and `health`,
pointed at the bundled RapidPro simulator and configured as an admin would: polls
(the voice poll included), "No response" shown for the categorical questions,
regions in a hierarchy linked to boundaries, reporter groups, the Kampala supervisor;
in `edu`, a recent indicator over the simulator's last 90 days, a reminder sent to a
poll date's non-respondents and a reply in the inbox. The time zone comes from the
workspace (the first flows sync). When the simulator serves more workspaces
(`--orgs N`), each gets an org of its own, configured like the org whose data set it
is shaped like (its family).

The first run configures the orgs; later runs leave an admin's changes alone and
only bring the mirror up to date. Development only: the passwords are public.
"""

import io
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from tracpro.accounts.models import User
from tracpro.groups.models import Boundary, Region, RemoteGroup, ReporterGroup
from tracpro.groups.scope import scope_of
from tracpro.groups.services import select_groups, update_region
from tracpro.indicators.models import Indicator
from tracpro.manage.members import set_regions
from tracpro.msgs.models import InboxMessage, Message
from tracpro.orgs.models import Membership, Org, Role
from tracpro.polls.models import Poll, PollRun, Question, QuestionType
from tracpro.rapidpro import actions, sending

DEMO_PASSWORD = "tracpro-demo"  # noqa: S105 - documented demo credential

ORGS = {
    "edu": {
        "name": "Uganda Education Monitoring",
        "language": "en",
        "languages": ["en", "fr", "ar", "fa"],
    },
    "health": {
        "name": "Uganda Health Monitoring",
        "language": "en",
        "languages": ["en", "fr"],
    },
}

USERS = [
    # email, full name, org subdomain, role, regions (supervisors)
    ("admin@edu.example.com", "Edu Admin", "edu", Role.ADMIN, []),
    ("kampala@edu.example.com", "Kampala Supervisor", "edu", Role.SUPERVISOR, ["Kampala"]),
    ("admin@health.example.com", "Health Admin", "health", Role.ADMIN, []),
]

# The simulator's contact groups chosen as regions, as (region, parent) in tree order.
REGIONS = {
    "edu": [
        ("Central", None),
        ("Kampala", "Central"),
        *((division, "Kampala") for division in
          ("Kampala Central", "Kawempe", "Makindye", "Nakawa", "Rubaga")),
        ("Wakiso", "Central"),
        ("Mukono", "Central"),
        ("Northern", None),
        ("Gulu", "Northern"),
        ("Lira", "Northern"),
        ("Eastern", None),
        ("Jinja", "Eastern"),
        ("Mbale", "Eastern"),
        ("Western", None),
        ("Mbarara", "Western"),
        ("Kasese", "Western"),
    ],
    "health": [
        ("Northern", None),
        ("Gulu", "Northern"),
        ("Lira", "Northern"),
        ("Eastern", None),
        ("Mbale", "Eastern"),
        ("Western", None),
        ("Kasese", "Western"),
    ],
}  # fmt: skip
REPORTER_GROUPS = {
    "edu": ["Head Teachers", "Grade 5 Teachers", "SMC Members"],
    "health": ["Village Health Teams", "Facility In-Charges"],
}
SETUP_KINDS = ["fields", "groups", "flows", "boundaries"]


@dataclass(frozen=True)
class DemoIndicator:
    name: str
    description: str
    baseline: tuple[str, str]  # (poll, result key)
    follow_up: tuple[str, str]
    y_axis_title: str
    term_days: int


# One indicator per org: the simulator's polls and result keys it compares.
INDICATORS = {
    "edu": DemoIndicator(
        name="Boys enrolled against absent pupils",
        description="Boys enrolled at the start of the term against P5 pupils absent.",
        baseline=("Enrolment", "boys"),
        follow_up=("Attendance", "absent_pupils"),
        y_axis_title="Pupils",
        term_days=90,  # the simulator's runs cover the last 90 days
    ),
}


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
        workspaces = self.simulator_workspaces(options["wait_for_simulator"])
        with transaction.atomic():
            self.seed_superuser()
            orgs = {
                subdomain: self.seed_org(subdomain, values) for subdomain, values in ORGS.items()
            }
            for email, full_name, subdomain, role, _ in USERS:
                self.seed_member(email, full_name, orgs[subdomain], role)
            for slug, workspace in workspaces.items():
                if slug not in orgs:
                    values = {**ORGS[workspace["family"]], "name": workspace["name"]}
                    orgs[slug] = self.seed_org(slug, values)
                org = orgs[slug]
                org.api_url = settings.SIMULATOR_URL
                org.api_token = workspace["token"]
                org.save(update_fields=["api_url", "api_token"])
        for slug, workspace in workspaces.items():
            org = orgs[slug]
            new = not Region.objects.for_org(org).exists()
            if new:
                self.configure(org, workspace["family"])
            self.sync(org)
            if new:  # the questions exist once the selected polls are synced
                Question.objects.filter(
                    poll__org=org, question_type=QuestionType.CATEGORICAL
                ).update(show_no_response=True)
            self.seed_indicator(org)
        if "edu" in workspaces and not Message.objects.for_org(orgs["edu"]).exists():
            self.send_messages(orgs["edu"])
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))

    def configure(self, org: Org, family: str) -> None:
        """Do what an admin does on a new org: choose polls, regions and reporter
        groups, arrange the regions, link boundaries, assign the supervisors."""
        self.stdout.write(f"Configuring {org.subdomain} from the simulator's data...")
        self.sync(org, SETUP_KINDS)
        groups = {group.name: group for group in RemoteGroup.objects.for_org(org).active()}
        with transaction.atomic():
            Poll.objects.for_org(org).filter(
                flow_state=Poll.FlowState.ACTIVE, result_count__gt=0
            ).update(is_active=True)
            names = [name for name, _ in REGIONS[family] if name in groups]
            select_groups(org, Region, [groups[name] for name in names])
            select_groups(
                org,
                ReporterGroup,
                [groups[n] for n in REPORTER_GROUPS[family] if n in groups],
            )
            self.arrange_regions(org, family)
            for email, _, subdomain, role, regions in USERS:
                if subdomain == org.subdomain and role == Role.SUPERVISOR:
                    membership = Membership.objects.get(user__email=email, org=org)
                    set_regions(membership, Region.objects.for_org(org).filter(name__in=regions))

    def send_messages(self, org: Org) -> None:
        """What a demo org's first users would have done: the admin reminds the
        non-respondents of the latest Attendance date, the Kampala supervisor
        replies to a contact. Sent in the foreground, so they show as sent."""
        admin = User.objects.get(email="admin@edu.example.com")
        supervisor = User.objects.get(email="kampala@edu.example.com")
        admin_scope, kampala = scope_of(org, admin), scope_of(org, supervisor)
        if admin_scope is None or kampala is None:
            self.stderr.write(f"The demo users of {org.subdomain} may not enter it.")
            return
        pollrun = (
            PollRun.objects.visible_to(admin_scope)
            .filter(poll__rapidpro_name="Attendance", responses__status="empty")
            .order_by("-conducted_on")
            .first()
        )
        question = (
            InboxMessage.objects.visible_to(kampala)
            .filter(contact__is_active=True, contact__uuid__isnull=False)
            .order_by("-created_on")
            .first()
        )
        try:
            if pollrun is not None:
                reminder = actions.send_to_poll_date(
                    admin_scope,
                    admin,
                    pollrun,
                    Message.Audience.NON_RESPONDENTS,
                    "Reminder: please send today's attendance figures.",
                )
                sending.send(reminder.pk)
            if question is not None:
                reply = actions.reply(
                    kampala, supervisor, question.contact, "Thank you, we will follow up."
                )
                sending.send(reply.pk)
        except actions.ActionRefused as refusal:
            self.stderr.write(f"Demo messages not sent: {refusal}")
            return
        self.stdout.write(f"Sent the demo messages of {org.subdomain}.")

    def seed_indicator(self, org: Org) -> None:
        """The demo indicator, unless the org has indicators already."""
        spec = INDICATORS.get(org.subdomain)
        if spec is None or Indicator.objects.for_org(org).exists():
            return
        baseline = self.selected_question(org, *spec.baseline)
        follow_up = self.selected_question(org, *spec.follow_up)
        if baseline is None or follow_up is None:
            self.stderr.write(f"The polls of the demo indicator of {org.subdomain} are missing.")
            return
        today = timezone.localdate(timezone=org.tz)
        Indicator.objects.create(
            org=org,
            name=spec.name,
            description=spec.description,
            start_date=today - timedelta(days=spec.term_days - 1),
            end_date=today,
            baseline_poll=baseline.poll,
            baseline_question=baseline,
            follow_up_poll=follow_up.poll,
            follow_up_question=follow_up,
            y_axis_title=spec.y_axis_title,
        )

    @staticmethod
    def selected_question(org: Org, poll_name: str, result_key: str) -> Question | None:
        return (
            Question.objects.for_org(org)
            .filter(poll__rapidpro_name=poll_name, poll__is_active=True, result_key=result_key)
            .select_related("poll")
            .first()
        )

    @staticmethod
    def arrange_regions(org: Org, family: str) -> None:
        regions = {region.name: region for region in Region.objects.for_org(org).active()}
        boundaries = {b.name: b for b in Boundary.objects.for_org(org)}
        for name, parent in REGIONS[family]:
            if name in regions:
                parent_region = regions.get(parent) if parent else None
                update_region(regions[name], parent_region, boundaries.get(name))

    def sync(self, org: Org, kinds: list[str] | None = None) -> None:
        """Bring the mirror up to date in the foreground, so the first page has data."""
        output = io.StringIO()
        try:
            call_command("syncorg", org.subdomain, kind=kinds, as_json=True, stdout=output)
        except CommandError as error:
            self.stderr.write(f"Syncing {org.subdomain} did not finish: {error}")
            return
        totals = json.loads(output.getvalue())["totals"]
        summary = ", ".join(f"{value:,} {name}" for name, value in totals.items())
        self.stdout.write(f"Synced {org.subdomain}: {summary}")

    def simulator_workspaces(self, wait: int) -> dict[str, dict[str, str]]:
        """The simulator's workspaces by slug ({"token", "name", "family"}), or {}
        when it is not running."""
        url = f"{settings.SIMULATOR_URL}/sim/orgs"
        deadline = time.monotonic() + wait
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                    return {
                        org["slug"]: {
                            "token": org["token"],
                            "name": org["name"],
                            "family": org.get("family") or org["slug"],
                        }
                        for org in json.load(response)
                        if (org.get("family") or org["slug"]) in ORGS
                    }
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
        # As if each demo person had chosen it through their invitation: adding a
        # demo account to the other org keeps the documented password.
        user.password_set_by_owner = True
        user.set_password(DEMO_PASSWORD)
        user.save()
