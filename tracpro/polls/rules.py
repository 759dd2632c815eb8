"""Categorisation of numbers by a question's RapidPro rules.

A numeric question keeps the router's numeric tests as rules,
`[{"category": "1-4", "test": "has_number_between", "arguments": ["1", "4"]}, ...]`,
in router order. `categorize` gives any value (an answer, or a figure TracPro
computed such as an average) the category of the first rule it passes, else
"Other" — exactly how RapidPro would have routed that number.

Test semantics (RapidPro's): `has_number_between` includes both ends;
`has_number_lt` / `has_number_gt` are strict; `_lte` / `_gte` are not;
`has_number_eq` is equality; `has_number` passes any number.
"""

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation

OTHER = "Other"
# An answer that is a number (what `Answer.number` keeps): digits with an optional
# sign, point and exponent. Written so Postgres' regular expressions read it the same
# (the archive import decides in SQL, the API sync in Python).
NUMBER_PATTERN = r"^\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$"
NUMBER = re.compile(NUMBER_PATTERN)

Number = Decimal | float | int | str | None


def parse_number(value: Number) -> Decimal | None:
    """The value as a finite Decimal, or None when it is not a plain number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _compare(op: Callable[[Decimal, Decimal], bool]) -> Callable[[Decimal, list], bool]:
    def test(number: Decimal, arguments: list) -> bool:
        if len(arguments) != 1:
            return False
        limit = parse_number(arguments[0])
        return limit is not None and op(number, limit)

    return test


def _between(number: Decimal, arguments: list) -> bool:
    if len(arguments) != 2:
        return False
    low, high = (parse_number(argument) for argument in arguments)
    return low is not None and high is not None and low <= number <= high


NUMERIC_TESTS: Mapping[str, Callable[[Decimal, list], bool]] = {
    "has_number": lambda number, arguments: True,
    "has_number_between": _between,
    "has_number_lt": _compare(operator.lt),
    "has_number_lte": _compare(operator.le),
    "has_number_gt": _compare(operator.gt),
    "has_number_gte": _compare(operator.ge),
    "has_number_eq": _compare(operator.eq),
}


def passes(test: str, arguments: list, value: Number) -> bool:
    """Whether `value` passes one RapidPro numeric test; unknown tests never pass."""
    number = parse_number(value)
    check = NUMERIC_TESTS.get(test)
    return number is not None and check is not None and check(number, list(arguments or []))


def categorize(value: Number, rules: Iterable[Mapping]) -> str:
    """The category of the first rule `value` passes, else "Other"."""
    for rule in rules:
        if passes(rule.get("test", ""), rule.get("arguments", []), value):
            return rule.get("category") or OTHER
    return OTHER
