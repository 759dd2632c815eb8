"""Administration > Regions: choosing RapidPro groups, the hierarchy, boundaries, counts."""

from unittest import mock

import pytest

from django.urls import reverse

from tracpro.contacts.tests.factories import make_contact
from tracpro.groups.models import Region
from tracpro.groups.services import HierarchyError, move_region
from tracpro.groups.tests.factories import (
    make_boundary,
    make_region,
    make_remote_group,
    make_reporter_group,
)
from tracpro.orgs.models import Membership, SyncKind

ORG_URLCONF = "tracpro.urls"


def url(name: str, *args) -> str:
    return reverse(name, urlconf=ORG_URLCONF, args=args)


@pytest.fixture
def trigger():
    with mock.patch("tracpro.orgs.tasks.trigger") as patched:
        yield patched


def test_it_makes_chosen_groups_regions_and_fetches_their_contacts(
    client_for, acme, ann, trigger, django_capture_on_commit_callbacks
):
    kampala = make_remote_group(acme, "Kampala", member_count=12)
    make_remote_group(acme, "Gulu")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(ann, acme).post(url("groups:region_select"), {"groups": [kampala.pk]})

    assert response.status_code == 302
    region = Region.objects.get(org=acme)
    assert (region.uuid, region.name, region.is_active) == (kampala.uuid, "Kampala", True)
    trigger.assert_called_once_with(acme, SyncKind.CONTACTS)


def test_it_deselects_a_region_and_moves_its_children_up(
    client_for, acme, ann, sam, trigger, django_capture_on_commit_callbacks
):
    uganda, central = make_remote_group(acme, "Uganda"), make_remote_group(acme, "Central")
    kampala = make_remote_group(acme, "Kampala")
    top = make_region(acme, "Uganda", uuid=uganda.uuid)
    middle = make_region(acme, "Central", parent=top, uuid=central.uuid)
    leaf = make_region(acme, "Kampala", parent=middle, uuid=kampala.uuid)
    Membership.objects.get(user=sam, org=acme).regions.add(middle)

    with django_capture_on_commit_callbacks(execute=True):
        client_for(ann, acme).post(url("groups:region_select"), {"groups": [uganda.pk, kampala.pk]})

    middle.refresh_from_db()
    leaf.refresh_from_db()
    assert middle.is_active is False
    assert leaf.parent == top
    # The supervisor of Central keeps seeing what was inside it.
    assert list(Membership.objects.get(user=sam, org=acme).regions.all()) == [leaf]
    trigger.assert_called_once_with(acme, SyncKind.CONTACTS)


def test_it_reactivates_a_region_chosen_again(client_for, acme, ann, trigger):
    group = make_remote_group(acme, "Gulu District")
    region = make_region(acme, "Gulu", uuid=group.uuid, is_active=False)

    client_for(ann, acme).post(url("groups:region_select"), {"groups": [group.pk]})

    region.refresh_from_db()
    assert (region.is_active, region.name) == (True, "Gulu District")


def test_it_does_not_sync_when_nothing_changed(client_for, acme, ann, trigger):
    group = make_remote_group(acme, "Gulu")
    make_region(acme, "Gulu", uuid=group.uuid)

    response = client_for(ann, acme).post(
        url("groups:region_select"), {"groups": [group.pk]}, follow=True
    )

    assert "Nothing changed" in response.content.decode()
    trigger.assert_not_called()


def test_it_refuses_smart_groups_and_reporter_groups_as_regions(client_for, acme, ann, trigger):
    smart = make_remote_group(acme, "Active last week", query="last_seen_on > 7")
    teachers = make_remote_group(acme, "Teachers")
    make_reporter_group(acme, "Teachers", uuid=teachers.uuid)

    response = client_for(ann, acme).post(
        url("groups:region_select"), {"groups": [smart.pk, teachers.pk]}
    )

    assert response.status_code == 200
    assert "These groups cannot be chosen: Active last week, Teachers." in (
        response.content.decode()
    )
    assert not Region.objects.filter(org=acme).exists()


def test_the_select_page_offers_only_this_orgs_groups(client_for, acme, beta, ann):
    make_remote_group(acme, "Kampala")
    make_remote_group(beta, "Kabul")

    page = client_for(ann, acme).get(url("groups:region_select")).content.decode()

    assert "Kampala" in page
    assert "Kabul" not in page


def test_it_refuses_another_orgs_group(client_for, acme, beta, ann, trigger):
    foreign = make_remote_group(beta, "Kabul")

    response = client_for(ann, acme).post(url("groups:region_select"), {"groups": [foreign.pk]})

    assert response.status_code == 200
    assert not Region.objects.exists()


