import pytest

from django.core.management import CommandError, call_command

from tracpro.accounts.models import User
from tracpro.orgs.management.commands.seed_demo import DEMO_PASSWORD
from tracpro.orgs.models import Membership, Org, Role


def test_it_creates_the_demo_world_and_can_run_again(db, settings):
    settings.DEBUG = True
    settings.SIMULATOR_URL = "http://127.0.0.1:9"  # nothing listens: orgs keep their API settings
    call_command("seed_demo")
    call_command("seed_demo")

    assert set(Org.objects.values_list("subdomain", flat=True)) == {"edu", "health"}
    root = User.objects.get(email="root@example.com")
    assert root.is_superuser and root.check_password(DEMO_PASSWORD)
    roles = {
        (m.user.email, m.org.subdomain): m.role
        for m in Membership.objects.select_related("user", "org")
    }
    assert roles == {
        ("admin@edu.example.com", "edu"): Role.ADMIN,
        ("kampala@edu.example.com", "edu"): Role.SUPERVISOR,
        ("admin@health.example.com", "health"): Role.ADMIN,
    }
    for email, _ in roles:
        assert User.objects.get(email=email).check_password(DEMO_PASSWORD)


def test_it_refuses_to_run_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()
