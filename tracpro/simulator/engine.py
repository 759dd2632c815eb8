"""A small flow engine: compiles spec 14 definitions and replays runs through them.

A run is stored as its inputs only; its path and values are recomputed here from
the flow definition, so categories always follow the cases the flow declares
(between inclusive, lt/gt strict, has_any_word on localized arguments...).
"""

import ast
import re
import unicodedata
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .clock import fmt_full

MAX_HOPS = 64
MEMO_SIZE = 200_000  # cached case and expression results per router
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_WORD = re.compile(r"\w+")

Test = Callable[[str, object], str | None]


def snakify(name: str) -> str:
    """A result key from a result name, as goflow's `utils.Snakify` makes it: trimmed,
    every run of characters that are not letters, ASCII digits or "_" becomes one "_",
    lowercased; nothing else is stripped or cut ("How many?" -> "how_many_")."""
    kept: list[str] = []
    replacing = False  # inside a run of characters that become one "_"
    for char in name.strip():
        if char == "_" or "0" <= char <= "9" or unicodedata.category(char).startswith("L"):
            kept.append("_" + char if replacing else char)
            replacing = False
        else:
            replacing = True
    return ("".join(kept) + ("_" if replacing else "")).lower()


def field_key(name: str) -> str:
    """A contact field key from its name, as the server's `ContactField.make_key`:
    runs of anything but a-z and 0-9 become "_", none at either end."""
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip().replace(" ", "_")


def format_decimal(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "+0") else text


def parse_decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _numbers(text: str):
    for found in _NUMBER.finditer(text):
        value = parse_decimal(found.group())
        if value is not None:
            yield value


def _numeric(check: Callable[[Decimal, tuple], bool]) -> Test:
    def test(text: str, args: object) -> str | None:
        for number in _numbers(text):
            if check(number, args):  # type: ignore[arg-type]
                return format_decimal(number)
        return None

    return test


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _any_word(text: str, targets: object) -> str | None:
    found = [word for word in _words(text) if word.casefold() in targets]  # type: ignore[operator]
    return " ".join(found) or None


def _all_words(text: str, targets: object) -> str | None:
    found = [word for word in _words(text) if word.casefold() in targets]  # type: ignore[operator]
    present = {word.casefold() for word in found}
    return " ".join(found) if present >= targets else None  # type: ignore[operator]


def _phrase(text: str, phrase: object) -> str | None:
    words = [w.casefold() for w in _words(text)]
    size = len(phrase)  # type: ignore[arg-type]
    for i in range(len(words) - size + 1):
        if tuple(words[i : i + size]) == phrase:
            return " ".join(_words(text)[i : i + size])
    return None


def _only_phrase(text: str, phrase: object) -> str | None:
    return " ".join(_words(text)) if tuple(w.casefold() for w in _words(text)) == phrase else None


def _has_text(text: str, _args: object) -> str | None:
    return text.strip() or None


def _beginning(text: str, prefix: object) -> str | None:
    stripped = text.strip()
    return stripped[: len(prefix)] if stripped.casefold().startswith(prefix) else None  # type: ignore[arg-type]


def _text_eq(text: str, other: object) -> str | None:
    return text if text == other else None


def _pattern(text: str, regex: object) -> str | None:
    found = regex.search(text)  # type: ignore[attr-defined]
    return found.group(0) if found else None


def _dec_args(args: Sequence[str]) -> tuple:
    return tuple(parse_decimal(a) or Decimal(0) for a in args)


