"""Categorisation truth tables, including every example of the product docs'
"Designing Flows" section."""

from decimal import Decimal

import pytest

from tracpro.polls.rules import OTHER, categorize, parse_number, passes


def rule(category: str, test: str, *arguments: str) -> dict:
    return {"category": category, "test": test, "arguments": list(arguments)}


@pytest.mark.parametrize(
    ("test", "arguments", "value", "expected"),
    [
        # "The between test is inclusive of its endpoints": 5 and 10 match 5..10.
        ("has_number_between", ["5", "10"], "5", True),
        ("has_number_between", ["5", "10"], "10", True),
        ("has_number_between", ["5", "10"], "7.5", True),
        ("has_number_between", ["5", "10"], "4.99", False),
        ("has_number_between", ["5", "10"], "10.01", False),
        # "neither greater than 5 nor less than 5 would match the input 5".
        ("has_number_gt", ["5"], "5", False),
        ("has_number_lt", ["5"], "5", False),
        ("has_number_gt", ["5"], "5.1", True),
        ("has_number_lt", ["5"], "4.9", True),
        ("has_number_gte", ["5"], "5", True),
        ("has_number_gte", ["5"], "4.9", False),
        ("has_number_lte", ["5"], "5", True),
        ("has_number_lte", ["5"], "5.1", False),
        ("has_number_eq", ["0"], "0", True),
        ("has_number_eq", ["0"], "0.0", True),
        ("has_number_eq", ["0"], "0.5", False),
        ("has_number", [], "-3.5", True),
        ("has_number", [], 42, True),
        ("has_number", [], 4.5, True),
        # Not numbers, or broken rules, never pass.
        ("has_number", [], "twelve", False),
        ("has_number", [], "", False),
        ("has_number", [], None, False),
        ("has_number", [], "NaN", False),
        ("has_number", [], "Infinity", False),
        ("has_number_gt", ["x"], "5", False),
        ("has_number_gt", [], "5", False),
        ("has_number_between", ["5"], "5", False),
        ("has_text", [], "5", False),
        ("unknown_test", ["1"], "5", False),
    ],
)
def test_it_applies_each_numeric_test(test, arguments, value, expected):
    assert passes(test, arguments, value) is expected


def test_it_parses_numbers_with_spaces_and_rejects_the_rest():
    assert parse_number(" 12.50 ") == Decimal("12.50")
    assert parse_number(True) is None
    assert parse_number("12 pupils") is None


# The docs' "common rule set": fine for integers, but averages such as 0.5 or
# 4.5 fall through to "Other".
COMMON = [
    rule("zero", "has_number_eq", "0"),
    rule("1-4", "has_number_between", "1", "4"),
    rule("5-10", "has_number_between", "5", "10"),
    rule("11+", "has_number_gt", "10"),
]
# The docs' adjusted rule set, which categorises any value.
ADJUSTED = [
    rule("zero", "has_number_eq", "0"),
    rule("1-4", "has_number_between", "0", "4"),
    rule("5-10", "has_number_between", "4", "10"),
    rule("11+", "has_number_gt", "10"),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "zero"),
        (1, "1-4"),
        (4, "1-4"),
        (5, "5-10"),
        (10, "5-10"),
        (11, "11+"),
        (0.5, OTHER),
        (4.5, OTHER),
        (10.5, "11+"),
        (-1, OTHER),
        ("many", OTHER),
    ],
)
def test_it_categorises_with_the_docs_common_rules(value, expected):
    assert categorize(value, COMMON) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "zero"),
        (0.5, "1-4"),
        (4, "1-4"),
        (4.5, "5-10"),
        (10, "5-10"),
        (10.5, "11+"),
        (-0.5, OTHER),
    ],
)
def test_it_categorises_any_value_with_the_docs_adjusted_rules(value, expected):
    assert categorize(value, ADJUSTED) == expected


def test_it_gives_the_first_matching_category():
    overlapping = [rule("low", "has_number_lte", "10"), rule("any", "has_number")]
    assert categorize(3, overlapping) == "low"
    assert categorize(30, overlapping) == "any"


def test_it_gives_other_without_rules():
    assert categorize(3, []) == OTHER
