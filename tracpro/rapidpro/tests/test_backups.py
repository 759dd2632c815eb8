"""Backups: `manage.py backup` keeps what TracPro owns; `manage.py restore` loads it
into an empty database, where everything owned is found again and the syncs
refill the RapidPro mirror from the simulator."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from django.core.management import CommandError, call_command
from django.db import connection

from tracpro.accounts.models import User
from tracpro.contacts.models import Contact, DataField
from tracpro.groups.models import Region, ReporterGroup
from tracpro.msgs.models import Message
from tracpro.msgs.tests.factories import make_message
from tracpro.orgs.models import Membership, Org, Role, SyncState
from tracpro.polls.models import Answer, Poll, PollRun, Question, Response
from tracpro.rapidpro.backups import MIRROR_MODELS, excluded_tables
from tracpro.rapidpro.tests.sync_helpers import SIM_NOW, set_up_edu, sync
from tracpro.simulator.testing import running_simulator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def simulator():
    with running_simulator(seed=5, contacts=40, runs=200, now=SIM_NOW) as handle:
        yield handle


@contextmanager
def empty_database() -> Iterator[str]:
    """A new, empty database on the same server, which Django uses inside the block."""
    name = f"tracpro_restore_{uuid.uuid4().hex[:8]}"
    original = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    connection.settings_dict["NAME"] = name
    try:
        yield name
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def owned(org: Org) -> dict:
    """What TracPro owns and RapidPro cannot give back."""
    return {
        "users": sorted(User.objects.values_list("email", "full_name", "password")),
        "memberships": sorted(
            (m.user.email, m.role, sorted(r.name for r in m.regions.all()))
            for m in Membership.objects.filter(org=org)
        ),
        "org": Org.objects.filter(pk=org.pk).values(
            "name", "timezone", "languages", "api_token", "same_day_rule"
        )[0],
        "region tree": sorted(
            Region.objects.filter(org=org).values_list("name", "parent__name", "is_active")
        ),
        "reporter groups": sorted(ReporterGroup.objects.filter(org=org).values_list("name")),
        "polls": sorted(
            Poll.objects.filter(org=org).values_list("rapidpro_name", "name", "is_active")
        ),
        "questions": sorted(
            Question.objects.filter(poll__org=org).values_list(
                "result_key", "name", "question_type", "is_active"
            )
        ),
        "field choices": sorted(DataField.objects.filter(org=org).values_list("key", "is_visible")),
        "message log": sorted(
            (m.text, m.pollrun and m.pollrun.local_date, sorted(c.name for c in m.recipients.all()))
            for m in Message.objects.filter(org=org)
        ),
        "contacts made here": sorted(
            Contact.objects.filter(org=org, uuid=None).values_list("name", "push_status")
        ),
    }


def mirror(org: Org) -> dict:
    return {
        "contacts": sorted(
            Contact.objects.filter(org=org)
            .exclude(uuid=None)
            .values_list("uuid", "name", "region__name")
        ),
        "poll dates": PollRun.objects.filter(poll__org=org).count(),
        "responses": Response.objects.filter(pollrun__poll__org=org).count(),
        "answers": Answer.objects.filter(response__pollrun__poll__org=org).count(),
    }


def test_a_backup_restored_into_an_empty_database_has_everything(
    transactional_db, simulator, tmp_path
):
    org = Org.objects.create(name="Edu", subdomain="edu", timezone="Europe/Paris")
    set_up_edu(org, simulator)
    assert set(sync(org, "contacts", "runs").values()) == {"succeeded"}
    # Choices only an admin made here.
    admin = User.objects.create_user("admin@edu.example.com", "a-strong-passphrase")
    Membership.objects.create(user=admin, org=org, role=Role.ADMIN)
    supervisor = User.objects.create_user("kampala@edu.example.com", "another-passphrase")
    Membership.objects.create(user=supervisor, org=org, role=Role.SUPERVISOR).regions.set(
        Region.objects.filter(org=org, name="Kampala")
    )
    Poll.objects.filter(org=org, rapidpro_name="Enrolment").update(name="School enrolment")
    Question.objects.filter(poll__org=org).update(name="Renamed by an admin")
    DataField.objects.filter(org=org).update(is_visible=True)
    # What people did in TracPro: a reminder sent to a poll date's contacts, a
    # contact added here whose push to RapidPro is still pending.
    pollrun = PollRun.objects.filter(poll__org=org).first()
    make_message(org, list(Contact.objects.filter(org=org)[:3]), pollrun=pollrun, created_by=admin)
    Contact.objects.create(
        org=org, name="Added here", urn="tel:+256700999111", push_status="pending"
    )
    before_owned, before_mirror = owned(org), mirror(org)
    assert before_mirror["responses"] > 0 and before_mirror["contacts"]
    archive = tmp_path / "tracpro.dump"

    call_command("backup", str(archive))

    with empty_database():
        call_command("restore", str(archive))

        assert owned(org) == before_owned
        restored = {**before_mirror, "responses": 0, "answers": 0}
        assert mirror(org) == restored  # contacts and poll dates kept, runs to refill
        assert not SyncState.objects.exists()  # every sync starts over

        assert set(sync(org, "contacts", "runs").values()) == {"succeeded"}
        assert mirror(org) == before_mirror
        assert owned(org) == before_owned


def test_restore_refuses_a_database_that_is_not_empty(transactional_db, tmp_path):
    Org.objects.create(name="Edu", subdomain="edu")
    archive = tmp_path / "tracpro.dump"
    call_command("backup", str(archive))

    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive))

    assert Org.objects.filter(subdomain="edu").exists()


def test_the_runs_and_the_syncs_progress_are_left_out(db):
    tables = excluded_tables()
    assert "polls_answer" in tables
    assert "rapidpro_runarchive" in tables
    assert "contacts_contact" not in tables  # part of it is TracPro's own
    assert "accounts_user" not in tables
    assert "orgs_membership_regions" not in tables
    assert len(MIRROR_MODELS) == len(set(MIRROR_MODELS))
