"""Run by test_replica.py in a process of its own, whose settings name a primary
(DATABASE_URL) and its streaming replica (DATABASE_REPLICA_URL), both migrated.

With the standby's replay paused, a contact is renamed on the primary; then it
reads the contact the ways TracPro does (a dashboard page, a request that
writes, a POST, a task) and prints, as one JSON line, which name each one saw:
the old name came from the replica, the new one from the primary.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracpro.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402

from tracpro.accounts.models import User  # noqa: E402
from tracpro.contacts.models import Contact  # noqa: E402
from tracpro.middleware import ReplicaMiddleware  # noqa: E402
from tracpro.orgs.models import Membership, Org, Role  # noqa: E402
from tracpro.replica import STICKY_COOKIE  # noqa: E402


def on_replica(sql: str) -> object:
    with connections["replica"].cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def wait_until(check, what: str) -> None:
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def in_request(method: str, view, cookies: str = "") -> None:
    request = RequestFactory().generic(method, "/", HTTP_COOKIE=cookies)
    ReplicaMiddleware(lambda request: view() or HttpResponse())(request)


def name() -> str:
    return Contact.objects.get(uuid="c-1").name


def main() -> None:
    org = Org.objects.create(name="Probe Org", subdomain="probe")
    user = User.objects.create_user("admin@probe.example.com", "probe-password-1")
    Membership.objects.create(user=user, org=org, role=Role.ADMIN)
    Contact.objects.create(org=org, uuid="c-1", name="Old Name", urn="tel:+256700000001")
    primary = connections["default"]
    with primary.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        lsn = cursor.fetchone()[0]
    wait_until(
        lambda: on_replica(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"),
        "the replica to replay the fixtures",
    )
    on_replica("SELECT pg_wal_replay_pause()")
    wait_until(
        lambda: on_replica("SELECT pg_get_wal_replay_pause_state()") == "paused", "the pause"
    )
    Contact.objects.filter(uuid="c-1").update(name="New Name")
    Org.objects.filter(pk=org.pk).update(name="Renamed Org")

    seen: dict = {"replica_is_in_recovery": on_replica("SELECT pg_is_in_recovery()")}
    client = Client(HTTP_HOST=f"probe.{settings.PARENT_HOST}")
    client.force_login(user)
    page = client.get("/contact/").content.decode()
    seen["contacts_page"] = "Old Name" if "Old Name" in page else "New Name"

    def read_org() -> None:
        seen["org_in_get"] = Org.objects.get(pk=org.pk).name

    in_request("GET", read_org)
    seen["after_a_write"] = []

    def write_between_reads() -> None:
        seen["after_a_write"].append(name())
        User.objects.filter(pk=user.pk).update(full_name="Probe Admin")
        seen["after_a_write"].append(name())

    in_request("GET", write_between_reads)
    in_request("GET", lambda: seen.update(sticky_page=name()), f"{STICKY_COOKIE}=1")
    in_request("POST", lambda: seen.update(post=name()))
    seen["task"] = name()

    on_replica("SELECT pg_wal_replay_resume()")
    wait_until(
        lambda: on_replica("SELECT name FROM contacts_contact WHERE uuid = 'c-1'") == "New Name",
        "the replica to catch up",
    )
    in_request("GET", lambda: seen.update(replica_after_resume=name()))
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