TESTS: dict[str, tuple[Test, Callable[[Sequence[str]], object]]] = {
    "has_number": (_numeric(lambda n, a: True), _dec_args),
    "has_number_between": (_numeric(lambda n, a: a[0] <= n <= a[1]), _dec_args),
    "has_number_lt": (_numeric(lambda n, a: n < a[0]), _dec_args),
    "has_number_lte": (_numeric(lambda n, a: n <= a[0]), _dec_args),
    "has_number_eq": (_numeric(lambda n, a: n == a[0]), _dec_args),
    "has_number_gte": (_numeric(lambda n, a: n >= a[0]), _dec_args),
    "has_number_gt": (_numeric(lambda n, a: n > a[0]), _dec_args),
    "has_text": (_has_text, lambda a: None),
    "has_any_word": (_any_word, lambda a: frozenset(w.casefold() for w in _words(" ".join(a)))),
    "has_all_words": (_all_words, lambda a: frozenset(w.casefold() for w in _words(" ".join(a)))),
    "has_phrase": (_phrase, lambda a: tuple(w.casefold() for w in _words(" ".join(a)))),
    "has_only_phrase": (_only_phrase, lambda a: tuple(w.casefold() for w in _words(" ".join(a)))),
    "has_beginning": (_beginning, lambda a: (a[0] if a else "").casefold()),
    "is_text_eq": (_text_eq, lambda a: a[0] if a else ""),
    "has_pattern": (_pattern, lambda a: re.compile(a[0] if a else "", re.IGNORECASE)),
}


def evaluate_case(test: str, arguments: Sequence[str], text: str) -> str | None:
    """The match of one case against `text` (None when it does not match)."""
    func, prepare = TESTS.get(test, (lambda t, a: None, lambda a: None))
    return func(text, prepare(arguments))


# -- operands -----------------------------------------------------------------------------------


def _round(value: Decimal, places: Decimal = Decimal(0)) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)


class _Expression:
    """`@(...)` arithmetic over `results.<key>[.value]`, numbers and round()."""

    _OPS = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b,
    }

    def __init__(self, source: str) -> None:
        self.tree = ast.parse(source, mode="eval").body
        self.keys = sorted(
            {self._result_key(n) for n in ast.walk(self.tree) if self._is_reference(n)}
        )
        self.memo: dict[tuple, str | None] = {}

    def __call__(self, results: dict[str, str]) -> str | None:
        key = tuple(results.get(k) for k in self.keys)
        found = self.memo.get(key, self)
        if found is self:
            try:
                found = format_decimal(self._eval(self.tree, results))
            except (ArithmeticError, KeyError, TypeError, ValueError):
                found = None
            if len(self.memo) > MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = found
        return found  # type: ignore[return-value]

    @classmethod
    def _is_reference(cls, node: ast.AST) -> bool:
        try:
            cls._result_key(node)
        except ValueError:
            return False
        return True

    def _eval(self, node: ast.AST, results: dict[str, str]) -> Decimal:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return Decimal(str(node.value))
        if isinstance(node, ast.BinOp) and type(node.op) in self._OPS:
            left, right = self._eval(node.left, results), self._eval(node.right, results)
            return self._OPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self._eval(node.operand, results)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "round":
            return _round(*(self._eval(arg, results) for arg in node.args))
        key = self._result_key(node)
        value = parse_decimal(results[key])
        if value is None:
            raise ValueError(key)
        return value

    @staticmethod
    def _result_key(node: ast.AST) -> str:
        if isinstance(node, ast.Attribute) and node.attr == "value":
            node = node.value
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "results"
        ):
            return node.attr
        raise ValueError("unsupported expression")


def compile_operand(operand: str) -> Callable[[str | None, dict[str, str]], str | None]:
    if operand in ("@input", "@input.text"):
        return lambda text, results: text
    if operand.startswith("@results."):
        key = operand.removeprefix("@results.").removesuffix(".value")
        return lambda text, results: results.get(key)
    if operand.startswith("@(") and operand.endswith(")"):
        expression = _Expression(operand[2:-1])
        return lambda text, results: expression(results)
    return lambda text, results: operand


# -- compiled flows -----------------------------------------------------------------------------


