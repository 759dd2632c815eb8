"""The region switcher and the scope every list, choice, search and export uses."""

import pytest

from django.urls import reverse

from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.tests.factories import make_region
from tracpro.orgs.models import Membership


def url(name: str) -> str:
    return reverse(name, urlconf="tracpro.urls")


@pytest.fixture
def uganda(acme):
    """Central > Kampala > Nakawa, and Northern > Gulu."""
    central = make_region(acme, "Central")
    kampala = make_region(acme, "Kampala", parent=central)
    nakawa = make_region(acme, "Nakawa", parent=kampala)
    northern = make_region(acme, "Northern")
    gulu = make_region(acme, "Gulu", parent=northern)
    return {r.name: r for r in (central, kampala, nakawa, northern, gulu)}


def listed_names(client) -> list[str]:
    return sorted(c.name for c in client.get(url("contacts:list")).context["contacts"])


def assign(user, org, *regions):
    Membership.objects.get(user=user, org=org).regions.set(regions)


def test_a_supervisor_is_offered_their_regions_and_sub_regions_in_tree_order(
    client_for, acme, sam, uganda
):
    assign(sam, acme, uganda["Kampala"])

    page = client_for(sam, acme).get(url("contacts:list")).content.decode()

    options = page.split('id="region-switcher"')[1].split("</select>")[0]
    assert "All my regions" in options
    assert options.index("Kampala") < options.index("\u00a0\u00a0Nakawa")
    assert "Central" not in options and "Gulu" not in options


def test_a_supervisor_sees_contacts_of_their_regions_and_all_descendants(
    client_for, acme, sam, uganda
):
    assign(sam, acme, uganda["Kampala"])
    for region in uganda.values():
        make_contact(acme, f"In {region.name}", region=region)
    make_contact(acme, "Nowhere")

    assert listed_names(client_for(sam, acme)) == ["In Kampala", "In Nakawa"]


def test_an_admin_sees_every_contact_including_those_without_a_region(
    client_for, acme, ann, uganda
):
    make_contact(acme, "In Gulu", region=uganda["Gulu"])
    make_contact(acme, "Nowhere")

    assert listed_names(client_for(ann, acme)) == ["In Gulu", "Nowhere"]


def test_the_switcher_narrows_every_list_and_is_remembered_per_user_and_org(
    client_for, acme, ann, sam, uganda
):
    assign(sam, acme, uganda["Central"])
    make_contact(acme, "In Central", region=uganda["Central"])
    make_contact(acme, "In Nakawa", region=uganda["Nakawa"])
    client = client_for(sam, acme)

    response = client.post(
        url("groups:choose_region"),
        {"region": uganda["Kampala"].pk, "include_subregions": "1", "next": "/contact/"},
    )

    assert response["Location"] == "/contact/"
    assert listed_names(client) == ["In Nakawa"]
    membership = Membership.objects.get(user=sam, org=acme)
    assert membership.current_region == uganda["Kampala"]
    # Another session of the same user starts where they left off; the admin is unaffected.
    assert listed_names(client_for(sam, acme)) == ["In Nakawa"]
    assert listed_names(client_for(ann, acme)) == ["In Central", "In Nakawa"]


def test_without_sub_regions_only_the_chosen_region_is_shown(client_for, acme, sam, uganda):
    assign(sam, acme, uganda["Central"])
    make_contact(acme, "In Central", region=uganda["Central"])
    make_contact(acme, "In Kampala", region=uganda["Kampala"])
    client = client_for(sam, acme)

    client.post(
        url("groups:choose_region"), {"region": uganda["Central"].pk, "include_subregions": "0"}
    )

    assert listed_names(client) == ["In Central"]


def test_a_supervisor_cannot_choose_a_region_outside_theirs(client_for, acme, sam, uganda):
    assign(sam, acme, uganda["Kampala"])

    response = client_for(sam, acme).post(
        url("groups:choose_region"), {"region": uganda["Gulu"].pk}
    )

    assert response.status_code == 400
    assert Membership.objects.get(user=sam, org=acme).current_region is None


def test_the_switcher_never_redirects_off_site(client_for, acme, ann, uganda):
    response = client_for(ann, acme).post(
        url("groups:choose_region"), {"region": "all", "next": "https://evil.example.com/"}
    )

    assert response["Location"] == "/"


def test_a_deactivated_region_drops_out_of_the_scope(client_for, acme, sam, uganda):
    assign(sam, acme, uganda["Kampala"])
    make_contact(acme, "In Nakawa", region=uganda["Nakawa"])
    uganda["Kampala"].deactivate()

    # Nakawa moved up to Central, and sam was given Kampala's children.
    assert listed_names(client_for(sam, acme)) == ["In Nakawa"]