def test_it_shows_the_tree_with_contact_counts_and_boundaries(client_for, acme, ann):
    central = make_region(acme, "Central", boundary=make_boundary(acme, "Central Region"))
    kampala = make_region(acme, "Kampala", parent=central)
    make_region(acme, "Gulu")
    make_contact(acme, "In Central", region=central)
    make_contact(acme, "In Kampala 1", region=kampala)
    make_contact(acme, "In Kampala 2", region=kampala)
    make_contact(acme, "Removed", region=kampala, is_active=False)

    response = client_for(ann, acme).get(url("groups:region_list"))

    regions = response.context["regions"]
    assert [(r.name, r.depth, r.total_contacts, r.direct_contacts) for r in regions] == [
        ("Central", 0, 3, 1),
        ("Kampala", 1, 2, 2),
        ("Gulu", 0, 0, 0),
    ]
    assert "Central Region" in response.content.decode()


def test_an_admin_sets_a_parent_and_a_boundary(client_for, acme, ann):
    central = make_region(acme, "Central")
    kampala = make_region(acme, "Kampala")
    boundary = make_boundary(acme, "Kampala District", level=2)

    response = client_for(ann, acme).post(
        url("groups:region_update", kampala.pk), {"parent": central.pk, "boundary": boundary.pk}
    )

    assert response.status_code == 302
    kampala.refresh_from_db()
    assert (kampala.parent, kampala.boundary) == (central, boundary)


def test_a_cycle_is_refused_with_a_clear_message(client_for, acme, ann):
    central = make_region(acme, "Central")
    kampala = make_region(acme, "Kampala", parent=central)

    response = client_for(ann, acme).post(
        url("groups:region_update", central.pk), {"parent": kampala.pk, "boundary": ""}
    )

    assert response.status_code == 200
    assert "Kampala is inside Central, so it cannot also be its parent." in (
        response.content.decode()
    )
    central.refresh_from_db()
    assert central.parent is None


def test_the_parent_choices_leave_out_the_region_and_its_descendants(client_for, acme, ann):
    central = make_region(acme, "Central")
    make_region(acme, "Kampala", parent=central)
    make_region(acme, "Gulu")

    form = client_for(ann, acme).get(url("groups:region_update", central.pk)).context["form"]

    labels = [label.strip() for value, label in form.fields["parent"].choices if value]
    assert labels == ["Gulu"]


def test_a_boundary_of_another_org_is_refused(client_for, acme, beta, ann):
    kampala = make_region(acme, "Kampala")
    foreign = make_boundary(beta, "Kabul")

    response = client_for(ann, acme).post(
        url("groups:region_update", kampala.pk), {"parent": "", "boundary": foreign.pk}
    )

    assert response.status_code == 200
    kampala.refresh_from_db()
    assert kampala.boundary is None


def test_drag_and_drop_moves_a_region_and_recomputes_contact_regions(
    client_for, acme, ann, trigger, django_capture_on_commit_callbacks
):
    central = make_region(acme, "Central")
    kampala = make_region(acme, "Kampala")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(ann, acme).post(
            url("groups:region_move"), {"region": kampala.pk, "parent": central.pk}
        )

    assert response.json() == {"ok": True, "message": "Kampala is now inside Central."}
    kampala.refresh_from_db()
    assert kampala.parent == central
    trigger.assert_called_once_with(acme, SyncKind.CONTACTS)


def test_drag_and_drop_to_the_top_level(client_for, acme, ann):
    central = make_region(acme, "Central")
    kampala = make_region(acme, "Kampala", parent=central)

    client_for(ann, acme).post(url("groups:region_move"), {"region": kampala.pk, "parent": ""})

    kampala.refresh_from_db()
    assert kampala.parent is None


def test_drag_and_drop_refuses_a_cycle(client_for, acme, ann):
    central = make_region(acme, "Central")
    kampala = make_region(acme, "Kampala", parent=central)
    nakawa = make_region(acme, "Nakawa", parent=kampala)

    response = client_for(ann, acme).post(
        url("groups:region_move"), {"region": central.pk, "parent": nakawa.pk}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "Nakawa is inside Central, so it cannot also be its parent."
    central.refresh_from_db()
    assert central.parent is None


def test_drag_and_drop_cannot_reach_another_org(client_for, acme, beta, ann):
    mine = make_region(acme, "Kampala")
    foreign = make_region(beta, "Kabul")

    response = client_for(ann, acme).post(
        url("groups:region_move"), {"region": mine.pk, "parent": foreign.pk}
    )

    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.parent is None


def test_a_region_cannot_be_its_own_parent(acme):
    region = make_region(acme, "Kampala")

    with pytest.raises(HierarchyError, match="cannot be its own parent"):
        move_region(region, region)
