from tracpro.charts.data import AnswerRow
from tracpro.charts.maps import map_areas
from tracpro.charts.regions import Unit
from tracpro.polls.models import Question, QuestionType

RULES = [
    {"category": "1-4", "test": "has_number_between", "arguments": ["0", "4"]},
    {"category": "5-10", "test": "has_number_between", "arguments": ["4", "10"]},
]
UNITS = [
    Unit("1", "Kampala", frozenset([1]), boundary_id=11, region_id=1),
    Unit("2", "Gulu", frozenset([2, 3]), boundary_id=12, region_id=2),
]


def row(region, category, count, numbers=()):
    return AnswerRow(
        1,
        1,
        region,
        category,
        count,
        len(numbers),
        float(sum(numbers)),
        float(sum(n * n for n in numbers)),
    )


def test_it_averages_numbers_per_area_and_categorises_the_average():
    question = Question(question_type=QuestionType.NUMERIC, rules=RULES)
    areas = map_areas(
        question, [row(1, "1-4", 2, [4, 5]), row(2, "5-10", 1, [9]), row(3, "1-4", 1, [2])], UNITS
    )
    assert [(a["name"], a["value"], a["category"], a["count"]) for a in areas["areas"]] == [
        ("Kampala", 4.5, "5-10", 2),
        ("Gulu", 5.5, "5-10", 2),
    ]
    assert areas["categories"] == ["1-4", "5-10", "Other"]
    assert areas["scale"] == "category"


def test_it_gives_other_to_an_average_no_rule_covers():
    question = Question(question_type=QuestionType.NUMERIC, rules=RULES)
    areas = map_areas(question, [row(1, "", 1, [40])], UNITS)["areas"]
    assert (areas[0]["value"], areas[0]["category"]) == (40, "Other")
    assert (areas[1]["value"], areas[1]["category"]) == (None, None)


def test_it_shows_the_most_common_category_ignoring_blanks():
    question = Question(question_type=QuestionType.CATEGORICAL, categories=["Yes", "No", "Other"])
    areas = map_areas(
        question,
        [row(1, "Yes", 1), row(1, "No", 3), row(1, "", 9), row(2, "Yes", 2), row(3, "No", 2)],
        UNITS,
    )["areas"]
    # Gulu is a tie (2 and 2): the first category in the question's order wins.
    assert [(a["name"], a["category"], a["value"]) for a in areas] == [
        ("Kampala", "No", 3),
        ("Gulu", "Yes", 2),
    ]


def test_it_has_no_map_for_open_questions_or_without_areas():
    assert map_areas(Question(question_type=QuestionType.OPEN), [row(1, "x", 1)], UNITS) is None
    assert map_areas(Question(question_type=QuestionType.NUMERIC), [], []) is None


def test_it_colours_by_value_when_the_rules_have_one_category():
    question = Question(
        question_type=QuestionType.NUMERIC,
        rules=[{"category": "Number", "test": "has_number", "arguments": []}],
    )
    assert map_areas(question, [row(1, "Number", 1, [3])], UNITS)["scale"] == "value"