class Router:
    __slots__ = (
        "cases",
        "categories",
        "default",
        "key",
        "memo",
        "name",
        "operand",
        "timeout_category",
        "timeout_us",
        "wait",
    )

    def __init__(self, spec: dict, localization: dict, exit_index: dict[str, int]) -> None:
        self.name: str | None = spec.get("result_name") or None
        self.key = snakify(self.name) if self.name else None
        cat_index = {c["uuid"]: i for i, c in enumerate(spec["categories"])}
        self.categories = [(c["name"], exit_index[c["exit_uuid"]]) for c in spec["categories"]]
        self.default = cat_index[spec["default_category_uuid"]]
        self.operand = compile_operand(spec.get("operand", "@input"))
        self.cases = [self._case(c, cat_index, localization) for c in spec.get("cases", [])]
        wait = spec.get("wait") or {}
        self.wait = wait.get("type") == "msg"
        timeout = wait.get("timeout")
        self.timeout_us = int(timeout["seconds"]) * 1_000_000 if timeout else 0
        self.timeout_category = cat_index[timeout["category_uuid"]] if timeout else None
        self.memo: dict[tuple[str, str | None], tuple[int, str]] = {}

    @staticmethod
    def _case(case: dict, cat_index: dict[str, int], localization: dict) -> tuple:
        func, prepare = TESTS.get(case["type"], (lambda t, a: None, lambda a: None))
        by_lang = {None: prepare(case.get("arguments", []))}
        for lang, items in localization.items():
            args = items.get(case["uuid"], {}).get("arguments")
            if args:
                by_lang[lang] = prepare(args)
        return func, by_lang, cat_index[case["category_uuid"]]

    def route(self, text: str, lang: str | None) -> tuple[int, str]:
        """(category index, match) of the first matching case, else the default."""
        routed = self.memo.get((text, lang))
        if routed is None:
            routed = self._route(text, lang)
            if len(self.memo) > MEMO_SIZE:
                self.memo.clear()
            self.memo[(text, lang)] = routed
        return routed

    def _route(self, text: str, lang: str | None) -> tuple[int, str]:
        for func, by_lang, category in self.cases:
            args = by_lang.get(lang, by_lang[None])
            found = func(text, args)
            if found is not None:
                return category, found
        return self.default, text


class ActionResult:
    """A `set_run_result` action: a result no router writes (goflow's SetRunResult)."""

    __slots__ = ("category", "key", "name", "value")

    def __init__(self, spec: dict) -> None:
        self.name = spec["name"]
        self.key = snakify(self.name)
        self.value = compile_operand(spec.get("value", ""))
        self.category = spec.get("category") or ""


class Node:
    __slots__ = ("exits", "results", "router", "uuid")

    def __init__(
        self,
        uuid: str,
        router: Router | None,
        exits: list[int | None],
        results: list[ActionResult] | None = None,
    ) -> None:
        self.uuid = uuid
        self.router = router
        self.exits = exits
        self.results = results or []


class Walk:
    """The replay of one run: path, values and where it stopped.

    `values` maps a result key to (name, value, category, node index, time, input):
    `input` is the text the contact sent, None for a timeout or a computed result.
    """

    __slots__ = ("completed", "consumed", "end", "input_times", "path", "responded", "values")

    def __init__(self) -> None:
        self.path: list[tuple[int, int]] = []
        self.values: dict[str, tuple[str, str, str, int, int, str | None]] = {}
        self.input_times: list[int] = []
        self.consumed = 0
        self.responded = False
        self.completed = False
        self.end = 0


def gap_us(salt: int, k: int) -> int:
    """How long a contact takes to answer wait number `k` (15 s to ~4 h, skewed short)."""
    h = (salt * 2654435761 + (k + 1) * 40503 * 97) & 0xFFFFFFFF
    u = h / 4294967296.0
    return int((15 + u * u * u * 14_400) * 1_000_000) + h % 1_000_000


def step_us(salt: int, hop: int) -> int:
    return 120_000 + ((salt + 1) * 7919 * (hop + 3)) % 880_000


