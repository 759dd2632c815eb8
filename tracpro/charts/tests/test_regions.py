from tracpro.charts.regions import map_units, units
from tracpro.groups.models import Region
from tracpro.groups.tree import RegionTree


def node(pk, name, parent_id, boundary_id):
    return Region(pk=pk, name=name, parent_id=parent_id, boundary_id=boundary_id)


# Central (boundary 10) > Kampala (11), Wakiso (no boundary) > Nansana (13);
# Northern (no boundary) > Gulu (12)
TREE = RegionTree(
    [
        node(1, "Central", None, 10),
        node(2, "Kampala", 1, 11),
        node(3, "Wakiso", 1, None),
        node(4, "Nansana", 3, 13),
        node(5, "Northern", None, None),
        node(6, "Gulu", 5, 12),
    ]
)


def keys(found):
    return [(unit.label, sorted(unit.region_ids, key=str)) for unit in found]


def test_it_splits_everything_into_the_top_regions_and_no_region():
    assert keys(units(TREE, None)) == [
        ("Central", [1, 2, 3, 4]),
        ("Northern", [5, 6]),
        ("No region", [None]),
    ]


def test_it_splits_one_region_into_itself_and_its_children():
    assert keys(units(TREE, TREE.subtree([1]))) == [
        ("Central (not in a sub-region)", [1]),
        ("Kampala", [2]),
        ("Wakiso", [3, 4]),
    ]


def test_it_splits_several_unrelated_regions_into_those_regions():
    # In tree order: Central's sub-regions before Northern's.
    assert keys(units(TREE, frozenset([2, 6]))) == [("Kampala", [2]), ("Gulu", [6])]


def test_it_draws_the_highest_regions_that_have_a_boundary():
    assert keys(map_units(TREE, None)) == [("Central", [1, 2, 3, 4]), ("Gulu", [6])]
    assert keys(map_units(TREE, TREE.subtree([1]))) == [("Kampala", [2]), ("Nansana", [4])]


def test_it_draws_a_single_region_itself_when_nothing_below_has_a_boundary():
    tree = RegionTree([node(1, "Central", None, 10), node(2, "Kampala", 1, None)])
    assert keys(map_units(tree, frozenset([1, 2]))) == [("Central", [1, 2])]
