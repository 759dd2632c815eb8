from datetime import date

import pytest
import time_machine

from django.http import QueryDict
from django.test import RequestFactory

from tracpro.charts.filters import DateRange, NumericDisplay, date_window
from tracpro.dashboards.forms import FilterForm
from tracpro.groups.views import get_scope
from tracpro.orgs.access import get_membership

pytestmark = pytest.mark.django_db

TODAY = date(2024, 5, 20)


def request_for(user, org, query: str = ""):
    request = RequestFactory().get("/", HTTP_HOST=f"{org.subdomain}.localhost")
    request.GET = QueryDict(query)
    request.user = user
    request.org = org
    request.membership = get_membership(user, org)
    request.session = {}
    return request


def filters_for(user, org, query: str = "", **kwargs):
    request = request_for(user, org, query)
    return FilterForm(request.GET, scope=get_scope(request), **kwargs).filters()


@time_machine.travel("2024-05-20 12:00:00+03:00", tick=False)
def test_it_defaults_to_the_last_90_days_in_sums(world, ann):
    filters = filters_for(ann, world.org)
    assert (filters.start, filters.end) == date_window(DateRange.DAYS_90, TODAY)
    assert filters.numeric == NumericDisplay.SUM
    assert filters.region_ids is None
    assert not filters.needs_raw_answers


@time_machine.travel("2024-05-20 23:30:00+00:00", tick=False)
def test_it_takes_today_in_the_org_time_zone(world, ann):
    # 23:30 UTC is already May 21 in Kampala (UTC+3).
    assert filters_for(ann, world.org, "range=month").end == date(2024, 5, 21)


def test_it_reads_custom_dates(world, ann):
    filters = filters_for(ann, world.org, "range=custom&start=2024-04-01&end=2024-04-30")
    assert (filters.start, filters.end) == (date(2024, 4, 1), date(2024, 4, 30))


@time_machine.travel("2024-05-20 12:00:00+03:00", tick=False)
def test_it_falls_back_to_the_default_dates_when_custom_dates_are_wrong(world, ann):
    request = request_for(ann, world.org, "range=custom&start=2024-05-10&end=2024-05-01")
    form = FilterForm(request.GET, scope=get_scope(request))
    assert (form.filters().start, form.filters().end) == date_window(DateRange.DAYS_90, TODAY)
    assert "end" in form.errors


def test_it_narrows_to_the_chosen_region_and_its_sub_regions(world, ann):
    central = world.regions["Central"]
    filters = filters_for(ann, world.org, f"region={central.pk}")
    expected = {world.regions[name].pk for name in ("Central", "Kampala", "Wakiso")}
    assert filters.region_ids == expected
    assert filters.region == central


def test_it_ignores_a_region_outside_the_supervisors_scope(world, kampala_sam):
    gulu = world.regions["Gulu"]
    filters = filters_for(kampala_sam, world.org, f"region={gulu.pk}")
    assert filters.region is None
    assert filters.region_ids == {world.regions["Kampala"].pk}


def test_it_never_widens_a_supervisors_scope(world, kampala_sam):
    central = world.regions["Central"]
    # Central is an ancestor of Kampala, not a region sam may choose.
    filters = filters_for(kampala_sam, world.org, f"region={central.pk}")
    request = request_for(kampala_sam, world.org)
    assert filters.region_ids == get_scope(request).region_ids == {world.regions["Kampala"].pk}


def test_it_reads_reporter_group_and_contact_field_filters(world, ann):
    group = world.groups["Teachers"]
    filters = filters_for(ann, world.org, f"group={group.pk}&contact_facility_code=%20kla%20")
    assert filters.group == group
    assert filters.contact_fields == {"facility_code": "kla"}
    assert filters.needs_raw_answers


def test_it_ignores_unknown_contact_fields_and_other_orgs_groups(world, ann, beta):
    from tracpro.groups.tests.factories import make_reporter_group

    foreign = make_reporter_group(beta, "Foreign")
    filters = filters_for(ann, world.org, f"group={foreign.pk}&contact_secret=x")
    assert filters.group is None
    assert filters.contact_fields == {}


def test_it_leaves_out_dates_where_a_page_has_none(world, ann):
    filters = filters_for(ann, world.org, "range=month", with_dates=False)
    assert (filters.start, filters.end) == (None, None)