class CompiledFlow:
    """A flow definition ready for replay."""

    def __init__(self, definition: dict) -> None:
        self.uuid = definition["uuid"]
        self.name = definition["name"]
        self.expires_us = int(definition.get("expire_after_minutes", 0)) * 60_000_000
        localization = definition.get("localization", {})
        nodes = definition["nodes"]
        node_index = {n["uuid"]: i for i, n in enumerate(nodes)}
        self.nodes: list[Node] = []
        for spec in nodes:
            exit_index = {e["uuid"]: i for i, e in enumerate(spec["exits"])}
            router = Router(spec["router"], localization, exit_index) if "router" in spec else None
            exits = [node_index.get(e.get("destination_uuid")) for e in spec["exits"]]
            results = [
                ActionResult(action)
                for action in spec.get("actions", [])
                if action.get("type") == "set_run_result"
            ]
            self.nodes.append(Node(spec["uuid"], router, exits, results))
        self.node_uuids = [n.uuid for n in self.nodes]
        self.waits = [n.router for n in self.nodes if n.router and n.router.wait]

    def results(self) -> list[dict]:
        """The flows API `results`: one entry per key, in node order."""
        found: dict[str, dict] = {}

        def add(key: str, name: str, categories: list[str], node: str) -> None:
            entry = found.setdefault(
                key, {"key": key, "name": name, "categories": [], "node_uuids": []}
            )
            entry["categories"].extend(c for c in categories if c not in entry["categories"])
            if node not in entry["node_uuids"]:
                entry["node_uuids"].append(node)

        for node in self.nodes:
            for action in node.results:
                add(
                    action.key, action.name, [action.category] if action.category else [], node.uuid
                )
            router = node.router
            if router is not None and router.key:
                add(router.key, router.name, [name for name, _exit in router.categories], node.uuid)
        return list(found.values())

    def walk(
        self,
        inputs: Sequence[str | None],
        start: int,
        lang: str | None,
        salt: int,
        times: Sequence[int] | None = None,
        until: int | None = None,
    ) -> Walk:
        """Replay a run from `start` consuming `inputs` (None = the wait timed out).

        `times` gives the arrival time of each input (live answers); otherwise the
        seeded gap is used. Inputs arriving after `until` are not consumed yet.
        """
        walk = Walk()
        path, values = walk.path, walk.values
        results: dict[str, str] = {}
        t, index, last_text = start, 0, None
        for hop in range(MAX_HOPS):
            node = self.nodes[index]
            path.append((index, t))
            router = node.router
            if router is None:
                for action in node.results:
                    value = action.value(last_text, results) or ""
                    values[action.key] = (action.name, value, action.category, index, t, None)
                    results[action.key] = value
                t += step_us(salt, hop)
                dest = node.exits[0] if node.exits else None
            else:
                if router.wait:
                    k = walk.consumed
                    if k >= len(inputs):
                        walk.end = t
                        return walk
                    text = inputs[k]
                    if text is None and router.timeout_category is None:
                        walk.end = t
                        return walk
                    if times is not None and k < len(times):
                        arrival = times[k]
                    elif text is None:
                        arrival = t + router.timeout_us
                    else:
                        arrival = t + gap_us(salt, k)
                    if until is not None and arrival > until:
                        walk.end = t
                        return walk
                    walk.consumed += 1
                    walk.input_times.append(arrival)
                    t = arrival
                    if text is None:
                        # goflow's RouteTimeout: the timeout category, and as the value the
                        # time the wait timed out (`dates.FormatISO`); goflow since
                        # b606cb3c (June 2025) writes "" instead, older runs keep the time.
                        category, match = router.timeout_category, fmt_full(arrival)
                    else:
                        walk.responded = True
                        last_text = text
                        category, match = router.route(text, lang)
                else:
                    operand = router.operand(last_text, results)
                    if operand is None:
                        category, match = router.default, ""
                    else:
                        category, match = router.route(operand, lang)
                if router.key:
                    cat_name = router.categories[category][0]
                    given = text if router.wait else None
                    values[router.key] = (router.name, match, cat_name, index, t, given)
                    results[router.key] = match
                dest = node.exits[router.categories[category][1]]
                t += step_us(salt, hop)
            if dest is None:
                walk.completed = True
                walk.end = t
                return walk
            index = dest
        walk.end = t
        return walk
