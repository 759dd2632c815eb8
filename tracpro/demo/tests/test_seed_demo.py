import pytest

from django.core.management import CommandError, call_command

from tracpro.accounts.models import User
from tracpro.demo.management.commands.seed_demo import DEMO_PASSWORD
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


@pytest.mark.slow
def test_it_configures_the_demo_orgs_from_the_simulator(db, settings, celery_eager):
    from unittest import mock

    from tracpro.groups.models import Region, ReporterGroup
    from tracpro.indicators.models import Indicator
    from tracpro.polls.models import Poll, Question, Response
    from tracpro.simulator.testing import running_simulator

    settings.DEBUG = True
    with (
        running_simulator(contacts=150, runs=1500) as sim,
        mock.patch("tracpro.orgs.tasks.trigger"),
    ):
        settings.SIMULATOR_URL = sim.base_url
        call_command("seed_demo")
        edu = Org.objects.get(subdomain="edu")
        assert edu.api_url == sim.base_url and edu.api_token == sim.tokens["edu"]

        tree = {r.name: r.parent.name if r.parent else None for r in Region.objects.for_org(edu)}
        assert tree["Kampala"] == "Central"
        assert tree["Kawempe"] == "Kampala"
        assert tree["Gulu"] == "Northern"
        assert Region.objects.get(org=edu, name="Kampala").boundary.name == "Kampala"
        assert set(ReporterGroup.objects.for_org(edu).values_list("name", flat=True)) == {
            "Head Teachers",
            "Grade 5 Teachers",
            "SMC Members",
        }
        supervisor = Membership.objects.get(user__email="kampala@edu.example.com")
        assert [r.name for r in supervisor.regions.all()] == ["Kampala"]
        polls = Poll.objects.for_org(edu).filter(is_active=True)
        assert polls.count() == 5
        assert polls.filter(flow_type=Poll.FlowType.VOICE).count() == 1  # the voice poll
        assert Response.objects.for_org(edu).count() > 500
        (indicator,) = Indicator.objects.for_org(edu)
        assert (indicator.baseline_poll.rapidpro_name, indicator.baseline_question.result_key) == (
            "Enrolment",
            "boys",
        )
        assert indicator.follow_up_question.rapidpro_name == "Absent Pupils"
        assert (indicator.end_date - indicator.start_date).days == 89
        assert not Indicator.objects.for_org(Org.objects.get(subdomain="health")).exists()

        from tracpro.msgs.models import Message

        sent = {m.kind: m for m in Message.objects.for_org(edu)}
        assert set(sent) == {"message", "reply"}
        assert all(message.status == "sent" for message in sent.values())
        assert sent["message"].audience == "non_respondents"
        assert sent["reply"].created_by.email == "kampala@edu.example.com"
        assert sent["reply"].contact.inbox_messages.filter(replied_on__isnull=False).exists()
        assert edu.timezone == edu.workspace_timezone == "Africa/Kampala"  # from RapidPro
        shown = Question.objects.filter(poll__org=edu, show_no_response=True)
        assert set(shown.values_list("question_type", flat=True)) == {"categorical"}

        # An admin's later choices survive another run.
        Region.objects.filter(org=edu, name="Wakiso").update(parent=None)
        indicator.delete()
        call_command("seed_demo")
        assert Region.objects.get(org=edu, name="Wakiso").parent is None
        assert Message.objects.for_org(edu).count() == 2, "sent once, not at every run"
        assert Indicator.objects.for_org(edu).count() == 1  # brought back while the org has none


@pytest.mark.slow
def test_it_gives_each_further_workspace_an_org_configured_like_its_family(
    db, settings, celery_eager
):
    from unittest import mock

    from tracpro.groups.models import Region, ReporterGroup
    from tracpro.polls.models import Poll, Response
    from tracpro.simulator.testing import running_simulator

    settings.DEBUG = True
    with (
        running_simulator(contacts=40, runs=300, orgs=4) as sim,
        mock.patch("tracpro.orgs.tasks.trigger"),
    ):
        settings.SIMULATOR_URL = sim.base_url
        call_command("seed_demo")
    ws03, ws04 = Org.objects.get(subdomain="ws03"), Org.objects.get(subdomain="ws04")
    assert (ws03.name, ws03.api_token) == ("Workspace 03", sim.tokens["ws03"])
    assert ws04.api_token == sim.tokens["ws04"] and ws04.languages == ["en", "fr"]
    # ws03 is shaped like edu, ws04 like health.
    assert Region.objects.get(org=ws03, name="Kawempe").parent.name == "Kampala"
    assert Region.objects.get(org=ws04, name="Kasese").parent.name == "Western"
    assert set(ReporterGroup.objects.for_org(ws04).values_list("name", flat=True)) == {
        "Village Health Teams",
        "Facility In-Charges",
    }
    assert Poll.objects.for_org(ws03).filter(is_active=True).exists()
    assert Response.objects.for_org(ws04).exists()
    assert Org.objects.count() == 4
