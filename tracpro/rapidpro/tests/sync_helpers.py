"""Helpers for the sync's tests: an org pointed at the simulator, and the admin
choices (regions, reporter groups, polls) the sync follows."""

from collections.abc import Iterable

from tracpro.groups.models import Region, RemoteGroup, ReporterGroup
from tracpro.orgs.models import Org, SyncState
from tracpro.orgs.tasks import ORG_TASKS, run_org_task
from tracpro.polls.models import Poll

# The simulator's clock is fixed here, so its data (and every test) is the same each run.
SIM_NOW = "2025-06-02T09:30:00Z"
EDU_POLLS = ("Enrolment", "Attendance", "Textbooks", "Feedback")


def point_at(org: Org, simulator, slug: str = "edu") -> Org:
    org.api_url = simulator.base_url
    org.api_token = simulator.tokens[slug]
    org.save()
    return org


def sync(org: Org, *kinds: str) -> dict[str, str]:
    """Run syncs the way workers do (lock, SyncState), in this process."""
    return {kind: run_org_task(ORG_TASKS[kind].spec, org.pk) for kind in kinds}


def state(org: Org, kind: str) -> SyncState:
    return SyncState.objects.get(org=org, kind=kind)


def follow(
    org: Org,
    regions: Iterable[str] = (),
    reporters: Iterable[str] = (),
    parents: dict[str, str] | None = None,
) -> None:
    """What an admin's Regions / Reporter groups pages do: choose RapidPro groups."""
    for name in regions:
        group = RemoteGroup.objects.get(org=org, name=name)
        Region.objects.update_or_create(
            org=org, uuid=group.uuid, defaults={"name": group.name, "is_active": True}
        )
    for name in reporters:
        group = RemoteGroup.objects.get(org=org, name=name)
        ReporterGroup.objects.update_or_create(
            org=org, uuid=group.uuid, defaults={"name": group.name, "is_active": True}
        )
    for child, parent in (parents or {}).items():
        Region.objects.filter(org=org, name=child).update(
            parent=Region.objects.get(org=org, name=parent)
        )


def select_polls(org: Org, *names: str) -> None:
    """What an admin's poll Select page does."""
    Poll.objects.filter(org=org, rapidpro_name__in=names).update(is_active=True)


def set_up_edu(org: Org, simulator) -> Org:
    """acme mirroring the simulator's edu workspace: its four regions with their
    districts, two reporter groups, and its four polls."""
    point_at(org, simulator)
    sync(org, "fields", "groups", "boundaries", "flows")
    districts = {
        "Kampala": "Central",
        "Wakiso": "Central",
        "Mukono": "Central",
        "Gulu": "Northern",
        "Lira": "Northern",
        "Jinja": "Eastern",
        "Mbale": "Eastern",
        "Mbarara": "Western",
        "Kasese": "Western",
    }
    follow(
        org,
        regions=[*districts, *set(districts.values())],
        reporters=["Head Teachers", "Grade 5 Teachers"],
        parents=districts,
    )
    select_polls(org, *EDU_POLLS)
    sync(org, "flows")  # as the poll Select page triggers it: fetches the questions
    return org
