"""The home page's recent indicators: the five most recent, the first one's chart
within the viewer's regions, and how to create one when there are none."""

from datetime import date

import pytest

from tracpro.indicators.tests.factories import make_indicator

pytestmark = pytest.mark.django_db


def test_it_shows_the_five_most_recent_indicators_and_the_first_ones_chart(
    indicators, client_for, ann
):
    world = indicators.world
    for month in range(1, 6):
        make_indicator(
            world.org,
            f"Older {month}",
            world.questions["boys"],
            start_date=date(2023, month, 1),
            end_date=date(2023, month, 28),
        )
    response = client_for(ann, world.org).get("/")

    shown = response.context["indicators"]
    assert [i.name for i in shown] == [indicators.indicator.name] + [
        f"Older {month}" for month in (5, 4, 3, 2)
    ]
    chart = response.context["indicator_chart"]
    assert chart["modes"]["sum"]["total"] == [42, 84, 126]
    html = response.content.decode()
    assert 'id="home-indicator-data"' in html and "js/indicators.js" in html


def test_a_supervisor_sees_the_chart_of_their_regions(indicators, client_for, kampala_sam):
    chart = client_for(kampala_sam, indicators.world.org).get("/").context["indicator_chart"]
    assert [item["label"] for item in chart["modes"]["sum"]["series"]] == ["Kampala"]
    assert chart["modes"]["sum"]["total"] == [20, 54, 86]


def test_it_tells_how_to_create_one_when_there_are_none(world, client_for, ann):
    response = client_for(ann, world.org).get("/")
    html = response.content.decode()
    assert response.context["indicator_chart"] is None
    assert "No indicators yet." in html
    assert 'href="/indicators/create/"' in html
    # Chart.js is not loaded for nothing; our own scripts are one bundle that every
    # home page shares (offline compression needs it the same whatever the context).
    assert "chart.umd.min.js" not in html
