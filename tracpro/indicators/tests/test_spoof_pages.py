"""Spoof data pages: only for admins of orgs that show spoof data; the data made up
for the contacts in view, marked on the indicator, cleared in one go."""

import pytest

from tracpro.polls.models import PollRun, Response
from tracpro.polls.tests.test_rollups import assert_rollups_match_a_rebuild
from tracpro.polls.tests.world import page_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def shows_spoof_data(indicators):
    org = indicators.world.org
    org.show_spoof_data = True
    org.save(update_fields=["show_spoof_data"])
    return org


SPOOF = {"start": "2024-06-03", "end": "2024-06-17", "every": "7", "low": "5", "high": "9"}


def test_an_admin_makes_up_data_for_the_contacts_in_view(
    indicators, shows_spoof_data, client_for, ann
):
    client = client_for(ann, shows_spoof_data)
    url = page_url("indicators:spoof", indicators.indicator.pk)
    form = client.get(url)
    assert form.status_code == 200
    assert form.context["contact_count"] == len(indicators.world.contacts)

    response = client.post(url, SPOOF)

    assert response["Location"] == page_url("indicators:read", indicators.indicator.pk)
    spoofed = PollRun.objects.for_org(shows_spoof_data).spoofed()
    assert sorted((p.poll.display_name, p.local_date.isoformat()) for p in spoofed) == [
        ("Attendance", "2024-06-10"),
        ("Attendance", "2024-06-17"),
        ("Enrolment", "2024-06-03"),
    ]
    assert Response.objects.filter(pollrun__in=spoofed).count() == 3 * len(
        indicators.world.contacts
    )
    assert_rollups_match_a_rebuild(shows_spoof_data)

    chart = client.get(
        page_url(
            "indicators:read",
            indicators.indicator.pk,
            range="custom",
            start="2024-06-01",
            end="2024-06-30",
        )
    ).context["chart"]
    assert [(d["date"], d["spoofed"]) for d in chart["dates"]] == [
        ("2024-06-10", True),
        ("2024-06-17", True),
    ]
    total = chart["modes"]["sum"]["total"]
    assert all(5 * 5 <= value <= 5 * 9 for value in total)


def test_the_spoof_form_explains_what_it_refuses(indicators, shows_spoof_data, client_for, ann):
    url = page_url("indicators:spoof", indicators.indicator.pk)
    client = client_for(ann, shows_spoof_data)
    errors = client.post(url, {**SPOOF, "low": "10", "high": "2"}).context["form"].errors
    assert errors["high"] == ["The largest answer must not be smaller than the smallest."]
    errors = client.post(url, {**SPOOF, "end": "2024-06-05"}).context["form"].errors
    assert errors["end"] == ["Leave room for at least one follow-up date after the baseline date."]
    assert not PollRun.objects.for_org(shows_spoof_data).spoofed().exists()


def test_a_supervisors_spoof_data_is_refused(indicators, shows_spoof_data, client_for, sam):
    client = client_for(sam, shows_spoof_data)
    assert client.get(page_url("indicators:spoof", indicators.indicator.pk)).status_code == 404
    assert client.post(page_url("indicators:clear_spoof")).status_code == 404


def test_nothing_of_spoof_data_while_the_org_hides_it(indicators, client_for, ann):
    client = client_for(ann, indicators.world.org)
    assert client.get(page_url("indicators:spoof", indicators.indicator.pk)).status_code == 404
    assert client.post(page_url("indicators:clear_spoof")).status_code == 404
    page = client.get(page_url("indicators:read", indicators.indicator.pk)).content.decode()
    assert "Spoof data" not in page


def test_clearing_deletes_every_spoofed_date(indicators, shows_spoof_data, client_for, ann):
    client = client_for(ann, shows_spoof_data)
    client.post(page_url("indicators:spoof", indicators.indicator.pk), SPOOF)
    assert "Clear spoof data" in client.get(page_url("indicators:list")).content.decode()
    assert client.get(page_url("indicators:clear_spoof")).status_code == 405

    response = client.post(page_url("indicators:clear_spoof"))

    assert response["Location"] == page_url("indicators:list")
    assert not PollRun.objects.for_org(shows_spoof_data).spoofed().exists()
    assert PollRun.objects.for_org(shows_spoof_data).count() == 5  # the real dates stay
    assert_rollups_match_a_rebuild(shows_spoof_data)


def test_the_series_export_leaves_spoofed_dates_out_unless_asked(
    indicators, shows_spoof_data, client_for, ann
):
    client = client_for(ann, shows_spoof_data)
    client.post(page_url("indicators:spoof", indicators.indicator.pk), SPOOF)
    june = {"range": "custom", "start": "2024-05-01", "end": "2024-06-30", "_format": "csv"}

    def exported(**extra) -> list[list[str]]:
        url = page_url("indicators:read", indicators.indicator.pk, **june, **extra)
        body = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
        return [line.split(",") for line in body.splitlines()[1:]]

    assert [row[0] for row in exported()] == ["2024-05-02", "2024-05-09", "2024-05-16"]
    with_spoofed = exported(spoof="1")
    assert [row[:2] for row in with_spoofed[-2:]] == [["2024-06-10", "Yes"], ["2024-06-17", "Yes"]]
