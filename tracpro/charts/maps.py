"""Choropleth maps: one value per boundary for a question.

Numeric questions show the average answer of each area, coloured by the
category the question's own rules give that average (so an average of 4.5
lands where RapidPro would have routed a 4.5); categorical questions show the
most common category. Areas are the regions of the view that have a boundary
(see `tracpro.charts.regions.map_units`); geometry is the simplified copy the sync keeps.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db.models.functions import Coalesce

from tracpro.charts.data import AnswerRow
from tracpro.charts.regions import Unit, unit_lookup
from tracpro.charts.tally import Tally, category_order, rounded
from tracpro.groups.models import Boundary
from tracpro.orgs.models import Org
from tracpro.polls.models import Question, QuestionType
from tracpro.polls.rules import OTHER, categorize


def numeric_categories(question: Question) -> list[str]:
    names = list(dict.fromkeys(rule.get("category") or OTHER for rule in question.rules))
    return [name for name in names if name != OTHER] + [OTHER]


def map_areas(question: Question, rows: Iterable[AnswerRow], units: list[Unit]) -> dict | None:
    """{"areas": [...], "categories": [...], "scale": "category" | "value"} or None."""
    if question.question_type in (QuestionType.OPEN, QuestionType.RECORDING) or not units:
        return None
    lookup = unit_lookup(units)
    tallies: dict[str, Tally] = defaultdict(Tally)
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        unit = lookup.get(row.region_id)
        if unit is not None:
            tallies[unit.key].add(row)
            if row.category:
                counts[unit.key][row.category] += row.count
    if question.question_type == QuestionType.NUMERIC:
        categories = numeric_categories(question)
        areas = [_numeric_area(question, unit, tallies[unit.key]) for unit in units]
        scale = "category" if len(categories) > 2 else "value"
    else:
        seen = {name for counter in counts.values() for name in counter}
        categories = category_order(question, seen)
        areas = [
            _categorical_area(unit, tallies[unit.key], counts[unit.key], categories)
            for unit in units
        ]
        scale = "category"
    return {"areas": areas, "categories": categories, "scale": scale}


def _area(unit: Unit, tally: Tally) -> dict:
    return {
        "boundary": unit.boundary_id,
        "region": unit.region_id,
        "name": unit.label,
        "count": tally.count,
    }


def _numeric_area(question: Question, unit: Unit, tally: Tally) -> dict:
    average = rounded(tally.mean, 2)
    category = categorize(average, question.rules) if average is not None else None
    return {**_area(unit, tally), "value": average, "category": category}


def _categorical_area(unit: Unit, tally: Tally, counts: Counter, categories: list[str]) -> dict:
    category = None
    if counts:
        # Ties go to the category that comes first in the question's order.
        category = max(categories, key=lambda name: (counts.get(name, 0), -categories.index(name)))
        if not counts.get(category):
            category = None
    return {**_area(unit, tally), "value": counts.get(category, 0), "category": category}


def boundary_features(org: Org, units: Iterable[Unit]) -> dict:
    """The simplified GeoJSON of the units' boundaries, as one FeatureCollection."""
    by_boundary = {unit.boundary_id: unit for unit in units if unit.boundary_id is not None}
    shapes = (
        Boundary.objects.for_org(org)
        .filter(pk__in=by_boundary)
        .annotate(shape=Coalesce("simplified_geometry", "geometry"))
        .filter(shape__isnull=False)
        .values_list("pk", "shape")
    )
    features = [
        {
            "type": "Feature",
            "id": pk,
            "properties": {"name": by_boundary[pk].label, "region": by_boundary[pk].region_id},
            "geometry": shape,
        }
        for pk, shape in shapes
    ]
    return {"type": "FeatureCollection", "features": features}
