"""The region tree: one query, then every question about the hierarchy in memory."""

import pytest

from tracpro.groups.scope import RegionScope
from tracpro.groups.tests.factories import make_region
from tracpro.groups.tree import RegionTree

pytestmark = pytest.mark.django_db


@pytest.fixture
def uganda(acme):
    """Central > Kampala > Nakawa, Central > wakiso (lower case), Northern > Gulu,
    and Old, no longer followed, which Lira still names as its parent."""
    central = make_region(acme, "Central")
    kampala = make_region(acme, "Kampala", parent=central)
    nakawa = make_region(acme, "Nakawa", parent=kampala)
    wakiso = make_region(acme, "wakiso", parent=central)
    northern = make_region(acme, "Northern")
    gulu = make_region(acme, "Gulu", parent=northern)
    old = make_region(acme, "Old", is_active=False)
    lira = make_region(acme, "Lira", parent=old)
    return {r.name: r for r in (central, kampala, nakawa, wakiso, northern, gulu, old, lira)}


def ids(uganda, *names):
    return frozenset(uganda[name].pk for name in names)


def test_it_loads_with_one_query_and_answers_from_memory(acme, uganda, django_assert_num_queries):
    with django_assert_num_queries(1):
        tree = RegionTree.load(acme)
    with django_assert_num_queries(0):
        subtree = tree.subtree([uganda["Central"].pk])
        above = tree.ancestors([uganda["Nakawa"].pk, uganda["Gulu"].pk])
        lineage = [region.name for region in tree.lineage(uganda["Nakawa"].pk)]
        ordered = [(region.name, region.depth) for region in tree.in_order()]
        path = tree.path(uganda["Nakawa"].pk)

    assert subtree == ids(uganda, "Central", "Kampala", "Nakawa", "wakiso")
    assert above == ids(uganda, "Central", "Kampala", "Northern")
    assert lineage == ["Kampala", "Central"]
    assert path == "Central / Kampala / Nakawa"
    # Depth-first, siblings by name whatever their case; a region under an
    # inactive parent sits at the top; inactive regions are not in the tree.
    assert ordered == [
        ("Central", 0),
        ("Kampala", 1),
        ("Nakawa", 2),
        ("wakiso", 1),
        ("Lira", 0),
        ("Northern", 0),
        ("Gulu", 1),
    ]


def test_it_leaves_out_inactive_regions_and_other_orgs(acme, beta, uganda):
    elsewhere = make_region(beta, "Central")
    tree = RegionTree.load(acme)
    assert uganda["Old"].pk not in tree
    assert elsewhere.pk not in tree
    assert tree.subtree([uganda["Old"].pk, elsewhere.pk]) == frozenset()
    assert tree.path(None) == "No region"


def test_a_supervisors_scope_costs_one_query_for_the_tree(acme, uganda, django_assert_num_queries):
    with django_assert_num_queries(1):
        scope = RegionScope.build(
            acme,
            is_admin=False,
            assigned_ids=[uganda["Kampala"].pk],
            current_id=uganda["Nakawa"].pk,
        )
    with django_assert_num_queries(0):
        choices = [region.indented_name for region in scope.choices()]
        related = scope.related_ids()

    assert scope.allowed_ids == ids(uganda, "Kampala", "Nakawa")
    assert scope.region_ids == ids(uganda, "Nakawa")
    assert choices == ["Kampala", "\u00a0\u00a0Nakawa"]
    assert related == ids(uganda, "Nakawa", "Kampala", "Central")


def test_a_choice_outside_the_scope_is_ignored(acme, uganda):
    scope = RegionScope.build(
        acme, is_admin=False, assigned_ids=[uganda["Kampala"].pk], current_id=uganda["Gulu"].pk
    )
    assert scope.current is None
    assert scope.region_ids == ids(uganda, "Kampala", "Nakawa")
