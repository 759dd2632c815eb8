"""Questions from a flow definition (flow spec 13/14, as `definitions.json` exports it).

Every result a flow writes is a question: a "wait for response" router with a
result name, a router without a wait that computes a value ("split by
expression"), and a `set_run_result` action. One result key may be written by
several nodes.

- type: numeric when every case of its routers is a numeric test, open-ended
  when the routers have no cases ("All Responses"), categorical otherwise. Voice
  flows' waits say what they wait for (their `hint`): a menu (one digit) is
  categorical, a keypad entry numeric, a recording a recording (its URL). A result
  set by an action is open-ended unless its value is a number or arithmetic;
- categories: router category names in router order, "Other" last; the wait's
  timeout category (however it is named) and "All Responses" are not categories;
- timeout_categories: the names of the waits' timeout categories: a result in one
  of them is a timeout (goflow stores the time it timed out as its value), never
  an answer;
- rules: the numeric tests with their arguments, in case order, so an arbitrary
  value (such as an average) can be categorised like RapidPro would.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from tracpro.polls.models import QuestionType
from tracpro.polls.rules import NUMBER

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
# The name RapidPro gives a wait's timeout category unless the flow renames it; used
# when a question's definition is not at hand.
NO_RESPONSE = "No Response"


@dataclass
class QuestionSpec:
    key: str
    name: str
    question_type: str
    categories: list[str] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)
    node_uuids: list[str] = field(default_factory=list)
    timeout_categories: list[str] = field(default_factory=list)
    order: int = 0


def result_key(name: str) -> str:
    """RapidPro's key for a result name, as goflow's `utils.Snakify` makes it: each run
    of characters other than letters, ASCII digits and "_" becomes one "_", then
    lowercase; nothing is stripped or cut ("How many?" -> "how_many_")."""
    out: list[object] = []
    for char in name.strip():
        kept = char == "_" or (char.isascii() and char.isdigit())
        if kept or unicodedata.category(char)[0] == "L":
            out.append(char)
        elif not out or out[-1] is not SEPARATOR:
            out.append(SEPARATOR)
    return "".join("_" if part is SEPARATOR else str(part) for part in out).lower()


SEPARATOR = object()  # one "_" for a run of other characters


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

    def spec_for(node: dict, name: str, only: bool) -> QuestionSpec:
        # RapidPro's own key for the node wins, where the node writes one result only
        key = (only and result_keys.get(node.get("uuid", ""))) or result_key(name)
        if key not in specs:
            specs[key] = QuestionSpec(key=key, name=name, question_type="", order=len(specs))
        spec = specs[key]
        if node.get("uuid", "") not in spec.node_uuids:
            spec.node_uuids.append(node.get("uuid", ""))
        return spec

    for node in nodes_in_flow_order(definition.get("nodes") or []):
        actions = [
            action
            for action in node.get("actions") or []
            if action.get("type") == "set_run_result" and action.get("name")
        ]
        router = node.get("router") or {}
        only = len(actions) + bool(router.get("result_name")) == 1
        for action in actions:
            spec = spec_for(node, action["name"], only)
            spec.question_type = combine_types(spec.question_type, action_type(action))
        if router.get("result_name"):
            spec = spec_for(node, router["result_name"], only)
            add_router(spec, router, default_categories.setdefault(spec.key, set()))
    for key, spec in specs.items():
        spec.categories = order_categories(spec.categories, default_categories.get(key, ()))
    return list(specs.values())


ARITHMETIC = re.compile(r"^@\([^\"']*[-+*/][^\"']*\)$")


def action_type(action: dict) -> str:
    """A `set_run_result` action's value: a number or arithmetic `@(...)` is numeric."""
    value = str(action.get("value") or "").strip()
    numeric = NUMBER.fullmatch(value) is not None or ARITHMETIC.match(value) is not None
    return QuestionType.NUMERIC if numeric else QuestionType.OPEN


def add_router(spec: QuestionSpec, router: dict, defaults: set[str]) -> None:
    categories = router.get("categories") or []
    by_uuid = {category.get("uuid"): category.get("name", "") for category in categories}
    cases = router.get("cases") or []
    wait = router.get("wait") or {}
    timeout = (wait.get("timeout") or {}).get("category_uuid")
    if by_uuid.get(timeout) and by_uuid[timeout] not in spec.timeout_categories:
        spec.timeout_categories.append(by_uuid[timeout])
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
    spec.question_type = combine_types(spec.question_type, router_type(cases, wait.get("hint")))


def router_type(cases: list[dict], hint: dict | None = None) -> str:
    """What a router's result is; a voice wait's hint says what it waits for."""
    kind = (hint or {}).get("type")
    if kind == "audio":
        return QuestionType.RECORDING
    if kind == "digits":
        menu = (hint or {}).get("count") == 1
        return QuestionType.CATEGORICAL if menu else QuestionType.NUMERIC
    if not cases:
        return QuestionType.OPEN
    if all(case.get("type") in NUMERIC_TESTS for case in cases):
        return QuestionType.NUMERIC
    return QuestionType.CATEGORICAL


def combine_types(current: str, new: str) -> str:
    """A key written by several routers: open only if all are, numeric only if all
    routers with cases are numeric, a recording only if all are."""
    if not current or current == new:
        return new
    if QuestionType.RECORDING in (current, new):
        return QuestionType.OPEN
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
