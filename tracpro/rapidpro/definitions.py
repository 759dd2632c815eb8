"""Questions from a flow definition (flow spec 13/14, as `definitions.json` exports it).

Every result a flow writes is a question: a "wait for response" router with a
result name, and a router without a wait that computes a value ("split by
expression"). One result key may be written by several nodes.

- type: numeric when every case of its routers is a numeric test, open-ended
  when the routers have no cases ("All Responses"), categorical otherwise;
- categories: router category names in router order, "Other" last; the wait's
  timeout category ("No Response") and "All Responses" are not categories;
- rules: the numeric tests with their arguments, in case order, so an arbitrary
  value (such as an average) can be categorised like RapidPro would.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracpro.polls.models import QuestionType

NUMERIC_TESTS = frozenset(
    {
        "has_number",
        "has_number_between",
        "has_number_lt",
        "has_number_lte",
        "has_number_eq",
        "has_number_gt",
        "has_number_gte",
    }
)
# The names RapidPro gives a wait's timeout category and a case-less router's
# only category; used when a flow's definition is not at hand.
NO_RESPONSE = "No Response"
ALL_RESPONSES = "All Responses"
OTHER = "Other"


@dataclass
class QuestionSpec:
    key: str
    name: str
    question_type: str
    categories: list[str] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)
    node_uuids: list[str] = field(default_factory=list)
    order: int = 0


def result_key(name: str) -> str:
    """RapidPro's key for a result name: "Girls per 100 Boys" -> "girls_per_100_boys"."""
    return re.sub(r"[^\w]+", "_", name.strip().lower()).strip("_")[:64]


def questions_from_definition(
    definition: dict, result_keys: dict[str, str] | None = None
) -> list[QuestionSpec]:
    """The questions of one flow definition, in the order a contact meets them.

    `result_keys` maps node uuids to the key RapidPro reports for them (the flows
    API's `results`); without it keys are derived from result names.
    """
    result_keys = result_keys or {}
    specs: dict[str, QuestionSpec] = {}
    default_categories: dict[str, set[str]] = {}
    for node in nodes_in_flow_order(definition.get("nodes") or []):
        router = node.get("router") or {}
        name = router.get("result_name")
        if not name:
            continue
        key = result_keys.get(node.get("uuid", "")) or result_key(name)
        spec = specs.get(key)
        if spec is None:
            spec = specs[key] = QuestionSpec(key=key, name=name, question_type="", order=len(specs))
        spec.node_uuids.append(node.get("uuid", ""))
        add_router(spec, router, default_categories.setdefault(key, set()))
    for key, spec in specs.items():
        spec.categories = order_categories(spec.categories, default_categories[key])
    return list(specs.values())


def add_router(spec: QuestionSpec, router: dict, defaults: set[str]) -> None:
    categories = router.get("categories") or []
    by_uuid = {category.get("uuid"): category.get("name", "") for category in categories}
    cases = router.get("cases") or []
    timeout = ((router.get("wait") or {}).get("timeout") or {}).get("category_uuid")
    default = by_uuid.get(router.get("default_category_uuid"))
    if default:
        defaults.add(default)
    for category in categories:
        uuid, name = category.get("uuid"), category.get("name", "")
        if uuid == timeout or (not cases and uuid == router.get("default_category_uuid")):
            continue
        if name and name not in spec.categories:
            spec.categories.append(name)
    for case in cases:
        if case.get("type") in NUMERIC_TESTS:
            spec.rules.append(
                {
                    "category": by_uuid.get(case.get("category_uuid"), ""),
                    "test": case["type"],
                    "arguments": [str(argument) for argument in case.get("arguments") or []],
                }
            )
    spec.question_type = combine_types(spec.question_type, router_type(cases))


def router_type(cases: list[dict]) -> str:
    if not cases:
        return QuestionType.OPEN
    if all(case.get("type") in NUMERIC_TESTS for case in cases):
        return QuestionType.NUMERIC
    return QuestionType.CATEGORICAL


def combine_types(current: str, new: str) -> str:
    """A key written by several routers: open only if all are, numeric only if all
    routers with cases are numeric."""
    if not current or current == new:
        return new
    if QuestionType.CATEGORICAL in (current, new):
        return QuestionType.CATEGORICAL
    return QuestionType.NUMERIC if QuestionType.NUMERIC in (current, new) else QuestionType.OPEN


def order_categories(names: list[str], defaults: Iterable[str]) -> list[str]:
    """Router order with the catch-all ("Other") moved to the end."""
    defaults = set(defaults)
    return [n for n in names if n not in defaults] + [n for n in names if n in defaults]


def nodes_in_flow_order(nodes: list[dict]) -> list[dict]:
    """Nodes depth-first from the entry node (the first one), following exits in
    order; nodes no exit reaches come after, in the order the flow lists them."""
    by_uuid = {node.get("uuid"): node for node in nodes}
    ordered: list[dict] = []
    seen: set[str] = set()
    stack = [nodes[0]["uuid"]] if nodes and "uuid" in nodes[0] else []
    while stack:
        uuid = stack.pop()
        if uuid in seen or uuid not in by_uuid:
            continue
        seen.add(uuid)
        node = by_uuid[uuid]
        ordered.append(node)
        exits = [e.get("destination_uuid") for e in node.get("exits") or []]
        stack.extend(reversed([d for d in exits if d]))
    ordered.extend(node for node in nodes if node.get("uuid") not in seen)
    return ordered


def categories_from_results(categories: Iterable[str]) -> list[str]:
    """The categories the flows API reports for a result, as TracPro keeps them
    (used to notice a changed flow without fetching its definition)."""
    names = [n for n in categories if n not in (NO_RESPONSE, ALL_RESPONSES)]
    return order_categories(names, {OTHER})
