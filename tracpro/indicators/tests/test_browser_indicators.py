"""Recent indicators in a real browser: an admin creates one for Enrolment (Boys)
against Attendance (Absent Pupils) and sees Kampala's and Gulu's series; the
Kampala supervisor sees only Kampala's; small screens and Persian pages."""

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from playwright.sync_api import expect

from tracpro.contacts.tests.factories import make_contact
from tracpro.dashboards.tests.test_browser_dashboards import PAINTED_PIXELS
from tracpro.groups.tests.factories import make_region
from tracpro.indicators.models import Indicator
from tracpro.indicators.tests.factories import make_indicator
from tracpro.orgs.models import Org
from tracpro.polls import rollups
from tracpro.polls.models import Question, QuestionType
from tracpro.polls.tests.factories import (
    make_answer,
    make_poll,
    make_pollrun,
    make_question,
    make_response,
)
from tracpro.polls.tests.world import KAMPALA_TZ

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIES_LABELS = "c => Chart.getChart(c).data.datasets.map(d => d.label)"


@dataclass
class Schools:
    org: Org
    enrolment_boys: int
    absent_pupils: int


@pytest.fixture
def schools(acme) -> Schools:
    """Two districts, Kampala and Gulu; Enrolment once in May, Attendance weekly."""
    kampala, gulu = make_region(acme, "Kampala"), make_region(acme, "Gulu")
    enrolment = make_poll(acme, "Enrolment")
    boys = make_question(enrolment, "boys", QuestionType.NUMERIC, rapidpro_name="Boys")
    make_question(enrolment, "girls", QuestionType.NUMERIC, rapidpro_name="Girls")
    attendance = make_poll(acme, "Attendance")
    absent = make_question(
        attendance, "absent_pupils", QuestionType.NUMERIC, rapidpro_name="Absent Pupils"
    )
    reporters = [make_contact(acme, f"Kampala {n}", kampala) for n in range(3)]
    reporters += [make_contact(acme, f"Gulu {n}", gulu) for n in range(2)]
    start = make_pollrun(enrolment, datetime(2024, 5, 2, 9, tzinfo=KAMPALA_TZ))
    for index, contact in enumerate(reporters):
        make_answer(make_response(start, contact), boys, 100 + 10 * index)
    for week in range(4):
        pollrun = make_pollrun(attendance, datetime(2024, 5, 6 + 7 * week, 9, tzinfo=KAMPALA_TZ))
        for index, contact in enumerate(reporters):
            make_answer(make_response(pollrun, contact), absent, 3 + week + index)
    rollups.rebuild(acme)
    return Schools(acme, boys.pk, absent.pk)


def chart_labels(page) -> list[str]:
    canvas = page.locator("canvas.js-indicator-chart").first
    expect(canvas).to_be_visible()
    handle = canvas.element_handle()
    page.wait_for_function("c => Chart.getChart(c) !== undefined", arg=handle)
    page.wait_for_function(f"c => ({PAINTED_PIXELS})(c) > 500", arg=handle)
    return canvas.evaluate(SERIES_LABELS)


def test_an_admin_creates_an_indicator_and_a_supervisor_sees_their_region(
    local_page, site_url, log_in, schools, ann, sam
):
    page = local_page
    log_in(ann, schools.org)
    page.goto(site_url(schools.org, "/"))
    page.get_by_role("link", name="Indicators", exact=True).click()
    page.get_by_role("link", name="New indicator").click()
    page.get_by_label("Name").fill("Boys enrolled against absent pupils")
    page.get_by_label("Start date").fill("2024-05-01")
    page.get_by_label("End date").fill("2024-05-31")
    page.get_by_label("Baseline poll").select_option(label="Enrolment")
    baseline = page.get_by_label("Baseline question")
    expect(baseline.locator("option")).to_have_text(["---------", "Boys", "Girls"])
    baseline.select_option(label="Boys")
    page.get_by_label("Follow-up poll").select_option(label="Attendance")
    follow_up = page.get_by_label("Follow-up question")
    expect(follow_up.locator("option")).to_have_text(["---------", "Absent Pupils"])
    follow_up.select_option(label="Absent Pupils")
    page.get_by_label("Y-axis title").fill("Pupils")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("h1")).to_have_text("Boys enrolled against absent pupils")
    assert chart_labels(page) == ["Kampala", "Gulu", "Baseline"]
    indicator = Indicator.objects.get(org=schools.org)
    assert (indicator.baseline_question_id, indicator.follow_up_question_id) == (
        schools.enrolment_boys,
        schools.absent_pupils,
    )
    expect(page.locator(".summary-figures")).to_contain_text("600")  # 100+110+...+140

    page.locator(".js-indicator-numeric").get_by_role("link", name="Average").click()
    expect(page.locator(".js-mode-table[data-mode=average]")).to_be_visible()
    assert chart_labels(page) == ["Kampala", "Gulu", "All regions in view", "Baseline"]
    assert "numeric=average" in page.url

    membership = sam.memberships.get(org=schools.org)
    membership.regions.set([indicator.org.regions.get(name="Kampala")])
    page.context.clear_cookies()
    log_in(sam, schools.org)
    page.goto(site_url(schools.org, f"/indicators/read/{indicator.pk}/"))
    assert chart_labels(page) == ["Kampala", "Baseline"]
    expect(page.locator(".summary-figures")).to_contain_text("330")  # 100+110+120
    page.goto(site_url(schools.org, "/"))
    assert chart_labels(page) == ["Kampala", "Baseline"]


def test_it_fits_a_phone_and_mirrors_in_persian(local_page, site_url, log_in, schools, ann):
    indicator = make_indicator(
        schools.org,
        baseline=Question.objects.get(pk=schools.enrolment_boys),
        follow_up=Question.objects.get(pk=schools.absent_pupils),
        start_date=date(2024, 5, 1),
        end_date=date(2024, 5, 31),
    )
    page = local_page
    log_in(ann, schools.org)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(site_url(schools.org, f"/indicators/read/{indicator.pk}/"))
    assert chart_labels(page) == ["Kampala", "Gulu", "Baseline"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    ann.language = "fa"
    ann.save()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site_url(schools.org, f"/indicators/read/{indicator.pk}/"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    chart_labels(page)
    options = page.locator("canvas.js-indicator-chart").evaluate(
        "c => { const o = Chart.getChart(c).options;"
        " return [o.plugins.legend.rtl, o.scales.x.reverse, o.scales.y.position]; }"
    )
    assert options == [True, True, "right"]
